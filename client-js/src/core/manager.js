// @ts-check
/**
 * The hub: owns the connection, the clock sync and the playback core, keeps the room's
 * state (code, members, host, chat) and routes server messages. The UI talks only to this.
 * No DOM: every dependency is injected, so it runs in Node as well (benchmarks, tests).
 *
 * Public API:
 *   new Manager({url, createSocket, now, timers, player, credentials, random?, settings?, client?})
 *     url            ws(s)://…/ws of the session server
 *     createSocket   (url) => WebSocket-like (browser WebSocket or the `ws` package)
 *     now            () => local monotonic ms (performance.timeOrigin + performance.now())
 *     timers         {setTimeout, clearTimeout, setInterval, clearInterval}
 *     player         a generic player (players/player.js)
 *     credentials    async () => ({token} | {name}) — called for every hello
 *     resumeStore    optional {get, set} keeping the resume secret across reloads
 *   .start() / .stop()
 *   .createRoom({media?, settings?, keepPlayback?}) → Promise<RoomView>   media defaults to the
 *                                    player's; keepPlayback: the room starts where the player is
 *   .joinRoom(code)                  → Promise<RoomView>   rejects with a MatineeError
 *   .leaveRoom()
 *   .play() / .pause() / .seek(seconds) / .setMedia(media, position?)   intents
 *   .chat(text) / .react(emoji) / .transferHost(memberId) / .kick(memberId)
 *   .setRights(memberId, rights)     host only: a member's granted rights from now on
 *                                    (subset of RIGHTS: 'playback', 'media'; [] revokes)
 *   .readyCheck({start?}) / .ready(bool)   the lobby's ready check: ask (whoever may drive
 *                                    playback, while paused) / answer the check in progress
 *   .readyState      {by, until, start} of the check in progress, or null
 *   .queue           the room's queue, next item first ([{id, title?, duration?}])
 *   .queueAdd(media, index?) / .queueRemove(id) / .queueMove(id, index) / .queueClear()
 *                                    whoever may change the item (host, shared, `media` right)
 *   .room            RoomView | null   {code, you, host, settings, members, state}
 *   .isHost / .canControl            canControl = can('playback')
 *   .can(right)      whether this member may use `right` now: host, shared control or a grant
 *   .rightsOf(memberId)  the rights granted to a member (Right[])
 *   .timesync        the TimeSync (offsetMs, rttMs)
 *   .core            the PlaybackCore (sync: {status, errorMs, seekMs, …})
 *   .chatLog         last messages [{from, name, text, at}]
 *   .on(event, fn) → off   (core/emitter.js) events:
 *       'connection' (status, detail)  'welcome' ({resumed, user}) — a room snapshot follows
 *       when resumed  'room' (RoomView)  'state' (PlaybackState)
 *       'members' (list, host)  'chat' (entry)  'reaction' ({from, emoji, at})
 *       'left' (reason)  'error' (MatineeError)  'sync' (core.sync, timesync)
 *       'notice' (MatineeError) — something the user tried that was not allowed locally
 *       'ready_check' ({by, until, start})  'ready_result' ({by, result, ready, not_ready, no_answer})
 *       'queue' ({items, change, by}) — also after a room snapshot (change: 'room')
 *   The player's 'ended' is reported to the server (`ended`) by whoever may drive playback:
 *   the room then moves on to the queue's next item.
 *
 * @module core/manager
 */

import { DEFAULT_SETTINGS } from './settings.js';
import { Emitter } from './emitter.js';
import { Connection } from './connection.js';
import { TimeSync } from './timesync.js';
import { PlaybackCore } from './playback.js';
import { MAX_CHAT_CHARS, RIGHTS, msg, normalizeRoomCode, stateOf } from './protocol.js';

/**
 * @typedef {import('./protocol.js').PlaybackState} PlaybackState
 * @typedef {import('./protocol.js').Member} Member
 * @typedef {{code: string, you: string, host: string, settings: any, members: Member[],
 *   state: PlaybackState}} RoomView
 */

/** An error the user can be shown: `code` is a protocol error code or a client one
 *  (`unreachable`, `timeout`, `invalid_code`, `not_connected`, `not_in_room`). */
