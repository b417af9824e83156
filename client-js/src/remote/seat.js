// @ts-check
/**
 * A remote seat: a second party member, run in the member's browser, whose "player" is one
 * of the member's own Jellyfin sessions (a TV app) driven through the Sessions API. It holds
 * its own connection to the session server (protocol v1 unchanged: hello with the member's
 * own token, join_room, ping, status), follows the room's `state` with a RemoteSync, and
 * reports the device's estimated position and error in `status`, so it appears in `members`
 * like anyone, with its measured `error_ms`.
 *
 * It never sends intents (play/pause/seek): what happens on the TV is corrected back to the
 * room; the person's own browser is where they control the party. If the server makes the
 * seat host (the host left and the seat was the longest present), it hands the role on at
 * once to another member, preferring the same user: a TV cannot press play.
 *
 * Public API:
 *   new RemoteSeat({url, createSocket, now, timers, credentials, api, sessionId, code,
 *                   name?, device?, random?, settings?, remoteSettings?, client?})
 *     code         the room to join (the member's own room)
 *     name         display name where the server allows names and the credentials give none
 *     device       the TV's name, sent as `hello.device`: the server shows the seat as
 *                  "user — device" to everyone
 *   .start() / .stop()       .stop() leaves the room and closes the connection
 *   .memberId                the seat's member id once in the room (null before)
 *   .sync                    the RemoteSync's sync object (status, errorMs, …)
 *   .remote                  the RemoteSync
 *   .on(event, fn) → off     (core/emitter.js) 'joined' (memberId), 'sync' (sync), 'left' (reason),
 *                            'error' (err)
 *
 * @module remote/seat
 */

import { Connection } from '../core/connection.js';
import { Emitter } from '../core/emitter.js';
import { TimeSync } from '../core/timesync.js';
import { DEFAULT_SETTINGS } from '../core/settings.js';
import { msg, stateOf } from '../core/protocol.js';
import { RemoteSync } from './remote-sync.js';
import { REMOTE_SETTINGS } from './settings.js';

export class RemoteSeat extends Emitter {
  /**
   * @param {{url: string, createSocket: (url: string) => any, now: () => number, timers: any,
   *   credentials: () => Promise<{token?: string, name?: string, device?: string}>, api: any, sessionId: string,
   *   code: string, name?: string, device?: string, random?: () => number,
   *   settings?: import('../core/settings.js').Settings,
   *   remoteSettings?: import('./settings.js').RemoteSettings,
   *   client?: {name: string, version: string}}} deps
   */
  constructor({ url, createSocket, now, timers, credentials, api, sessionId, code, name, device, random = Math.random,
    settings = DEFAULT_SETTINGS, remoteSettings = REMOTE_SETTINGS, client = { name: 'matinee-remote-seat', version: '1' } }) {
    super();
    this.timers = timers;
    this.code = code;
    this.rs = remoteSettings;
    // `hello.device` makes the server name the seat "user — device" for everyone (the user's
    // name from the token, or from the credentials where access is anonymous); `name` is only
    // a fallback for credentials that carry no name.
    const creds = async () => ({ ...(name ? { name } : {}), ...(await credentials()), ...(device ? { device } : {}) });
    this.connection = new Connection({ url, createSocket, timers, random, settings, credentials: creds, client });
    this.timesync = new TimeSync({ now, settings, timers, send: (m) => this.connection.send(m) });
    this.remote = new RemoteSync({
      api, sessionId, clock: this.timesync, timers, settings: remoteSettings,
      onChange: (sync) => this.emit('sync', sync),
    });
    /** @type {string|null} */
    this.memberId = null;
    /** @type {string|null} */
    this.host = null;
    /** @type {any[]} */
    this.members = [];
    this.lastSeq = -1;
    this._statusTimer = null;
    this._started = false;
    this.connection.on('welcome', (m, local) => {
      this.timesync.restartBurst();
      if (Number.isFinite(m.server_time)) this.timesync.seed(m.server_time - now());
      // A resumed seat gets its `room` snapshot; a fresh one joins.
      const resumed = typeof m.resumed === 'boolean' ? m.resumed : Boolean(local?.resumed);
      if (!resumed) this.connection.send(msg.joinRoom(this.code));
    });
    this.connection.on('message', (m) => this._onMessage(m));
    this.connection.on('fatal', (reason) => this.emit('error', { code: 'unreachable', message: String(reason) }));
  }

  get sync() {
    return this.remote.sync;
  }

  start() {
    if (this._started) return;
    this._started = true;
    this.timesync.start();
    this.remote.start();
    this.connection.connect();
    this._statusTimer = this.timers.setInterval(() => this._sendStatus(), this.rs.statusIntervalMs);
  }

  stop() {
    if (!this._started) return;
    this._started = false;
    if (this.memberId) this.connection.send(msg.leaveRoom());
    this.timers.clearInterval(this._statusTimer);
    this.remote.stop();
    this.timesync.stop();
    this.connection.close();
    this.memberId = null;
  }

  /** @param {any} m */
  _onMessage(m) {
    switch (m.type) {
      case 'pong':
        this.timesync.handlePong(m);
        break;
      case 'room':
        this.memberId = m.you;
        this.connection.inRoom = true;
        this.members = m.members || [];
        this.host = m.host;
        this.lastSeq = m.state.seq;
        this.remote.setState(m.state);
        this.emit('joined', m.you);
        this._handOnHost();
        break;
      case 'state': {
        const st = stateOf(m);
        if (!this.memberId || st.seq <= this.lastSeq) break;
        this.lastSeq = st.seq;
        this.remote.setState(st);
        break;
      }
      case 'members':
        this.members = m.list;
        if (typeof m.host === 'string') this.host = m.host;
        this._handOnHost();
        break;
      case 'left':
        this.memberId = null;
        this.connection.inRoom = false;
        this.remote.setState(null);
        this.emit('left', m.reason);
        this.stop();
        break;
      case 'error':
        this.emit('error', m);
        break;
      default:
        break;
    }
  }

  /** A TV cannot press play: the host role goes to a person, the same user first. */
  _handOnHost() {
    if (!this.memberId || this.host !== this.memberId) return;
    const me = this.members.find((x) => x.id === this.memberId);
    const others = this.members.filter((x) => x.id !== this.memberId && x.connected !== false);
    const pick = others.find((x) => me && x.user_id === me.user_id) || others[0];
    if (pick) this.connection.send(msg.transferHost(pick.id));
  }

  _sendStatus() {
    if (!this.memberId || this.connection.status !== 'open') return;
    const r = this.remote.report();
    this.connection.send(msg.status({
      position: r.position,
      playing: r.playing,
      buffering: r.buffering,
      rtt_ms: this.timesync.rttMs,
      offset_ms: this.timesync.offsetMs,
      error_ms: r.error_ms,
      seek_ms: null, // a TV's seek latency must not stretch the room's seek lead for everyone
    }));
  }
}
