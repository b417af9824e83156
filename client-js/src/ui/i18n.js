// @ts-check
/**
 * The panel's strings, English and French, with English as the fallback for a missing key
 * or an unknown language.
 *
 * Public API:
 *   STRINGS                  {en: {...}, fr: {...}}
 *   pickLanguage(tags)       first supported language among BCP 47 tags, else 'en'
 *   translator(lang) → t     t(key, vars?) with {name} placeholders
 *   leftText(t, reason)      the message for a `left` of any reason
 *
 * @module ui/i18n
 */

export const STRINGS = {
  en: {
    watchParty: 'Watch party',
    close: 'Close',
    createRoom: 'Create room',
    joinRoom: 'Join',
    roomCode: 'Room code',
    codePlaceholder: 'ABCDEF',
    yourRoom: 'Room code',
    copyCode: 'Copy code',
    copyLink: 'Copy invite link',
    copied: 'Copied',
    leave: 'Leave',
    members: 'Members',
    host: 'host',
    you: 'you',
    makeHost: 'Make host',
    kick: 'Remove',
    buffering: 'buffering',
    disconnected: 'reconnecting',
    rtt: 'RTT {ms} ms',
    drift: 'drift {ms} ms',
    chat: 'Chat',
    chatPlaceholder: 'Say something…',
    send: 'Send',
    reactions: 'Reactions',
    syncIdle: 'Not in a room',
    syncInSync: 'In sync',
    syncSyncing: 'Syncing…',
    syncWaiting: 'Waiting for {names}',
    syncBlocked: 'Press play to join the party (the browser blocked autoplay)',
    connConnecting: 'Connecting…',
    connReconnecting: 'Connection lost, reconnecting…',
    connClosed: 'Disconnected',
    err_host_only: 'Only the host controls playback in this room.',
    err_not_in_room: 'Join or create a room first.',
    err_room_not_found: 'No room with that code. Check it and try again.',
    err_room_full: 'That room is full.',
    err_unreachable: 'The watch-party server cannot be reached.',
    err_timeout: 'The watch-party server did not answer. Try again.',
    err_forbidden: 'You are not allowed to do that.',
    err_unauthorized: 'Your sign-in was refused by the watch-party server. Reload the page.',
    err_rate_limited: 'Too many attempts. Wait a minute and try again.',
    err_invalid_code: 'Room codes have six letters or digits.',
    err_too_large: 'That message is too long.',
    err_unavailable: 'A server did not answer. Try again in a moment.',
    err_generic: 'Something went wrong: {message}',
    left_kicked: 'The host removed you from the room.',
    left_room_closed: 'The room was closed.',
    left_left: 'You left the room.',
    left_other: 'You are no longer in the room.',
    hostIsNow: '{name} is now the host.',
    // "Watch on…": a remote seat on one of the member's own Jellyfin sessions (remote/).
    watchOn: 'Watch on…',
    watchOnDevices: 'Your devices',
    watchOnLoading: 'Looking for your devices…',
    watchOnNone: 'None of your other Jellyfin apps can be controlled right now. Open the Jellyfin app on your TV, signed in as you.',
    watchHere: 'Stop watching on the TV',
    watchingOn: 'On {device}: {status}',
    remoteSeat: 'TV',
    remoteStatusIdle: 'waiting for a film',
    remoteStatusLoading: 'starting…',
    remoteStatusSyncing: 'syncing…',
    remoteStatusInSync: 'in sync',
    remoteStatusClose: 'nearly in sync',
    remoteStatusNotResponding: 'not responding, retrying',
    remoteStatusGone: 'the app was closed',
    remoteStatusRefused: 'not your session',
    remoteStatusSignedOut: 'signed out',
    remoteStatusBadItem: 'this film is not on your Jellyfin server',
    remoteStatusLimited: 'as close as this TV gets: ±{ms} ms',
    err_not_your_session: 'That Jellyfin session is not one of yours: Matinee only plays on devices signed in as you.',
    err_remote_signed_out: 'Jellyfin refused your sign-in. Sign in again to watch on another device.',
    err_remote_forbidden: 'Jellyfin does not allow you to control that device.',
    err_remote_unreachable: 'Jellyfin cannot be reached to list your devices.',
    err_remote_gone: 'That device is no longer connected to Jellyfin.',
    err_remote_failed: 'Jellyfin could not pass the command on.',
    err_remote_bad_item: 'This film is not on your Jellyfin server, so a TV cannot play it.',
    // Rights, ready check and queue (issue 23, server-side party features).
    rightPlayback: 'Playback',
    rightMedia: 'Item',
    rightPlaybackGrant: 'Let {name} play, pause and seek',
    rightMediaGrant: 'Let {name} change the film',
    rightPlaybackBadge: 'controls playback',
    rightMediaBadge: 'changes the film',
    yourRightsHost: 'You are the host: you control the room.',
    yourRightsShared: 'Everyone controls playback in this room.',
    yourRightsBoth: 'The host lets you control playback and change the film.',
    yourRightsPlayback: 'The host lets you play, pause and seek.',
    yourRightsMedia: 'The host lets you change the film.',
    yourRightsNone: 'The host controls playback.',
    err_media_right: 'Only the host, or someone the host allows, changes the film in this room.',
    readyAsk: 'Ready?',
    readyAskTitle: 'Ask everyone if they are ready; the film starts when all are, or in 30 s',
    readyYes: 'I’m ready',
    readyNo: 'Not yet',
    readyProgress: 'Ready check: {ready} of {total} ready',
    readyBadge: 'ready',
    notReadyBadge: 'not ready',
    readyAllReady: 'Everyone is ready.',
    readyTimeout: 'Ready check over; no answer from {names}.',
    readyStarted: 'Started without waiting for the ready check.',
    readyCancelled: 'Ready check cancelled.',
  },
  fr: {
    watchParty: 'Séance partagée',
    close: 'Fermer',
    createRoom: 'Créer un salon',
    joinRoom: 'Rejoindre',
    roomCode: 'Code du salon',
    yourRoom: 'Code du salon',
    copyCode: 'Copier le code',
    copyLink: 'Copier le lien d’invitation',
    copied: 'Copié',
    leave: 'Quitter',
    members: 'Participants',
    host: 'hôte',
    you: 'vous',
    makeHost: 'Nommer hôte',
    kick: 'Exclure',
    buffering: 'chargement',
    disconnected: 'reconnexion',
    rtt: 'RTT {ms} ms',
    drift: 'écart {ms} ms',
    chat: 'Discussion',
    chatPlaceholder: 'Écrire un message…',
    send: 'Envoyer',
    reactions: 'Réactions',
    syncIdle: 'Hors salon',
    syncInSync: 'Synchronisé',
    syncSyncing: 'Synchronisation…',
    syncWaiting: 'En attente de {names}',
    syncBlocked: 'Appuyez sur lecture pour suivre la séance (le navigateur a bloqué la lecture automatique)',
    connConnecting: 'Connexion…',
    connReconnecting: 'Connexion perdue, reconnexion…',
    connClosed: 'Déconnecté',
    err_host_only: 'Seul l’hôte contrôle la lecture dans ce salon.',
    err_not_in_room: 'Rejoignez ou créez d’abord un salon.',
    err_room_not_found: 'Aucun salon avec ce code. Vérifiez-le et réessayez.',
    err_room_full: 'Ce salon est complet.',
    err_unreachable: 'Le serveur de séances partagées est injoignable.',
    err_timeout: 'Le serveur de séances partagées n’a pas répondu. Réessayez.',
    err_forbidden: 'Vous n’avez pas le droit de faire cela.',
    err_unauthorized: 'Le serveur de séances partagées a refusé votre connexion. Rechargez la page.',
    err_rate_limited: 'Trop de tentatives. Attendez une minute et réessayez.',
    err_invalid_code: 'Un code de salon compte six lettres ou chiffres.',
    err_too_large: 'Ce message est trop long.',
    err_unavailable: 'Un serveur n’a pas répondu. Réessayez dans un instant.',
    err_generic: 'Une erreur est survenue : {message}',
    left_kicked: 'L’hôte vous a exclu du salon.',
    left_room_closed: 'Le salon a été fermé.',
    left_left: 'Vous avez quitté le salon.',
    left_other: 'Vous n’êtes plus dans le salon.',
    hostIsNow: '{name} est maintenant l’hôte.',
    watchOn: 'Regarder sur…',
    watchOnDevices: 'Vos appareils',
    watchOnLoading: 'Recherche de vos appareils…',
    watchOnNone: 'Aucune autre de vos applications Jellyfin n’est pilotable pour l’instant. Ouvrez l’application Jellyfin de votre téléviseur, connectée à votre compte.',
    watchHere: 'Arrêter sur le téléviseur',
    watchingOn: 'Sur {device} : {status}',
    remoteSeat: 'TV',
    remoteStatusIdle: 'en attente d’un film',
    remoteStatusLoading: 'démarrage…',
    remoteStatusSyncing: 'synchronisation…',
    remoteStatusInSync: 'synchronisé',
    remoteStatusClose: 'presque synchronisé',
    remoteStatusNotResponding: 'ne répond pas, nouvel essai',
    remoteStatusGone: 'l’application a été fermée',
    remoteStatusRefused: 'session d’un autre compte',
    remoteStatusSignedOut: 'déconnecté',
    remoteStatusBadItem: 'ce film n’est pas sur votre serveur Jellyfin',
    remoteStatusLimited: 'au plus près pour ce téléviseur : ±{ms} ms',
    err_not_your_session: 'Cette session Jellyfin n’est pas la vôtre : Matinee ne lit que sur des appareils connectés à votre compte.',
    err_remote_signed_out: 'Jellyfin a refusé votre connexion. Reconnectez-vous pour regarder sur un autre appareil.',
    err_remote_forbidden: 'Jellyfin ne vous permet pas de piloter cet appareil.',
    err_remote_unreachable: 'Jellyfin est injoignable : impossible de lister vos appareils.',
    err_remote_gone: 'Cet appareil n’est plus connecté à Jellyfin.',
    err_remote_failed: 'Jellyfin n’a pas pu transmettre la commande.',
    err_remote_bad_item: 'Ce film n’est pas sur votre serveur Jellyfin : un téléviseur ne peut pas le lire.',
    // Droits, appel « prêts ? » et file d’attente (ticket 23, côté serveur).
    rightPlayback: 'Lecture',
    rightMedia: 'Film',
    rightPlaybackGrant: 'Permettre à {name} de lancer, mettre en pause et déplacer la lecture',
    rightMediaGrant: 'Permettre à {name} de changer de film',
    rightPlaybackBadge: 'contrôle la lecture',
    rightMediaBadge: 'change le film',
    yourRightsHost: 'Vous êtes l’hôte : vous contrôlez le salon.',
    yourRightsShared: 'Tout le monde contrôle la lecture dans ce salon.',
    yourRightsBoth: 'L’hôte vous permet de contrôler la lecture et de changer de film.',
    yourRightsPlayback: 'L’hôte vous permet de lancer, mettre en pause et déplacer la lecture.',
    yourRightsMedia: 'L’hôte vous permet de changer de film.',
    yourRightsNone: 'L’hôte contrôle la lecture.',
    err_media_right: 'Seul l’hôte, ou une personne qu’il autorise, change le film dans ce salon.',
    readyAsk: 'Prêts ?',
    readyAskTitle: 'Demander à chacun s’il est prêt ; le film démarre quand tous le sont, ou dans 30 s',
    readyYes: 'Je suis prêt',
    readyNo: 'Pas encore',
    readyProgress: 'Appel : {ready} sur {total} prêts',
    readyBadge: 'prêt',
    notReadyBadge: 'pas prêt',
    readyAllReady: 'Tout le monde est prêt.',
    readyTimeout: 'Appel terminé ; pas de réponse de {names}.',
    readyStarted: 'Lancé sans attendre la fin de l’appel.',
    readyCancelled: 'Appel annulé.',
  },
};

/**
 * @param {readonly string[]} tags e.g. navigator.languages
 * @returns {'en'|'fr'}
 */
export function pickLanguage(tags) {
  for (const tag of tags || []) {
    const base = String(tag).toLowerCase().split(/[-_]/)[0];
    if (base === 'en' || base === 'fr') return base;
  }
  return 'en';
}

/**
 * @param {string} lang
 * @returns {(key: string, vars?: Record<string, string|number>) => string}
 */
export function translator(lang) {
  const table = /** @type {Record<string, string>} */ (STRINGS[/** @type {'en'|'fr'} */ (lang)] || STRINGS.en);
  const en = /** @type {Record<string, string>} */ (STRINGS.en);
  return (key, vars = {}) => {
    const s = table[key] ?? en[key] ?? key;
    return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  };
}

/**
 * What to tell someone who is no longer in the room, for any `left.reason` (the protocol may
 * add reasons; a raw key must never reach the screen).
 * @param {(key: string) => string} t a translator
 * @param {string} reason
 */
export function leftText(t, reason) {
  const key = `left_${reason}`;
  const text = t(key);
  return text === key ? t('left_other') : text;
}
