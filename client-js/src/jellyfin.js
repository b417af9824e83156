// @ts-check
/**
 * The entry point inside jellyfin-web. loader.js (a classic script the Jellyfin plugin injects
 * into index.html) defines `window.MatineePlugin`; jellyfin-web's pluginManager finds that
 * name in config.json's `plugins`, awaits it, calls it, and constructs the class it returns
 * with its own modules. That class comes from `createPluginClass` here.
 *
 * Shape relied on — jellyfin-web src/components/pluginManager.js, `loadPlugin`, identical in
 * v10.10.7 and v10.11.x:
 *     const pluginDefinition = await window[pluginSpec];        // must be a function
 *     const PluginClass = await pluginDefinition();             // must be a class
 *     plugin = new PluginClass({ events, loading, appSettings, playbackManager, globalize,
 *                                appHost, appRouter, inputManager, toast, confirm, dashboard,
 *                                ServerConnections });
 *   then it registers the instance (by `id`), loads `getTranslations()` through globalize,
 *   and Promise.all()s every plugin: so the constructor must be quick and must never throw.
 *   Members per src/types/plugin.ts (10.11): name, id, type, priority. Our `type` is one no
 *   jellyfin-web code asks for (not 'mediaplayer', 'screensaver', 'syncplay',
 *   'preplayintercept'), so nothing else treats us as one of those.
 *
 * Jellyfin calls made here: ServerConnections.currentApiClient(), apiClient.getUrl(path),
 * (next-up.js: the item, Shows/NextUp and Shows/{id}/Episodes, for the queue's next episode),
 * apiClient.getJSON(url) (jellyfin-apiclient: fetch with the user's
 * `Authorization: MediaBrowser Token="…"` header), apiClient.serverId(),
 * globalize.getCurrentLocale() (src/lib/globalize/index.js). Player calls: players/jellyfin.js.
 *
 * Nothing connects until the user opens the panel (or follows an invite link): users who never
 * use watch parties cost the session server nothing.
 *
 * Public API:
 *   createPluginClass({version?}) → the class jellyfin-web constructs
 *   startFallback({version?})     no pluginManager hook (config.json not rewritten): drive
 *                                 `video.htmlvideoplayer` directly, credentials via
 *                                 window.ApiClient
 *   parseConfig(json) / wsUrlFrom(serverUrl) / inviteUrlFrom(href, code)   (exported for tests)
 *
 * @module jellyfin
 */

import { Manager } from './core/manager.js';
import { JellyfinPlayer } from './players/jellyfin.js';
import { HtmlVideoPlayer } from './players/html-video.js';
import { WatchPartyPanel } from './ui/panel.js';
import { setOsdButtonsExpanded, watchVideoOsd } from './ui/osd.js';
import { pickLanguage, translator } from './ui/i18n.js';
import { normalizeRoomCode } from './core/protocol.js';
import { remoteSeatsFor } from './remote/remote-seats.js';
import { NextUp, nextEpisode } from './next-up.js';

const INVITE_PARAM = 'matinee';

/**
 * Reads GET /Matinee/Config, accepting PascalCase (ASP.NET default) or camelCase keys.
 * @param {any} json
 * @returns {{serverUrl: string, version: string, defaultControl: 'host'|'shared', defaultWaitForAll: boolean}}
 */
export function parseConfig(json) {
  const get = (k) => (json && (json[k] ?? json[k[0].toLowerCase() + k.slice(1)]));
  const serverUrl = get('ServerUrl');
  if (typeof serverUrl !== 'string' || !serverUrl) throw new Error('Matinee: the session server URL is not configured');
  const control = get('DefaultControl') === 'shared' ? 'shared' : 'host';
  const wait = get('DefaultWaitForAll');
  return { serverUrl, version: String(get('Version') ?? ''), defaultControl: control, defaultWaitForAll: wait !== false };
}

/**
 * The WebSocket URL from the configured server URL: http→ws, https→wss, `/ws` appended
 * unless the path already ends with it.
 * @param {string} serverUrl
 */
export function wsUrlFrom(serverUrl) {
  const u = new URL(serverUrl);
  if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`Matinee: unsupported server URL ${serverUrl}`);
  if (!/\/ws\/?$/.test(u.pathname)) u.pathname = `${u.pathname.replace(/\/$/, '')}/ws`;
  u.search = '';
  u.hash = '';
  return u.href;
}

/**
 * The invite link for a room: jellyfin-web's own address with only `?matinee=CODE`. The
 * current URL is not reused: its `#/video` route shows an empty player when opened cold, and
 * whatever else it carries is not for sharing.
 * @param {string} href the current page's URL
 * @param {string} code
 */
