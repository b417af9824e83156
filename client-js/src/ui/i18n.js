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
