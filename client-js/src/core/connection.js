// @ts-check
/**
 * The WebSocket connection to the session server: hello/welcome, automatic reconnect with
 * jittered exponential backoff, and `resume` so a dropped connection gets its seat back.
 *
 * Public API:
 *   new Connection({url, createSocket, timers, random?, settings?, credentials, client?})
 *     url                 ws:// or wss:// URL of the server's /ws
 *     createSocket(url)   → a WebSocket-like object (browser WebSocket, or `ws` in Node):
 *                         send(text), close(code?), readyState, onopen/onmessage/onclose/onerror
 *     timers              {setTimeout, clearTimeout}
 *     random()            uniform [0,1) for the backoff jitter (Math.random by default)
 *     credentials()       async → {token?: string, name?: string, device?: string}; called before every hello,
 *                         so an expired short-lived token is replaced on reconnect
 *     client              {name, version} sent in hello
 *     resumeStore         optional {get(): string|null, set(v: string|null)}: keeps the resume
 *                         secret across page reloads (e.g. over sessionStorage)
 *   .connect()            starts (and keeps) the connection up
 *   .close()              stops for good (no reconnect)
 *   .send(msg) → boolean  sends now when connected; while reconnecting, messages marked
 *                         `queue: true` wait in a bounded queue, others are dropped (false)
 *   .on(event, fn) → off  (core/emitter.js) events: 'welcome' (msg, {resumed}), 'message' (msg),
 *                         'status' ('connecting'|'open'|'reconnecting'|'closed', detail),
 *                         'fatal' (error message: will not retry, e.g. unauthorized)
 *   .status               current status string
 *   .resumeToken          secret from the last welcome (never logged)
 *
 * @module core/connection
 */

import { DEFAULT_SETTINGS } from './settings.js';
import { Emitter } from './emitter.js';
import { CLOSE_CODES, ProtocolError, msg, parseServerMessage } from './protocol.js';

/** Close codes after which retrying cannot help. */
const FATAL_CLOSES = new Set([CLOSE_CODES.PROTOCOL_VIOLATION]);
/** Error codes answering a hello that say "try again later", not "you may not": the server
 *  closes with 4001 after them too (no identity, no session), but giving up would leave a
 *  party dead after a short Jellyfin outage. */
const RETRYABLE_HELLO_ERRORS = new Set(['unavailable', 'rate_limited', 'internal']);

export class Connection extends Emitter {
  /**
   * @param {{url: string, createSocket: (url: string) => any,
   *   timers: {setTimeout: Function, clearTimeout: Function}, random?: () => number,
   *   settings?: import('./settings.js').Settings,
   *   credentials: () => Promise<{token?: string, name?: string, device?: string}>,
   *   client?: {name: string, version: string},
   *   resumeStore?: {get: () => string|null, set: (v: string|null) => void}}} deps
   */
  constructor({ url, createSocket, timers, random = Math.random, settings = DEFAULT_SETTINGS, credentials, client, resumeStore }) {
    super();
    if (typeof createSocket !== 'function') throw new TypeError('Connection needs createSocket(url)');
    if (typeof credentials !== 'function') throw new TypeError('Connection needs credentials()');
    this.url = url;
    this.createSocket = createSocket;
    this.timers = timers;
    this.random = random;
    this.settings = settings;
    this.credentials = credentials;
    this.client = client;
    /** @type {'idle'|'connecting'|'open'|'reconnecting'|'closed'} */
    this.status = 'idle';
    this.resumeStore = resumeStore;
    /** @type {string|null} */
    this._resume = null;
    try { this._resume = resumeStore?.get() || null; } catch { /* storage disabled */ }
    this.socket = null;
    this.failures = 0;
    this.everWelcomed = false;
    /** Set by the owner while it holds a seat in a room: reconnects then back off at most
     *  `reconnectMaxInRoomMs`, since the seat is only kept for a while. */
    this.inRoom = false;
    /** @type {string[]} */
    this.queue = [];
    this._retryTimer = null;
    this._connectTimer = null;
    this._stableTimer = null;
    /** Whether the current socket has sent its hello (a 4001 before it refused nothing). */
    this._helloSent = false;
    this._stopped = false;
    /** `error.code` that answered the current socket's hello, if any. */
    this._helloError = null;
  }