export function inviteUrlFrom(href, code) {
  const here = new URL(href);
  const u = new URL(here.pathname, here.origin);
  u.searchParams.set(INVITE_PARAM, code);
  return u.href;
}

/** The room code from an invite link (`?matinee=CODE`, in the query or inside the #/ route). */
function inviteCode() {
  const fromSearch = new URLSearchParams(location.search).get(INVITE_PARAM);
  const hashQuery = location.hash.includes('?') ? location.hash.slice(location.hash.indexOf('?') + 1) : '';
  const fromHash = new URLSearchParams(hashQuery).get(INVITE_PARAM);
  return normalizeRoomCode(fromSearch || fromHash || '');
}

/**
 * When whoever controls the room starts another item in jellyfin-web (its own details page,
 * "play next", the queue), the room follows: `set_media` with that item, then `play` if it
 * was playing. The server answers set_media with a paused state; the play that follows is
 * scheduled like any other start, so guests switch and start together. A guest's player
 * starting the room's own item (the player following the room) sends nothing.
 * @param {Manager} manager
 */
function followHostItem(manager) {
  const player = /** @type {any} */ (manager.player);
  if (typeof player.on !== 'function') return;
  player.on('media', (/** @type {{id: string}} */ media) => {
    const room = manager.room;
    if (!room || !manager.can('media') || room.state?.media?.id === media.id) return;
    let playing = false;
    let position = 0;
    try { playing = !player.isPaused(); position = Math.max(0, player.getPosition()); } catch { /* not loaded yet */ }
    if (!manager.setMedia(media, position)) return;
    if (!playing) return;
    const off = manager.on('state', (/** @type {any} */ st) => {
      if (st?.media?.id !== media.id) return;
      off();
      if (st.reason === 'media') manager.play();
    });
    // The answer comes within the request timeout or not at all.
    setTimeout(off, 10_000);
  });
}

/**
 * Where a member's own audio and subtitle choice is kept: localStorage, per Jellyfin user, so
 * that it survives reloads and applies in the tab an invite link opens.
 * @param {any} apiClient
 */
function trackStoreFor(apiClient) {
  const key = () => `matinee.tracks.${apiClient.getCurrentUserId?.() || 'anonymous'}`;
  return {
    get: () => { try { return localStorage.getItem(key()); } catch { return null; } },
    set: (/** @type {string} */ v) => { try { localStorage.setItem(key(), v); } catch { /* storage off */ } },
  };
}

/** The room this tab is in, kept across reloads (sessionStorage: per tab, gone with it). */
const storedRoom = {
  get() {
    try { return normalizeRoomCode(sessionStorage.getItem('matinee.room') || ''); } catch { return ''; }
  },
  /** @param {string|null} code */
  set(code) {
    try {
      if (code) sessionStorage.setItem('matinee.room', code);
      else sessionStorage.removeItem('matinee.room');
    } catch { /* storage unavailable: no rejoin after a reload */ }
  },
};

const browserTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h),
};

/**
 * Builds the watch-party client once, lazily.
 * @param {{getApiClient: () => any, makePlayer: (apiClient: any) => any, lang: string, version: string,
 *   notify?: (text: string) => void}} o
 */
