// @ts-check
/**
 * Protocol v1 (DESIGN §3): message shapes, builders for what the client sends, a checked
 * parser for what the server sends, and the one formula.
 *
 * Public API:
 *   PROTOCOL_VERSION                      1
 *   ERROR_CODES, CLOSE_CODES              the normative codes
 *   expectedPosition(state, serverTimeMs) the one formula: media seconds at a server time
 *   parseServerMessage(text)              → ServerMessage, or throws ProtocolError
 *   msg.hello/ping/createRoom/…           builders for client → server messages
 *
 * @module core/protocol
 */

export const PROTOCOL_VERSION = 1;

/** Error codes the server may send in `error.code`. */
export const ERROR_CODES = Object.freeze([
  'bad_request', 'unauthorized', 'forbidden', 'room_not_found', 'room_full', 'rate_limited',
  'too_large', 'unsupported_protocol', 'unavailable', 'internal',
]);

/** WebSocket close codes the server uses. */
export const CLOSE_CODES = Object.freeze({
  PROTOCOL_VIOLATION: 4000,
  UNAUTHORIZED: 4001,
  TOO_SLOW: 4003,
  RATE_LIMITED: 4008,
  TOO_LARGE: 1009,
  SHUTDOWN: 1001,
});

/**
 * Rights the host grants a member (an added field of `members`, docs/protocol.md "Rights"):
 * `playback` is play/pause/seek, `media` is changing the item. In their wire order.
 * @type {readonly Right[]}
 */
export const RIGHTS = Object.freeze(/** @type {Right[]} */ (['playback', 'media']));

/** Longest chat text the server accepts. */
export const MAX_CHAT_CHARS = 500;

/**
 * @typedef {{id: string, title?: string, duration?: number}} Media
 * @typedef {{
 *   media: Media|null, playing: boolean, position: number, rate: number, at: number,
 *   seq: number, reason: string, by: string|null, waiting_for?: string[], cause?: string
 * }} PlaybackState
 * @typedef {'playback'|'media'} Right
 * @typedef {{id: string, name: string, user_id?: string|null, rtt_ms?: number|null,
 *   error_ms?: number|null, buffering?: boolean, connected?: boolean, rights?: Right[],
 *   ready?: boolean}} Member
 * @typedef {{control: 'host'|'shared', wait_for_all: boolean}} RoomSettings
 * @typedef {{type: string, id?: string|number, [k: string]: any}} ServerMessage
 */

/**
 * The one formula (DESIGN §3): the expected media position, in seconds, at server time `t`
 * (ms since the epoch). Before `at` the media holds at `position`.
 * @param {Pick<PlaybackState, 'playing'|'position'|'rate'|'at'>} state
 * @param {number} t
 * @returns {number}
 */
export function expectedPosition(state, t) {
  return state.position + (state.playing ? Math.max(0, t - state.at) / 1000 * state.rate : 0);
}

export class ProtocolError extends Error {}

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const isStr = (v) => typeof v === 'string';

/**
 * Checks the fields the client relies on; unknown fields are kept (the protocol may grow).
 * @param {any} s
 * @returns {PlaybackState}
 */
function checkState(s) {
  if (!s || typeof s !== 'object') throw new ProtocolError('state: not an object');
  if (typeof s.playing !== 'boolean') throw new ProtocolError('state.playing: not a boolean');
  if (!isNum(s.position)) throw new ProtocolError('state.position: not a number');
  if (!isNum(s.rate) || s.rate <= 0) throw new ProtocolError('state.rate: not a positive number');
  if (!isNum(s.at)) throw new ProtocolError('state.at: not a number');
  if (!isNum(s.seq)) throw new ProtocolError('state.seq: not a number');
  if (s.media != null && (typeof s.media !== 'object' || !isStr(s.media.id))) {
    throw new ProtocolError('state.media: not a media object');
  }
  return s;
}

/**
 * A member list: every entry must at least be an object with a string `id` (the panel and the
 * waiting rule look members up by it); a list with anything else is refused whole.
 * @param {any} list
 * @param {string} what
 */
function checkMembers(list, what) {
  if (!Array.isArray(list)) throw new ProtocolError(`${what}: not a list`);
  for (const x of list) {
    if (!x || typeof x !== 'object' || !isStr(x.id)) throw new ProtocolError(`${what}: a member without an id`);
  }
}