  /** The resume secret from the last welcome; persisted through `resumeStore`. */
  get resumeToken() {
    return this._resume;
  }

  set resumeToken(v) {
    this._resume = v;
    try { this.resumeStore?.set(v); } catch { /* storage disabled */ }
  }

  _setStatus(status, detail) {
    this.status = status;
    this.emit('status', status, detail);
  }

  connect() {
    this._stopped = false;
    if (this.socket) return;
    this._open();
  }

  close() {
    this._stopped = true;
    this._clearTimers();
    const s = this.socket;
    this.socket = null;
    if (s) {
      this._detach(s);
      try { s.close(1000, 'bye'); } catch { /* already closing */ }
    }
    this.queue = [];
    this._setStatus('closed');
  }

  /**
   * @param {Record<string, any>} message
   * @param {{queue?: boolean}} [opts] queue=true keeps it (bounded) until reconnected
   * @returns {boolean} whether it was sent or queued
   */
  send(message, opts = {}) {
    const text = JSON.stringify(message);
    if (this.status === 'open' && this.socket && this.socket.readyState === 1) {
      try {
        this.socket.send(text);
        return true;
      } catch {
        return false;
      }
    }
    if (opts.queue && !this._stopped) {
      if (this.queue.length >= this.settings.maxQueuedMessages) this.queue.shift();
      this.queue.push(text);
      return true;
    }
    return false;
  }

  _clearTimers() {
    if (this._retryTimer !== null) this.timers.clearTimeout(this._retryTimer);
    if (this._connectTimer !== null) this.timers.clearTimeout(this._connectTimer);
    if (this._stableTimer !== null) this.timers.clearTimeout(this._stableTimer);
    this._retryTimer = null;
    this._connectTimer = null;
    this._stableTimer = null;
  }

  _detach(s) {
    s.onopen = s.onmessage = s.onerror = s.onclose = null;
  }

  _open() {
    this._setStatus(this.everWelcomed ? 'reconnecting' : 'connecting');
    let s;
    try {
      s = this.createSocket(this.url);
    } catch (e) {
      this._scheduleRetry(String(e && /** @type {any} */ (e).message || e));
      return;
    }
    this.socket = s;
    this._helloError = null;
    this._helloSent = false;
    this._connectTimer = this.timers.setTimeout(() => {
      this._connectTimer = null;
      if (this.socket === s && this.status !== 'open') this._lost(s, 'connect timeout');
    }, this.settings.connectTimeoutMs);
    s.onopen = () => { this._sendHello(s); };
    s.onmessage = (ev) => { this._onFrame(s, ev.data); };
    s.onerror = () => { /* onclose follows and carries the code */ };
    s.onclose = (ev) => { this._onClose(s, ev); };
  }

  async _sendHello(s) {
    let cred;
    try {
      cred = await this.credentials();
    } catch (e) {
      // No token (Jellyfin down, logged out): retry later like any connection failure.
      this._lost(s, `credentials: ${e && /** @type {any} */ (e).message || e}`);
      return;
    }
    if (this.socket !== s) return;
    const hello = msg.hello({ token: cred.token, name: cred.name, device: cred.device, resume: this.resumeToken || undefined, client: this.client });
    try {
      s.send(JSON.stringify(hello));
      this._helloSent = true;
    } catch {
      this._lost(s, 'send failed');
    }
  }