export class MatineeError extends Error {
  /** @param {string} code @param {string} [message] */
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

export class Manager extends Emitter {
  /**
   * @param {{url: string, createSocket: (url: string) => any, now: () => number, timers: any,
   *   player: any, credentials: () => Promise<{token?: string, name?: string}>,
   *   random?: () => number, settings?: import('./settings.js').Settings,
   *   client?: {name: string, version: string},
   *   resumeStore?: {get: () => string|null, set: (v: string|null) => void}}} deps
   */
  constructor({ url, createSocket, now, timers, player, credentials, random = Math.random, settings = DEFAULT_SETTINGS, client, resumeStore }) {
    super();
    this.settings = settings;
    this.timers = timers;
    this.now = now;
    this.player = player;
    this.connection = new Connection({ url, createSocket, timers, random, settings, credentials, client, resumeStore });
    this.timesync = new TimeSync({
      now, settings, timers,
      send: (m) => this.connection.send(m),
    });
    this.core = new PlaybackCore({
      player, clock: this.timesync, timers, settings,
      onIntent: (i) => this._onIntent(i),
    });
    /** @type {RoomView|null} */
    this.room = null;
    /** @type {{from: string, name: string, text: string, at: number}[]} */
    this.chatLog = [];
    /** The ready check in progress. @type {{by: string, until: number, start: boolean}|null} */
    this.readyState = null;
    /** The room's queue, next first. @type {import('./protocol.js').Media[]} */
    this.queue = [];
    /** The state (`seq`) whose end this member reported, so that it is said once. */
    this._endedSeq = -1;
    this.user = null;
    this._nextId = 1;
    /** @type {Map<string, {resolve: Function, reject: Function, timer: any, type: string}>} */
    this._pending = new Map();
    this._statusTimer = null;
    this._lastRoomCode = null;
    this._started = false;
    /** A speed chosen in the player's menu while the room was paused, for this member's next
     *  play (`play` is the one intent with a rate). @type {number|null} */
    this._wantedRate = null;

    this.connection.on('status', (status, detail) => {
      if (status !== 'open') this._failPending(new MatineeError('unreachable', 'The watch-party server cannot be reached.'), ['create_room', 'join_room']);
      this.emit('connection', status, detail);
    });
    this.connection.on('fatal', (reason) => {
      this.emit('error', new MatineeError(reason === 'unauthorized' ? 'unauthorized' : 'unreachable', `Connection refused: ${reason}`));
    });
    this.connection.on('welcome', (m, { resumed }) => this._onWelcome(m, resumed));
    if (typeof player.on === 'function') player.on('ended', () => this._onEnded());
    this.connection.on('message', (m) => this._onMessage(m));
  }

  start() {
    if (this._started) return;
    this._started = true;
    this.core.start();
    this.timesync.start();
    this.connection.connect();
    this._statusTimer = this.timers.setInterval(() => this._sendStatus(), this.settings.statusIntervalMs);
  }

  stop() {
    if (!this._started) return;
    this._started = false;
    this.timers.clearInterval(this._statusTimer);
    this._statusTimer = null;
    this.timesync.stop();
    this.core.stop();
    this.connection.close();
    this._failPending(new MatineeError('not_connected', 'Stopped.'));
  }

  get isHost() {
    return Boolean(this.room && this.room.host === this.room.you);
  }

  get canControl() {
    return this.can('playback');
  }

  /**
   * Whether this member may use `right` now (the server decides the same way and refuses
   * the rest with `forbidden`): the host and everyone under shared control always may,
   * anyone else with the host's grant.
   * @param {import('./protocol.js').Right} right
   */
  can(right) {
    if (!this.room) return false;
    if (this.isHost || this.room.settings?.control === 'shared') return true;
    return this.rightsOf(this.room.you).includes(right);
  }

  /**
   * The rights the host granted member `memberId` (not counting the host role).
   * @param {string} memberId
   * @returns {import('./protocol.js').Right[]}
   */
  rightsOf(memberId) {
    const m = this.room?.members?.find((x) => x.id === memberId);
    return Array.isArray(m?.rights) ? RIGHTS.filter((r) => m.rights.includes(r)) : [];
  }