/**
 * A queue (`room.queue`, `queue.items`): a list of media objects with string ids.
 * @param {any} list
 * @param {string} what
 */
function checkQueue(list, what) {
  if (!Array.isArray(list)) throw new ProtocolError(`${what}: not a list`);
  for (const x of list) {
    if (!x || typeof x !== 'object' || !isStr(x.id)) throw new ProtocolError(`${what}: an item without an id`);
  }
}

/** @type {Record<string, (m: any) => void>} */
const CHECKS = {
  welcome(m) {
    if (m.protocol !== PROTOCOL_VERSION) throw new ProtocolError('welcome: unsupported protocol');
    if (!isStr(m.session)) throw new ProtocolError('welcome.session: not a string');
    if (!isNum(m.server_time)) throw new ProtocolError('welcome.server_time: not a number');
  },
  pong(m) {
    if (!isNum(m.t0) || !isNum(m.t1) || !isNum(m.t2)) throw new ProtocolError('pong: bad times');
  },
  room(m) {
    if (!isStr(m.code) || !isStr(m.you)) throw new ProtocolError('room: code/you missing');
    checkMembers(m.members, 'room.members');
    checkState(m.state);
    // Added to v1: absent from older servers (then there is no queue).
    if (m.queue !== undefined) checkQueue(m.queue, 'room.queue');
  },
  state(m) {
    // The state may come flattened (`{type:"state", playing, …}`) as DESIGN's table shows;
    // accept a nested `state` too, so a server that wraps it still works.
    checkState(m.state && typeof m.state === 'object' ? m.state : m);
  },
  members(m) {
    checkMembers(m.list, 'members.list');
  },
  chat(m) {
    if (!isStr(m.text)) throw new ProtocolError('chat.text: not a string');
  },
  reaction(m) {
    if (!isStr(m.emoji)) throw new ProtocolError('reaction.emoji: not a string');
  },
  left(m) {
    if (!isStr(m.reason)) throw new ProtocolError('left.reason: not a string');
  },
  error(m) {
    if (!isStr(m.code)) throw new ProtocolError('error.code: not a string');
  },
  ready_check(m) {
    if (!isStr(m.by) || !isNum(m.until)) throw new ProtocolError('ready_check: by/until missing');
  },
  queue(m) {
    checkQueue(m.items, 'queue.items');
  },
  ready_result(m) {
    if (!isStr(m.result)) throw new ProtocolError('ready_result.result: not a string');
    for (const k of ['ready', 'not_ready', 'no_answer']) {
      if (!Array.isArray(m[k]) || !m[k].every(isStr)) throw new ProtocolError(`ready_result.${k}: not a list of ids`);
    }
  },
};

/**
 * Parses one text frame from the server.
 * @param {string} text
 * @returns {ServerMessage}
 */
export function parseServerMessage(text) {
  let m;
  try {
    m = JSON.parse(text);
  } catch {
    throw new ProtocolError('frame is not JSON');
  }
  if (!m || typeof m !== 'object' || Array.isArray(m) || !isStr(m.type)) {
    throw new ProtocolError('frame has no "type"');
  }
  const check = CHECKS[m.type];
  if (check) check(m);
  return m;
}

/**
 * The PlaybackState carried by a `state` message (flattened or nested).
 * @param {ServerMessage} m
 * @returns {PlaybackState}
 */
export function stateOf(m) {
  return m.state && typeof m.state === 'object' ? m.state : /** @type {any} */ (m);
}

/** Rounds to µs: keeps frames short without losing the sub-ms precision the protocol allows. */
const r3 = (x) => Math.round(x * 1000) / 1000;

