// @ts-check
/**
 * "Watch on…": what the watch-party panel uses to list the member's own controllable Jellyfin
 * sessions and run a remote seat (seat.js) on one of them in the member's current room. At most
 * one seat per tab; it stops when the member leaves the room, when the tab closes (it lives in
 * this page) or when asked. No DOM.
 *
 * Public API:
 *   new RemoteSeats({manager, api, makeSeat})
 *     manager   the member's own Manager (its room code; its connection's URL and credentials)
 *     api       a SessionsApi for the signed-in user, or () => SessionsApi (asked each time the
 *               devices are listed: the user may sign in, or change, after the page started)
 *     makeSeat  ({sessionId, code, name, device, api}) => RemoteSeat   (injected: tests, the
 *               harness); `api` is the one that listed the session
 *   .listTargets() → Promise<RemoteTarget[]>    the user's own sessions (SessionsApi.listOwn)
 *   .watchOn(target) / .stop()                  start a seat on that session / stop it
 *   .target, .seat                              the current ones, or null
 *   .describe(memberId) → {label, status, errorMs, limitMs}|null   for the member list
 *                                               (limitMs: the error a `limited` TV is left within)
 *   .on('change', fn) → off                     (core/emitter.js) after start/stop and each
 *                                               seat status change
 *   remoteSeatsFor({manager, apiClient, version?}) → RemoteSeats|null   inside jellyfin-web
 *     (apiClient: jellyfin-apiclient's ApiClient: serverAddress(), getCurrentUserId(),
 *     accessToken(), appName(), deviceName(), deviceId(), appVersion()); null without one.
 *     The user's identity is read when the devices are listed, not when the page starts:
 *     genuine jellyfin-web (10.11.11) signs its ApiClient in after Matinee has started on an
 *     invite link or a reload (getCurrentUserId() is null then), and a user may sign out and
 *     in as someone else without reloading.
 *
 * @module remote/remote-seats
 */

import { Emitter } from '../core/emitter.js';
import { RemoteSeat } from './seat.js';
import { RemoteError, SessionsApi } from './sessions-api.js';

export class RemoteSeats extends Emitter {
  /**
   * @param {{manager: import('../core/manager.js').Manager, api: SessionsApi|(() => SessionsApi),
   *   makeSeat: (o: {sessionId: string, code: string, name: string, device: string, api: SessionsApi}) => RemoteSeat}} deps
   */
  constructor({ manager, api, makeSeat }) {
    super();
    this.manager = manager;
    /** @type {() => SessionsApi} */
    this._api = typeof api === 'function' ? api : () => api;
    /** @type {SessionsApi|null} the API of the latest listing (it knows which sessions are the user's) */
    this._listedWith = null;
    this.makeSeat = makeSeat;
    /** @type {import('./sessions-api.js').RemoteTarget|null} */
    this.target = null;
    /** @type {RemoteSeat|null} */
    this.seat = null;
    this._offSeat = [];
    manager.on('left', () => this.stop());
    manager.on('room', (room) => { if (this.seat && this.seat.code !== room.code) this.stop(); });
    // The seat's figures move between status changes: refresh with the member list (≤ 2/s).
    manager.on('members', () => { if (this.seat) this._changed(); });
  }

  _changed() {
    this.emit('change');
  }

  /** @returns {Promise<import('./sessions-api.js').RemoteTarget[]>} */
  async listTargets() {
    const api = this._api();
    this._listedWith = api;
    return api.listOwn();
  }

  /** @param {import('./sessions-api.js').RemoteTarget} target */
  watchOn(target) {
    const room = this.manager.room;
    if (!room) throw Object.assign(new Error('Join or create a room first.'), { code: 'not_in_room' });
    this.stop();
    const user = this.manager.user?.name || '';
    const api = this._listedWith || this._api();
    const seat = this.makeSeat({ sessionId: target.id, code: room.code, name: user ? `${user} — ${target.deviceName}` : target.deviceName, device: target.deviceName, api });
    this.target = target;
    this.seat = seat;
    this._offSeat = [
      seat.on('sync', () => this._changed()),
      seat.on('joined', () => this._changed()),
      seat.on('left', () => { if (this.seat === seat) this.stop(); }),
    ];
    seat.start();
    this._changed();
  }

  stop() {
    if (!this.seat) return;
    for (const off of this._offSeat) off();
    this._offSeat = [];
    this.seat.stop();
    this.seat = null;
    this.target = null;
    this._changed();
  }

  /** @param {string} memberId */
  describe(memberId) {
    if (!this.seat || !this.target || this.seat.memberId !== memberId) return null;
    const sync = this.seat.sync;
    return { label: this.target.deviceName, status: sync.status, errorMs: sync.errorMs, limitMs: sync.limitMs ?? null };
  }
}

/**
 * The remote seats of a tab inside jellyfin-web, with the user's own Jellyfin credentials
 * (jellyfin-apiclient's ApiClient) and the member's own session-server connection settings.
 * @param {{manager: import('../core/manager.js').Manager, apiClient: any, version?: string}} o
 * @returns {RemoteSeats|null}
 */
export function remoteSeatsFor({ manager, apiClient, version = '0' }) {
  try {
    if (typeof apiClient?.serverAddress !== 'function' || typeof apiClient?.getCurrentUserId !== 'function') return null;
    const call = (name) => (typeof apiClient[name] === 'function' ? apiClient[name]() : undefined);
    // The seat runs on the member's own clock and timers, so its clock sync, its request
    // timestamps and the member's are on one time base.
    const { now, timers } = manager;
    /** @type {SessionsApi|null} */
    let api = null;
    const currentApi = () => {
      const baseUrl = call('serverAddress');
      const userId = call('getCurrentUserId');
      if (!baseUrl || !userId) throw new RemoteError('remote_signed_out', 'Not signed in to Jellyfin.');
      // One API per user and server: it remembers which sessions it has seen to be the user's.
      if (!api || api.userId !== userId || api.baseUrl !== String(baseUrl).replace(/\/+$/, '')) {
        api = new SessionsApi({
          baseUrl, userId, now,
          token: () => call('accessToken'),
          client: { name: call('appName'), device: call('deviceName'), deviceId: call('deviceId'), version: call('appVersion') },
        });
      }
      return api;
    };
    const conn = /** @type {any} */ (manager.connection);
    return new RemoteSeats({
      manager, api: currentApi,
      makeSeat: ({ sessionId, code, name, device, api: listedApi }) => new RemoteSeat({
        url: conn.url, createSocket: (url) => new WebSocket(url), now, timers,
        credentials: conn.credentials, api: listedApi, sessionId, code, name, device,
        client: { name: 'matinee-remote-seat', version },
      }),
    });
  } catch (e) {
    console.warn('Matinee: remote seats unavailable', e);
    return null;
  }
}