function makeApp({ getApiClient, makePlayer, lang, version, notify = (text) => console.error(text) }) {
  const t = translator(lang);
  /** @type {{manager: Manager, panel: WatchPartyPanel}|null} */
  let app = null;
  /** @type {Promise<typeof app>|null} */
  let starting = null;

  /**
   * GET /Matinee/Config once per signed-in user (a Jellyfin request, not the session server):
   * it decides whether the buttons show at all. A failure is retried after a while.
   * @type {{token: string, at: number, config?: ReturnType<typeof parseConfig>, error?: any}|null}
   */
  let configState = null;
  /** @type {Promise<ReturnType<typeof parseConfig>>|null} */
  let configLoading = null;
  /** @type {{stop: () => void, refresh: () => void}|null} */
  let buttons = null;
  function loadConfig(apiClient) {
    const token = String(apiClient.accessToken?.() || '');
    if (configState && configState.token === token && (configState.config || Date.now() - configState.at < 30_000)) {
      return configState.config ? Promise.resolve(configState.config) : Promise.reject(configState.error);
    }
    if (!configLoading) {
      configLoading = apiClient.getJSON(apiClient.getUrl('Matinee/Config')).then(parseConfig).then(
        (config) => { configState = { token, at: Date.now(), config }; return config; },
        (error) => { configState = { token, at: Date.now(), error }; throw error; },
      ).finally(() => { configLoading = null; buttons?.refresh(); });
    }
    return configLoading;
  }

  /** Buttons show for a signed-in user when the plugin has a session server configured. */
  function available() {
    const apiClient = getApiClient();
    if (!apiClient?.accessToken?.()) return false;
    loadConfig(apiClient).catch(() => {}); // answers from the cache, or starts the request
    return Boolean(configState?.config && configState.token === String(apiClient.accessToken()));
  }

  async function start() {
    const apiClient = getApiClient();
    if (!apiClient) throw new Error('Matinee: not signed in to Jellyfin');
    const config = await loadConfig(apiClient);
    const manager = new Manager({
      url: wsUrlFrom(config.serverUrl),
      createSocket: (url) => new WebSocket(url),
      now: () => performance.timeOrigin + performance.now(),
      timers: browserTimers,
      player: makePlayer(apiClient),
      // A fresh short-lived token for every hello: tokens never sit in a URL or a log.
      credentials: async () => {
        const r = await apiClient.getJSON(apiClient.getUrl('Matinee/Token'));
        const token = r && (r.Token ?? r.token);
        if (typeof token !== 'string' || !token) throw new Error('no token');
        return { token };
      },
      client: { name: 'matinee-jellyfin-web', version },
      resumeStore: {
        get: () => sessionStorage.getItem('matinee.resume'),
        set: (v) => { if (v) sessionStorage.setItem('matinee.resume', v); else sessionStorage.removeItem('matinee.resume'); },
      },
    });
    followHostItem(manager);
    manager.on('room', (/** @type {{code: string}} */ room) => storedRoom.set(room.code));
    manager.on('left', () => storedRoom.set(null));
    const origCreate = manager.createRoom.bind(manager);
    // keepPlayback: a host opens the room over the film they are watching; without it the
    // new room (paused at 0) sent their player back to the start.
    manager.createRoom = (opts = {}) => origCreate({ settings: { control: config.defaultControl, wait_for_all: config.defaultWaitForAll }, keepPlayback: true, ...opts });
    // The episode after the current one (Jellyfin's next up), queued by default by the host.
    const nextUp = new NextUp({
      manager,
      lookup: (id) => nextEpisode((path) => apiClient.getJSON(apiClient.getUrl(path)), String(apiClient.getCurrentUserId?.() || ''), id),
    });
    const panel = new WatchPartyPanel({
      manager,
      lang,
      nextUp,
      inviteUrl: (code) => inviteUrlFrom(location.href, code),
      onToggle: (open) => setOsdButtonsExpanded(open),
      // "Watch on…": the user's own TV apps, through Jellyfin's Sessions API with the user's
      // own credentials (remote/remote-seats.js).
      remote: remoteSeatsFor({ manager, apiClient, version }),
      // The chat key (`c`) works over jellyfin-web's video player only, not on its other pages.
      chatKeyActive: () => Boolean(document.querySelector('video.htmlvideoplayer')),
    });
    // Keys typed in the panel are not jellyfin-web's shortcuts (space would pause the video):
    // its video OSD listens on document, in the bubbling phase.
    for (const type of ['keydown', 'keyup', 'keypress']) panel.element.addEventListener(type, (e) => e.stopPropagation());
    document.body.append(panel.element);
    manager.start();
    return { manager, panel };
  }

  function ensure() {
    if (app) return Promise.resolve(app);
    if (!starting) {
      starting = start().then((a) => { app = a; return a; }, (e) => { starting = null; throw e; });
    }
    return starting;
  }

  /** @param {Element|null} [anchor] the button clicked: the panel opens next to it */
  function toggle(anchor = null) {
    ensure().then((a) => a.panel.toggle(anchor), (e) => {
      console.error(e);
      notify(`${t('err_unreachable')} (${e.message || e})`);
    });
  }

  function boot() {
    buttons = watchVideoOsd({
      label: t('watchParty'),
      onClick: toggle,
      expanded: () => Boolean(app?.panel.isOpen),
      available,
      onOsdButton: (button) => app?.panel.reanchor(button),
    });
    // An invite link, or the room this tab was in before a reload (the seat is then resumed
    // by the resume secret, or the room joined again by its code): followed once signed in,
    // and the room's state then starts its item.
    const invite = inviteCode();
    const code = invite || storedRoom.get();
    if (code) {
      const tryJoin = (attempt) => {
        if (!getApiClient()?.accessToken?.()) {
          // Someone opening an invite may first have to sign in: wait for it (10 min).
          if (attempt < 600) setTimeout(() => tryJoin(attempt + 1), 1000);
          return;
        }
        ensure().then((a) => {
          if (invite) a.panel.open();
          const join = () => a.manager.joinRoom(code).catch((e) => a.panel.showError(e));
          if (a.manager.connection.status === 'open') join();
          else {
            const off = a.manager.on('welcome', ({ resumed }) => { off(); if (!resumed && !a.manager.room) join(); });
          }
        }, (e) => console.error(e));
      };
      tryJoin(0);
    }
  }

  return { boot, ensure, toggle };
}