/** Builders for client → server messages. */
export const msg = {
  /**
   * `device` names a seat that plays on another device than this browser (a TV it drives).
   * @param {{token?: string, resume?: string, name?: string, device?: string, client?: {name: string, version: string}}} o
   */
  hello(o) {
    /** @type {Record<string, any>} */
    const m = { type: 'hello', protocol: PROTOCOL_VERSION };
    if (o.token) m.token = o.token;
    if (o.resume) m.resume = o.resume;
    if (o.name) m.name = o.name;
    if (o.device) m.device = o.device;
    if (o.client) m.client = o.client;
    return m;
  },
  /** @param {number} t0 */
  ping: (t0) => ({ type: 'ping', t0 }),
  /** @param {{media?: Media|null, settings?: Partial<RoomSettings>}} [o] */
  createRoom(o = {}) {
    /** @type {Record<string, any>} */
    const m = { type: 'create_room' };
    if (o.media) m.media = o.media;
    if (o.settings) m.settings = o.settings;
    return m;
  },
  /** @param {string} code */
  joinRoom: (code) => ({ type: 'join_room', code }),
  leaveRoom: () => ({ type: 'leave_room' }),
  /** @param {number} position @param {number} [rate] */
  play: (position, rate) => (rate ? { type: 'play', position: r3(position), rate } : { type: 'play', position: r3(position) }),
  /** @param {number} position */
  pause: (position) => ({ type: 'pause', position: r3(position) }),
  /** @param {number} position */
  seek: (position) => ({ type: 'seek', position: r3(position) }),
  /** @param {Media} media @param {number} [position] */
  setMedia: (media, position) => (position != null ? { type: 'set_media', media, position: r3(position) } : { type: 'set_media', media }),
  /**
   * @param {{position: number, playing: boolean, buffering: boolean, rtt_ms: number|null,
   *   offset_ms: number|null, error_ms: number|null, seek_ms?: number|null}} s
   */
  status(s) {
    /** @type {Record<string, any>} */
    const m = {
      type: 'status',
      position: r3(s.position),
      playing: s.playing,
      buffering: s.buffering,
      rtt_ms: s.rtt_ms == null ? 0 : r3(s.rtt_ms),
      offset_ms: s.offset_ms == null ? 0 : r3(s.offset_ms),
      error_ms: s.error_ms == null ? 0 : r3(s.error_ms),
    };
    if (s.seek_ms != null) m.seek_ms = r3(s.seek_ms);
    return m;
  },
  /** @param {string} text */
  chat: (text) => ({ type: 'chat', text }),
  /** @param {string} emoji */
  reaction: (emoji) => ({ type: 'reaction', emoji }),
  /** @param {string} memberId */
  transferHost: (memberId) => ({ type: 'transfer_host', member_id: memberId }),
  /** @param {string} memberId */
  kick: (memberId) => ({ type: 'kick', member_id: memberId }),
  /**
   * The whole set of a member's rights from now on (`[]` takes every grant back), in
   * RIGHTS order, each once.
   * @param {string} memberId @param {Iterable<Right>} rights
   */
  /** Ask everyone "ready?"; `start`: the room plays when the check ends by itself. @param {boolean} start */
  readyCheck: (start) => ({ type: 'ready_check', start: Boolean(start) }),
  /** Answer the ready check in progress. @param {boolean} ready */
  ready: (ready) => ({ type: 'ready', ready: Boolean(ready) }),
  /** Queue an item, at the end or at `index` (0: next). @param {Media} media @param {number} [index] */
  queueAdd: (media, index) => (index != null ? { type: 'queue_add', media, index } : { type: 'queue_add', media }),
  /** @param {string} mediaId */
  queueRemove: (mediaId) => ({ type: 'queue_remove', media_id: mediaId }),
  /** @param {string} mediaId @param {number} index */
  queueMove: (mediaId, index) => ({ type: 'queue_move', media_id: mediaId, index }),
  queueClear: () => ({ type: 'queue_clear' }),
  /** The room's current item ended in this player. @param {string} mediaId */
  ended: (mediaId) => ({ type: 'ended', media_id: mediaId }),
  setRights: (memberId, rights) => {
    const want = new Set(rights);
    return { type: 'set_rights', member_id: memberId, rights: RIGHTS.filter((r) => want.has(r)) };
  },
};

/**
 * Normalises a room code as typed by a person: trims, drops spaces/dashes, upper-cases.
 * Returns null when what is left cannot be a code (so nothing is sent for garbage).
 * @param {string} input
 * @returns {string|null}
 */
export function normalizeRoomCode(input) {
  const code = String(input ?? '').replace(/[\s-]+/g, '').toUpperCase();
  return /^[A-Z0-9]{4,12}$/.test(code) ? code : null;
}