  // ---- requests ----

  /**
   * @param {Record<string, any>} message
   * @returns {Promise<any>}
   */
  async _request(message) {
    // A click while the connection is still being made (the panel opens it on first use, so
    // someone quick on "Create room" meets this) waits for it, within the request timeout.
    if (this.connection.status === 'connecting' || this.connection.status === 'reconnecting') await this._opened();
    if (this.connection.status !== 'open') {
      return Promise.reject(new MatineeError('unreachable', 'The watch-party server cannot be reached.'));
    }
    const id = `r${this._nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        this._pending.delete(id);
        reject(new MatineeError('timeout', 'The watch-party server did not answer.'));
      }, this.settings.requestTimeoutMs);
      this._pending.set(id, { resolve, reject, timer, type: message.type });
      if (!this.connection.send({ ...message, id })) {
        this.timers.clearTimeout(timer);
        this._pending.delete(id);
        reject(new MatineeError('unreachable', 'The watch-party server cannot be reached.'));
      }
    });
  }

  /** Resolves when the connection opens or gives up, or after requestTimeoutMs. */
  _opened() {
    return new Promise((resolve) => {
      let off = () => {};
      const timer = this.timers.setTimeout(() => { off(); resolve(undefined); }, this.settings.requestTimeoutMs);
      off = this.connection.on('status', (/** @type {string} */ status) => {
        if (status !== 'open' && status !== 'closed') return;
        off();
        this.timers.clearTimeout(timer);
        resolve(undefined);
      });
    });
  }

  _failPending(err, types) {
    for (const [id, p] of this._pending) {
      if (types && !types.includes(p.type)) continue;
      this.timers.clearTimeout(p.timer);
      this._pending.delete(id);
      p.reject(err);
    }
  }

  /**
   * A new room is paused at 0 (server). With `keepPlayback` — a host who opens a room in the
   * middle of a film, as jellyfin-web users do — the room takes the player's position and
   * play/pause state instead: the snapshot is applied as that (so the player is not sent back
   * to 0 meanwhile) and the matching intent follows at once.
   * @param {{media?: any, settings?: any, keepPlayback?: boolean}} [opts]
   */
  async createRoom(opts = {}) {
    if (this.room) throw new MatineeError('bad_request', 'Leave the current room first.');
    let media = opts.media;
    if (media === undefined) {
      try { media = this.player.getMedia?.() || null; } catch { media = null; }
    }
    /** @type {{position: number, playing: boolean}|null} */
    let keep = null;
    if (opts.keepPlayback && media) {
      try { keep = { position: Math.max(0, this.player.getPosition()), playing: !this.player.isPaused() }; } catch { keep = null; }
    }
    this._keepOnCreate = keep;
    try {
      return await this._request(msg.createRoom({ media, settings: opts.settings }));
    } finally {
      this._keepOnCreate = null;
    }
  }

  /** @param {string} input */
  async joinRoom(input) {
    const code = normalizeRoomCode(input);
    if (!code) throw new MatineeError('invalid_code', 'That is not a room code.');
    if (this.room) {
      if (this.room.code === code) return this.room;
      throw new MatineeError('bad_request', 'Leave the current room first.');
    }
    return this._request(msg.joinRoom(code));
  }

  leaveRoom() {
    this._lastRoomCode = null;
    if (!this.room) return;
    this.connection.send(msg.leaveRoom());
    this._leftRoom('left');
  }

  /**
   * @param {Record<string, any>} message
   * @param {import('./protocol.js').Right} [right] what the intent needs
   */
  _intent(message, right = 'playback') {
    if (!this.room) {
      this.emit('notice', new MatineeError('not_in_room', 'Not in a watch party.'));
      return false;
    }
    if (!this.can(right)) {
      this.emit('notice', right === 'media'
        ? new MatineeError('media_right', 'Only the host, or a member the host allows, changes the item in this room.')
        : new MatineeError('host_only', 'Only the host controls playback in this room.'));
      this.core.reassert();
      return false;
    }
    // Intents wait (bounded) through a reconnect: a click during a blip still counts.
    return this.connection.send(message, { queue: true });
  }

  /** Where an intent should act: the room's position, or the player's without a state. */
  _herePosition() {
    const t = this.core.targetPosition();
    if (t !== null) return t;
    try { return this.player.getPosition(); } catch { return 0; }
  }

  play() { return this._intent(this._playMessage()); }

  /** A play intent, with the speed chosen while the room was paused (see _onIntent).
   *  @param {number} [position] where to start (default: the room's position) */
  _playMessage(position = this._herePosition()) {
    const m = msg.play(position, this._wantedRate ?? undefined);
    this._wantedRate = null;
    return m;
  }
  pause() { return this._intent(msg.pause(this._herePosition())); }
  /** @param {number} seconds */
  seek(seconds) {
    if (!Number.isFinite(seconds) || seconds < 0) throw new MatineeError('bad_request', 'Invalid position.');
    return this._intent(msg.seek(seconds));
  }
  /** @param {{id: string, title?: string, duration?: number}} media @param {number} [position] */
  setMedia(media, position) {
    if (!media || typeof media.id !== 'string' || !media.id) throw new MatineeError('bad_request', 'Invalid media.');
    return this._intent(msg.setMedia(media, position), 'media');
  }

  /** @param {string} text */
  chat(text) {
    const t = String(text ?? '').trim();
    if (!t) return false;
    if ([...t].length > MAX_CHAT_CHARS) throw new MatineeError('too_large', `Chat messages are limited to ${MAX_CHAT_CHARS} characters.`);
    if (!this.room) throw new MatineeError('not_in_room', 'Not in a watch party.');
    return this.connection.send(msg.chat(t), { queue: true });
  }

  /** @param {string} emoji */
  react(emoji) {
    if (!this.room) return false;
    return this.connection.send(msg.reaction(emoji));
  }

  /** @param {string} memberId */
  transferHost(memberId) {
    if (!this.isHost) throw new MatineeError('forbidden', 'Only the host can hand over the room.');
    return this.connection.send(msg.transferHost(memberId));
  }

  /** @param {string} memberId */
  kick(memberId) {
    if (!this.isHost) throw new MatineeError('forbidden', 'Only the host can remove someone.');
    return this.connection.send(msg.kick(memberId));
  }

  /**
   * Ask everyone "ready?" (docs/protocol.md, "ready_check"); with `start` the room plays when
   * everyone connected is ready, or after 30 s at the latest.
   * @param {{start?: boolean}} [o]
   */
  readyCheck({ start = true } = {}) {
    if (!this.room) throw new MatineeError('not_in_room', 'Not in a watch party.');
    if (!this.can('playback')) throw new MatineeError('host_only', 'Only the host controls playback in this room.');
    return this.connection.send(msg.readyCheck(start));
  }

  /** Answer the ready check in progress. @param {boolean} ready */
  ready(ready) {
    if (!this.readyState) throw new MatineeError('bad_request', 'No ready check in progress.');
    return this.connection.send(msg.ready(ready));
  }

  /** @param {string} what */
  _queueAllowed(what) {
    if (!this.room) throw new MatineeError('not_in_room', 'Not in a watch party.');
    if (!this.can('media')) throw new MatineeError('media_right', `Only the host, or a member the host allows, may ${what} in this room.`);
  }

  /**
   * Queue an item for everyone: at the end, or at `index` (0: next).
   * @param {import('./protocol.js').Media} media @param {number} [index]
   */
  queueAdd(media, index) {
    this._queueAllowed('change the queue');
    if (!media || typeof media.id !== 'string' || !media.id) throw new MatineeError('bad_request', 'Invalid media.');
    /** @type {import('./protocol.js').Media} */
    const m = { id: media.id };
    if (media.title) m.title = String(media.title);
    if (Number.isFinite(media.duration) && Number(media.duration) >= 0) m.duration = media.duration;
    return this.connection.send(msg.queueAdd(m, index), { queue: true });
  }

  /** @param {string} mediaId */
  queueRemove(mediaId) {
    this._queueAllowed('change the queue');
    return this.connection.send(msg.queueRemove(mediaId), { queue: true });
  }

  /** Move a queued item to `index` (0: next). @param {string} mediaId @param {number} index */
  queueMove(mediaId, index) {
    this._queueAllowed('change the queue');
    if (!Number.isInteger(index) || index < 0 || index >= this.queue.length) throw new MatineeError('bad_request', 'No such place in the queue.');
    return this.connection.send(msg.queueMove(mediaId, index), { queue: true });
  }

  queueClear() {
    this._queueAllowed('change the queue');
    return this.connection.send(msg.queueClear(), { queue: true });
  }

  /**
   * The player reached the end of its item: whoever may drive playback says so once per
   * state, for the room's own item; the server moves everyone on to the next queued item.
   */
  _onEnded() {
    const st = this.room?.state;
    if (!st?.media || !this.can('playback') || this._endedSeq === st.seq) return;
    let current = null;
    try { current = this.player.getMedia?.()?.id ?? null; } catch { current = null; }
    if (current !== null && current !== st.media.id) return; // another item than the room's
    this._endedSeq = st.seq;
    this.connection.send(msg.ended(st.media.id));
  }

  /**
   * Grant or take back rights: `rights` is the member's whole set from now on.
   * @param {string} memberId
   * @param {Iterable<import('./protocol.js').Right>} rights
   */
  setRights(memberId, rights) {
    if (!this.isHost) throw new MatineeError('forbidden', 'Only the host can grant or take back rights.');
    const list = [...rights];
    if (list.some((r) => !RIGHTS.includes(r))) throw new MatineeError('bad_request', 'Unknown right.');
    if (!this.room?.members.some((x) => x.id === memberId) || memberId === this.room.you) {
      throw new MatineeError('bad_request', 'No such member.');
    }
    return this.connection.send(msg.setRights(memberId, list));
  }

  // ---- from the player ----

  /** @param {import('./playback.js').Intent} i */
  _onIntent(i) {
    if (i.type === 'rate' && i.rate) {
      // A speed from the player's menu is the room's rate (`play.rate`, DESIGN §8). `play` is
      // the only intent that carries a rate, so while the room is paused it waits for this
      // member's next play (the menu shows it meanwhile) or for the room to play again. A room
      // waiting for a buffering member means to play: the intent goes now.
      const st = this.room?.state;
      if (st?.playing || st?.reason === 'waiting' || !this.canControl) {
        this._intent(msg.play(this._herePosition(), i.rate));
      } else if (this.room) {
        this._wantedRate = i.rate;
        this.player.showRate?.(i.rate);
      }
      return;
    }
    // A play from the player carries where the core says the room should start: after the
    // person's own seek (still unanswered) that seek's position, not the room's old one.
    if (i.type === 'play') this._intent(this._playMessage(i.position));
    else if (i.type === 'pause') this._intent(msg.pause(i.position));
    else this._intent(msg.seek(i.position));
  }

  // ---- from the server ----

  _onWelcome(m, resumedLocally) {
    this.user = m.user || null;
    this.timesync.restartBurst();
    // Seed the clock from welcome until the first pong (RTT unknown, so only roughly).
    if (Number.isFinite(m.server_time)) this.timesync.seed(m.server_time - this.now());
    const resumed = typeof m.resumed === 'boolean' ? m.resumed : resumedLocally;
    this.emit('welcome', { resumed, user: this.user });
    if (!resumed && this.room) {
      // The seat is gone (server restarted, or we were away longer than the resume window):
      // ask for the room again by its code.
      const code = this.room.code;
      this._leftRoom(null);
      this.joinRoom(code).catch((e) => {
        this.emit('left', 'room_closed');
        this.emit('error', e);
      });
    }
  }

  _onMessage(m) {
    const pending = m.id !== undefined ? this._pending.get(String(m.id)) : undefined;
    if (pending) {
      this._pending.delete(String(m.id));
      this.timers.clearTimeout(pending.timer);
    }
    switch (m.type) {
      case 'pong':
        this.timesync.handlePong(m);
        this.emit('sync', this.core.sync, this.timesync);
        break;
      case 'room': {
        this.room = { code: m.code, you: m.you, host: m.host, settings: m.settings || {}, members: m.members, state: m.state };
        this.queue = Array.isArray(m.queue) ? m.queue : [];
        this.connection.inRoom = true;
        this._lastRoomCode = m.code;
        const keep = pending?.type === 'create_room' ? this._keepOnCreate : null;
        if (keep && m.state && !m.state.playing && m.you === m.host) {
          // Where the player is now (the snapshot's seq, so the intent's answer replaces it).
          let position = keep.position;
          try { position = Math.max(0, this.player.getPosition()); } catch { /* keep the first reading */ }
          this.core.applyState({ ...m.state, position, playing: keep.playing, at: this.timesync.serverNow() }, { snapshot: true });
          // A play is scheduled `lead` ahead (at least 80 ms, DESIGN §3): aim at where the
          // player will be then, so it only waits out the lead instead of stepping back.
          this.connection.send(keep.playing ? msg.play(position + this.settings.createLeadGuessMs / 1000) : msg.pause(position));
        } else {
          this.core.applyState(m.state, { snapshot: true });
        }
        this.emit('room', this.room);
        this.emit('queue', { items: this.queue, change: 'room', by: null });
        pending?.resolve(this.room);
        break;
      }
      case 'state': {
        const st = stateOf(m);
        if (!this.room) break;
        if (this.core.applyState(st)) {
          // Paused still (a seek, another pause): the pick stands, and the menu shows it.
          if (st.playing) this._wantedRate = null;
          else if (this._wantedRate !== null) this.player.showRate?.(this._wantedRate);
          this.room.state = st;
          this.emit('state', st);
        }
        break;
      }
      case 'members':
        if (!this.room) break;
        this.room.members = m.list;
        if (typeof m.host === 'string') this.room.host = m.host;
        this.emit('members', m.list, this.room.host);
        break;
      case 'chat': {
        const entry = { from: m.from, name: String(m.name ?? ''), text: m.text, at: m.at };
        this.chatLog.push(entry);
        if (this.chatLog.length > this.settings.maxChatHistory) this.chatLog.shift();
        this.emit('chat', entry);
        break;
      }
      case 'reaction':
        this.emit('reaction', { from: m.from, emoji: m.emoji, at: m.at });
        break;
      case 'ready_check':
        if (!this.room) break;
        this.readyState = { by: m.by, until: m.until, start: Boolean(m.start) };
        this.emit('ready_check', this.readyState);
        break;
      case 'queue':
        if (!this.room) break;
        this.queue = m.items;
        this.emit('queue', { items: m.items, change: m.change, by: m.by ?? null });
        break;
      case 'ready_result':
        if (!this.room) break;
        this.readyState = null;
        this.emit('ready_result', { by: m.by, result: m.result, ready: m.ready, not_ready: m.not_ready, no_answer: m.no_answer });
        break;
      case 'left':
        this._lastRoomCode = null;
        this._leftRoom(m.reason);
        break;
      case 'error': {
        const err = new MatineeError(m.code, m.message || m.code);
        if (pending) {
          pending.reject(err);
        } else {
          // A refused intent: put the player back where the room is.
          if (m.code === 'forbidden') this.core.reassert();
          this.emit('error', err);
        }
        break;
      }
      default:
        break; // unknown types are ignored: the protocol may grow
    }
  }

  /** @param {string|null} reason null: silently (about to rejoin) */
  _leftRoom(reason) {
    this.room = null;
    this.readyState = null;
    this.queue = [];
    this._wantedRate = null;
    this.connection.inRoom = false;
    this.core.reset();
    this.chatLog = [];
    if (reason) this.emit('left', reason);
  }

  _sendStatus() {
    if (!this.room || this.connection.status !== 'open') {
      this.emit('sync', this.core.sync, this.timesync);
      return;
    }
    const r = this.core.report();
    this.connection.send(msg.status({
      position: r.position,
      playing: r.playing,
      buffering: r.buffering,
      rtt_ms: this.timesync.rttMs,
      offset_ms: this.timesync.offsetMs,
      error_ms: r.error_ms,
      seek_ms: r.seek_ms,
    }));
    this.emit('sync', this.core.sync, this.timesync);
  }
}