/** @param {{version?: string}} [opts] */
export function createPluginClass({ version = '0.0.0' } = {}) {
  return class MatineePlugin {
    /** @param {any} deps the modules jellyfin-web's pluginManager passes */
    constructor(deps = {}) {
      this.name = 'Matinee watch party';
      this.id = 'matinee';
      this.type = 'matinee';
      this.priority = 100;
      /** @type {ReturnType<typeof makeApp>|null} */
      this.app = null;
      try {
        const { playbackManager, events, ServerConnections, globalize, toast } = deps;
        let locale = 'en';
        try { locale = globalize?.getCurrentLocale?.() || navigator.language; } catch { /* fallback */ }
        const getApiClient = () => ServerConnections?.currentApiClient?.() || /** @type {any} */ (window).ApiClient || null;
        const makePlayer = (apiClient) => (playbackManager && events
          ? new JellyfinPlayer({
            playbackManager, events, serverId: () => apiClient.serverId?.() ?? null,
            // The item a room switches to, for its MediaStreams (own audio and subtitles).
            fetchItem: (id) => apiClient.getJSON(apiClient.getUrl(`Users/${apiClient.getCurrentUserId()}/Items/${id}`)),
            trackStore: trackStoreFor(apiClient),
          })
          : fallbackPlayer());
        // jellyfin-web's toast (src/components/toast/toast.js|ts) takes a string in 10.10 and 10.11.
        const notify = typeof toast === 'function' ? (text) => toast(text) : undefined;
        this.app = makeApp({ getApiClient, makePlayer, lang: pickLanguage([locale]), version, notify });
        /** @type {any} */ (window).__matineeHooked = true;
        this.app.boot();
      } catch (e) {
        // Never break jellyfin-web's plugin loading (it awaits every plugin together).
        console.error('Matinee: could not start', e);
      }
    }

    getTranslations() {
      return []; // strings live in ui/i18n.js; nothing for globalize to fetch
    }
  };
}

/**
 * A player over the `<video class="htmlvideoplayer">` jellyfin-web creates, found when needed
 * (it only exists while something plays).
 */
function fallbackPlayer() {
  /** @type {HtmlVideoPlayer|null} */
  let inner = null;
  let bound = null;
  const listeners = [];
  const get = () => {
    const video = /** @type {HTMLVideoElement|null} */ (document.querySelector('video.htmlvideoplayer'));
    if (video && video !== bound) {
      inner?.destroy();
      inner = new HtmlVideoPlayer(video);
      bound = video;
      for (const [ev, fn] of listeners) inner.on(ev, fn);
    }
    if (!inner) throw new Error('nothing is playing');
    return inner;
  };
  return {
    getPosition: () => get().getPosition(),
    isPaused: () => { try { return get().isPaused(); } catch { return true; } },
    isSeeking: () => { try { return get().isSeeking(); } catch { return false; } },
    isBuffering: () => { try { return get().isBuffering(); } catch { return false; } },
    isStreaming: () => { try { return get().isStreaming() || (get().video.currentSrc || '').startsWith('blob:'); } catch { return false; } },
    isEnded: () => { try { return get().isEnded(); } catch { return false; } },
    getRate: () => { try { return get().getRate(); } catch { return 1; } },
    setRate: (r) => { try { get().setRate(r); } catch { /* nothing playing */ } },
    play: () => get().play(),
    pause: () => get().pause(),
    seek: (s) => get().seek(s),
    // Without playbackManager the Jellyfin item id is unknown: rooms follow position only.
    getMedia: () => null,
    on: (ev, fn) => {
      listeners.push([ev, fn]);
      const off = inner ? inner.on(ev, fn) : () => {};
      return () => { off(); const i = listeners.findIndex((x) => x[1] === fn); if (i >= 0) listeners.splice(i, 1); };
    },
  };
}

/** @param {{version?: string}} [opts] */
export function startFallback({ version = '0.0.0' } = {}) {
  const app = makeApp({
    getApiClient: () => /** @type {any} */ (window).ApiClient || null,
    makePlayer: () => fallbackPlayer(),
    lang: pickLanguage(navigator.languages || [navigator.language]),
    version,
  });
  app.boot();
  return app;
}
