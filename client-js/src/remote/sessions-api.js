// @ts-check
/**
 * Jellyfin's Sessions API, as a remote seat needs it: list the signed-in user's own
 * remote-controllable sessions, read one session's reported playback, and send it PlayNow,
 * Pause, Unpause and Seek. Every command is refused here, before anything is sent, unless the
 * latest listing showed that session belonging to the signed-in user.
 *
 * Why the check is ours to make (jellyfin/jellyfin, same at v10.10.7 and v10.11.11):
 *   - `GET /Sessions?controllableByUserId=me` (Jellyfin.Api/Controllers/SessionController.cs,
 *     GetSessions → Emby.Server.Implementations/Session/SessionManager.cs, GetSessions) also
 *     returns sessions with no user (shared devices, when the user may control them) and,
 *     for a user with EnableRemoteControlOfOtherUsers, other users' sessions;
 *   - `POST /Sessions/{id}/Playing…` only calls SessionManager.AssertCanControl, which checks
 *     that both sessions exist, nothing more: any signed-in user may command any session id.
 *   A session's user can also change under the same id (the TV signs in as someone else), so
 *   ownership is re-checked on every listing, not once.
 *
 * Shapes read (MediaBrowser.Model/Dto/SessionInfoDto.cs, MediaBrowser.Model/Session/
 * PlayerStateInfo.cs; PascalCase, Guids as 32 hex digits without dashes, enums as strings,
 * null members omitted — src/Jellyfin.Extensions/Json/JsonDefaults.cs): Id, UserId, UserName,
 * Client, DeviceName, DeviceType, DeviceId, SupportsRemoteControl, SupportsMediaControl,
 * PlayableMediaTypes, LastPlaybackCheckIn (DateTime, UTC, set by SessionManager.
 * UpdateNowPlayingItem on each progress report), LastActivityDate (set there too, by each
 * step of Jellyfin's automatic progress and by every request the device makes:
 * SessionManager.LogSessionActivity), NowPlayingItem.Id, PlayState.PositionTicks,
 * PlayState.IsPaused.
 * Commands (SessionController.Play / SendPlaystateCommand): POST /Sessions/{id}/Playing
 * ?playCommand=PlayNow&itemIds=…&startPositionTicks=…, POST /Sessions/{id}/Playing/{Pause|
 * Unpause|Seek}?seekPositionTicks=…; 204 on success, 404 for an unknown session id.
 * jellyfin-web's "Play on" menu lists targets the same way (src/plugins/sessionPlayer/
 * plugin.js, getTargets: ControllableByUserId = current user, minus its own DeviceId) but
 * keeps other users' sessions; we do not.
 *
 * Asking a client to report now (requestReport): Jellyfin has no "report your position"
 * message. But `POST /Sessions/{id}/Command` with a GeneralCommand (SessionController.
 * SendFullGeneralCommand → SessionManager.SendGeneralCommand, the `GeneralCommand` message on
 * the client's WebSocket) reaches the client's player, and jellyfin-web answers SetRepeatMode
 * (src/scripts/serverNotifications.js processGeneralCommand → playbackmanager.setRepeatMode,
 * which triggers `repeatmodechange`) with a progress report at once: playbackmanager's
 * onRepeatModeChange → sendProgressUpdate(player, 'repeatmodechange'), and jellyfin-apiclient's
 * reportPlaybackProgress throttles only `timeupdate` events. Sent with the repeat mode the
 * session already reports (PlayState.RepeatMode), it changes nothing on the TV. Only sessions
 * that list SetRepeatMode in SupportedCommands are asked; whether a client does answer is
 * for the caller to learn.
 *
 * The access token travels only in the `Authorization: MediaBrowser …, Token="…"` header
 * (DESIGN §3a: the one form every version accepts), never in a URL, never in an error text.
 *
 * Public API:
 *   new SessionsApi({baseUrl, userId, token, fetch?, client?, now?})
 *     baseUrl   Jellyfin's address (apiClient.serverAddress())
 *     userId    the signed-in user's id (apiClient.getCurrentUserId())
 *     token     () => string, the access token (apiClient.accessToken()), read per request
 *     client    {name, device, deviceId, version} for the header (this browser's identity, so
 *               Jellyfin sees the browser's own session as the controlling one)
 *     now       () => local ms, to timestamp responses (sendLocal/recvLocal)
 *   .listOwn() → Promise<RemoteTarget[]>    own controllable sessions (not this browser's)
 *   .snapshot(sessionId) → Promise<{session: RemoteSnapshot|null, sendLocal, recvLocal}>
 *             null: the session is not in the listing any more
 *   .requestReport(id, repeatMode) → Promise<void>   SetRepeatMode to the mode it has (above)
 *   .playNow(id, itemId, seconds) / .pause(id) / .unpause(id) / .seek(id, seconds)
 *             → Promise<void>; each lists the sessions again first and throws
 *             RemoteError('not_your_session') without sending when the id is not the user's
 *             own (never was, or belongs to someone else now), 'remote_gone' when it was and
 *             is no longer listed
 *   .isOwn(sessionId) → boolean              per the latest listing
 *   sameId(a, b)                             Guid comparison ("N" or "D" format, any case)
 *
 * @module remote/sessions-api
 */