  _onFrame(s, data) {
    if (this.socket !== s) return;
    let m;
    try {
      m = parseServerMessage(typeof data === 'string' ? data : String(data));
    } catch (e) {
      if (e instanceof ProtocolError) {
        console.warn('matinee: ignoring bad frame from server:', e.message);
        return;
      }
      throw e;
    }
    if (m.type === 'welcome') {
      const resumed = Boolean(this.resumeToken);
      this.resumeToken = typeof m.resume === 'string' ? m.resume : null;
      // The backoff starts over only once this connection has proved stable.
      if (this._stableTimer !== null) this.timers.clearTimeout(this._stableTimer);
      this._stableTimer = this.timers.setTimeout(() => {
        this._stableTimer = null;
        this.failures = 0;
      }, this.settings.reconnectStableMs);
      this.everWelcomed = true;
      if (this._connectTimer !== null) this.timers.clearTimeout(this._connectTimer);
      this._connectTimer = null;
      this._setStatus('open');
      this.emit('welcome', m, { resumed });
      const queued = this.queue;
      this.queue = [];
      for (const text of queued) {
        try { s.send(text); } catch { break; }
      }
      return;
    }
    if (m.type === 'error' && this.status !== 'open') {
      // An error before welcome answers the hello: a refused resume is worth one retry
      // without it; anything else is for the user.
      this._helloError = m.code;
      // A backend hiccup (`unavailable`…) is not a refused resume: keep the seat's secret.
      if (this.resumeToken && m.code !== 'unauthorized' && m.code !== 'unsupported_protocol' && !RETRYABLE_HELLO_ERRORS.has(m.code)) {
        this.resumeToken = null;
      }
      this.emit('message', m);
      return;
    }
    this.emit('message', m);
  }

  _onClose(s, ev) {
    if (this.socket !== s) return;
    const code = ev && ev.code;
    // Refused before our hello was even sent (the token fetch outlasted the server's hello
    // timeout, e.g. a slow Jellyfin): nothing was refused, try again.
    if (code === CLOSE_CODES.UNAUTHORIZED && this.status !== 'open' && this._helloSent && !RETRYABLE_HELLO_ERRORS.has(this._helloError)) {
      // Refused at hello. With a resume token, the seat may simply be gone: try once fresh.
      if (this.resumeToken) {
        this.resumeToken = null;
        this._lost(s, 'resume refused');
        return;
      }
      if (this.failures >= 2) {
        this._fatal(s, 'unauthorized');
        return;
      }
    }
    if (FATAL_CLOSES.has(code)) {
      this._fatal(s, `closed by server (${code})`);
      return;
    }
    this._lost(s, `closed (${code})`);
  }

  _fatal(s, reason) {
    this._detach(s);
    this.socket = null;
    this._clearTimers();
    this._stopped = true;
    this._setStatus('closed', reason);
    this.emit('fatal', reason);
  }

  _lost(s, reason) {
    if (this.socket !== s) return;
    this._detach(s);
    this.socket = null;
    try { s.close(); } catch { /* ignore */ }
    if (this._connectTimer !== null) this.timers.clearTimeout(this._connectTimer);
    this._connectTimer = null;
    if (this._stableTimer !== null) this.timers.clearTimeout(this._stableTimer);
    this._stableTimer = null;
    if (this._stopped) return;
    this._scheduleRetry(reason);
  }

  /** Backoff delay for the n-th consecutive failure (0-based), with jitter. */
  backoffMs(n) {
    const s = this.settings;
    const cap = this.inRoom ? Math.min(s.reconnectMaxMs, s.reconnectMaxInRoomMs) : s.reconnectMaxMs;
    const full = Math.min(cap, s.reconnectBaseMs * 2 ** n);
    return full * (1 - s.reconnectJitter * this.random());
  }

  _scheduleRetry(reason) {
    const delay = this.backoffMs(this.failures);
    this.failures += 1;
    this._setStatus('reconnecting', reason);
    this._retryTimer = this.timers.setTimeout(() => {
      this._retryTimer = null;
      if (!this._stopped) this._open();
    }, delay);
  }
}