/** Jellyfin ticks per second (TimeSpan ticks: 100 ns). */
export const TICKS_PER_SECOND = 10_000_000;

/**
 * @typedef {{id: string, deviceName: string, client: string, deviceType: string|null,
 *   deviceId: string|null, userName: string|null}} RemoteTarget
 * @typedef {{id: string, userId: string, deviceId: string|null, deviceName: string,
 *   itemId: string|null, positionS: number|null, paused: boolean,
 *   checkInMs: number|null, activityMs: number|null, repeatMode: string|null, canRequestReport: boolean}} RemoteSnapshot
 */

/** An error a person can be shown; `code` picks the text (remote_* keys in ui/i18n.js). */
export class RemoteError extends Error {
  /** @param {string} code @param {string} message @param {number} [status] */
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/**
 * Guid equality across Jellyfin's formats: it writes "N" (32 hex digits) and accepts "D".
 * @param {unknown} a @param {unknown} b
 */
export function sameId(a, b) {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const n = (s) => s.replace(/-/g, '').toLowerCase();
  const x = n(a);
  return x.length > 0 && x === n(b);
}

/** A Guid that is all zeros (Guid.Empty: a session with no user) or missing. */
function emptyId(id) {
  return typeof id !== 'string' || /^[0-]*$/.test(id);
}

/**
 * Whether a session lists a GeneralCommand as supported (SessionInfoDto.SupportedCommands, or
 * Capabilities.SupportedCommands).
 * @param {any} s @param {string} name
 */
function supports(s, name) {
  const list = Array.isArray(s.SupportedCommands) ? s.SupportedCommands : s.Capabilities?.SupportedCommands;
  return Array.isArray(list) && list.includes(name);
}

/** Header value: quotes and backslashes cannot be escaped in it, so they are dropped. */
const q = (v) => String(v).replace(/["\\\r\n]/g, '');

/**
 * Jellyfin's DateTime as epoch ms. It writes UTC with up to 7 fractional digits
 * (JsonDateTimeConverter); Date.parse takes at most 3, so the rest is kept by hand.
 * @param {unknown} s
 * @returns {number|null}
 */
export function parseJellyfinDate(s) {
  if (typeof s !== 'string') return null;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$/.exec(s);
  if (!m) return null;
  const base = Date.parse(`${m[1]}${m[3] || 'Z'}`);
  if (!Number.isFinite(base)) return null;
  const frac = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  // 0001-01-01 (DateTime.MinValue) means "never checked in".
  return base < 0 ? null : base + frac;
}

export class SessionsApi {
  /**
   * @param {{baseUrl: string, userId: string, token: () => string|null|undefined,
   *   fetch?: typeof globalThis.fetch, now?: () => number,
   *   client?: {name?: string, device?: string, deviceId?: string, version?: string}}} o
   */
  // The default calls fetch on the global object: a browser's fetch kept as `this.fetch` and
  // called on this object throws "Illegal invocation" (Node's does not care, so unit tests
  // cannot tell; the browser test of "Watch on…" can).
  constructor({ baseUrl, userId, token, fetch = (url, init) => globalThis.fetch(url, init), now = () => Date.now(), client = {} }) {
    if (typeof baseUrl !== 'string' || !/^https?:\/\//.test(baseUrl)) throw new TypeError('SessionsApi needs Jellyfin\'s http(s) address');
    if (emptyId(userId)) throw new TypeError('SessionsApi needs the signed-in user\'s id');
    if (typeof token !== 'function') throw new TypeError('SessionsApi needs token()');
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.userId = userId;
    this.token = token;
    this.fetch = fetch;
    this.now = now;
    this.client = client;
    /** Session id → the user it belonged to in the latest listing that showed it. */
    /** @type {Map<string, string>} */
    this._owner = new Map();
    /** Requests sent, by kind (tests and the sync harness count them). */
    this.sent = { list: 0, command: 0 };
  }

  _headers() {
    const t = this.token();
    if (!t) throw new RemoteError('remote_signed_out', 'Not signed in to Jellyfin.');
    const c = this.client;
    const parts = [];
    if (c.name) parts.push(`Client="${q(c.name)}"`);
    if (c.device) parts.push(`Device="${q(c.device)}"`);
    if (c.deviceId) parts.push(`DeviceId="${q(c.deviceId)}"`);
    if (c.version) parts.push(`Version="${q(c.version)}"`);
    parts.push(`Token="${q(t)}"`);
    return { Authorization: `MediaBrowser ${parts.join(', ')}`, Accept: 'application/json' };
  }

  /**
   * @param {string} method @param {string} path with its query @param {any} [body] sent as JSON
   * @returns {Promise<any>}
   */
  async _request(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = this._headers();
    /** @type {RequestInit} */
    const init = { method, headers, credentials: 'omit', cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await this.fetch(`${this.baseUrl}${path}`, init);
    } catch (e) {
      throw new RemoteError('remote_unreachable', `Jellyfin did not answer (${/** @type {any} */ (e)?.message || e}).`);
    }
    if (res.status === 401) throw new RemoteError('remote_signed_out', 'Jellyfin refused the sign-in.', 401);
    if (res.status === 403) throw new RemoteError('remote_forbidden', 'Jellyfin does not allow this user to control that session.', 403);
    if (res.status === 404) throw new RemoteError('remote_gone', 'That Jellyfin session no longer exists.', 404);
    if (res.status >= 400) throw new RemoteError('remote_failed', `Jellyfin answered ${res.status}.`, res.status);
    if (res.status === 204 || method !== 'GET') return null;
    try {
      return await res.json();
    } catch {
      throw new RemoteError('remote_failed', 'Jellyfin sent something that is not JSON.');
    }
  }

  /** GET /Sessions for the user's controllable sessions; records who owns each id. */
  async _list() {
    this.sent.list += 1;
    const u = encodeURIComponent(this.userId);
    const list = await this._request('GET', `/Sessions?controllableByUserId=${u}`);
    if (!Array.isArray(list)) throw new RemoteError('remote_failed', 'Jellyfin\'s session list is not a list.');
    for (const s of list) {
      if (s && typeof s.Id === 'string') {
        if (typeof s.UserId === 'string') this._owner.set(s.Id, s.UserId);
        else this._owner.delete(s.Id);
      }
    }
    return list;
  }

  /** @param {any} s */
  _mine(s) {
    return Boolean(s && typeof s.Id === 'string' && sameId(s.UserId, this.userId));
  }

  /** @returns {Promise<RemoteTarget[]>} */
  async listOwn() {
    const list = await this._list();
    return list
      .filter((s) => this._mine(s) && s.SupportsRemoteControl === true
        && (!Array.isArray(s.PlayableMediaTypes) || s.PlayableMediaTypes.includes('Video'))
        && !(this.client.deviceId && s.DeviceId === this.client.deviceId))
      .map((s) => ({
        id: s.Id,
        deviceName: String(s.DeviceName || s.Client || s.Id),
        client: String(s.Client || ''),
        deviceType: typeof s.DeviceType === 'string' ? s.DeviceType : null,
        deviceId: typeof s.DeviceId === 'string' ? s.DeviceId : null,
        userName: typeof s.UserName === 'string' ? s.UserName : null,
      }));
  }

  /**
   * The session as Jellyfin last heard from it.
   * @param {string} sessionId
   * @returns {Promise<{session: RemoteSnapshot|null, sendLocal: number, recvLocal: number}>}
   */
  async snapshot(sessionId) {
    const sendLocal = this.now();
    const list = await this._list();
    const recvLocal = this.now();
    const s = list.find((x) => x && x.Id === sessionId);
    if (!s) return { session: null, sendLocal, recvLocal };
    const ps = s.PlayState || {};
    const item = s.NowPlayingItem && typeof s.NowPlayingItem.Id === 'string' ? s.NowPlayingItem.Id : null;
    const ticks = typeof ps.PositionTicks === 'number' && Number.isFinite(ps.PositionTicks) ? ps.PositionTicks : null;
    return {
      session: {
        id: s.Id,
        userId: typeof s.UserId === 'string' ? s.UserId : '',
        deviceId: typeof s.DeviceId === 'string' ? s.DeviceId : null,
        deviceName: String(s.DeviceName || s.Client || s.Id),
        itemId: item,
        positionS: item && ticks !== null ? ticks / TICKS_PER_SECOND : null,
        paused: Boolean(ps.IsPaused),
        checkInMs: parseJellyfinDate(s.LastPlaybackCheckIn),
        activityMs: parseJellyfinDate(s.LastActivityDate),
        repeatMode: typeof ps.RepeatMode === 'string' ? ps.RepeatMode : null,
        canRequestReport: supports(s, 'SetRepeatMode'),
      },
      sendLocal,
      recvLocal,
    };
  }

  /** @param {string} sessionId */
  isOwn(sessionId) {
    return sameId(this._owner.get(sessionId), this.userId);
  }

  /** @param {string} sessionId */
  _assertOwn(sessionId) {
    if (typeof sessionId !== 'string' || !sessionId || !this.isOwn(sessionId)) {
      throw new RemoteError('not_your_session',
        'That Jellyfin session is not one of yours: Matinee only drives sessions signed in as you.');
    }
  }

  /**
   * Every command is preceded by a fresh listing: the session's user may have changed since
   * the last poll (up to a second ago), and commands are rare enough (a person's actions,
   * corrections with backoff) that one more GET each costs nothing but its delay.
   * `onSent(local)`: called the moment the POST leaves, after that listing (Jellyfin answers
   * the POST only once it has pushed the command to the client's socket, so the client
   * acted between the two: how the seat times the report that answers it).
   * @param {string} sessionId @param {string} rest @param {any} [body]
   * @param {(local: number) => void} [onSent]
   */
  async _command(sessionId, rest, body, onSent) {
    this._assertOwn(sessionId);
    const list = await this._list();
    if (!list.some((x) => x && x.Id === sessionId)) {
      this._owner.delete(sessionId);
      throw new RemoteError('remote_gone', 'That Jellyfin session no longer exists.');
    }
    this._assertOwn(sessionId);
    this.sent.command += 1;
    onSent?.(this.now());
    await this._request('POST', `/Sessions/${encodeURIComponent(sessionId)}${rest}`, body);
  }

  /**
   * Asks the client for a progress report now: SetRepeatMode with the mode it already has
   * (see the module's comment). Refused without sending for a mode that is not one of
   * Jellyfin's RepeatMode values (it would change something on the TV).
   * @param {string} sessionId @param {string} repeatMode @param {(local: number) => void} [onSent]
   */
  requestReport(sessionId, repeatMode, onSent) {
    if (!['RepeatNone', 'RepeatAll', 'RepeatOne'].includes(repeatMode)) {
      return Promise.reject(new TypeError(`not a RepeatMode: ${String(repeatMode)}`));
    }
    return this._command(sessionId, '/Command', { Name: 'SetRepeatMode', Arguments: { RepeatMode: repeatMode } }, onSent);
  }

  /** @param {number} seconds */
  static ticks(seconds) {
    return Math.max(0, Math.round(seconds * TICKS_PER_SECOND));
  }

  /** @param {string} sessionId @param {string} itemId @param {number} seconds @param {(local: number) => void} [onSent] */
  playNow(sessionId, itemId, seconds, onSent) {
    if (typeof itemId !== 'string' || !/^[0-9a-fA-F-]{32,36}$/.test(itemId)) {
      return Promise.reject(new RemoteError('remote_bad_item', 'That is not a Jellyfin item: a TV can only play items of this server.'));
    }
    return this._command(sessionId, `/Playing?playCommand=PlayNow&itemIds=${encodeURIComponent(itemId)}&startPositionTicks=${SessionsApi.ticks(seconds)}`, undefined, onSent);
  }

  /** @param {string} sessionId @param {(local: number) => void} [onSent] */
  pause(sessionId, onSent) { return this._command(sessionId, '/Playing/Pause', undefined, onSent); }

  /** @param {string} sessionId @param {(local: number) => void} [onSent] */
  unpause(sessionId, onSent) { return this._command(sessionId, '/Playing/Unpause', undefined, onSent); }

  /** @param {string} sessionId @param {number} seconds @param {(local: number) => void} [onSent] */
  seek(sessionId, seconds, onSent) {
    return this._command(sessionId, `/Playing/Seek?seekPositionTicks=${SessionsApi.ticks(seconds)}`, undefined, onSent);
  }
}
