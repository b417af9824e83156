// @ts-check
/**
 * "Who did what": the short notices shown over the video for every room event ("Ann paused",
 * "Bob seeked to 1:02:15", "Waiting for Cleo (buffering)", "Dan joined", "Eve is now the host"),
 * and the board that shows them one at a time.
 *
 * Everything here is derived from what the server already sends (DESIGN §3): a `state`'s
 * `reason`, `by`, `rate`, `media` and `waiting_for`, and the changes between two `members`
 * lists; member ids become names through the room's member list. No DOM, no clock of its own:
 * it runs in Node (test/unit/notices.test.js).
 *
 * One's own actions get no notice (one knows what one clicked); becoming host does.
 *
 * Public API:
 *   formatTime(seconds)                                  "1:02:15", "2:05", "0:07"
 *   stateNotice(prev, state, room, t) → Notice|null      prev: the state applied before
 *   memberNotices(before, after, t) → Notice[]           before/after: {host, you, members}
 *   queueNotice(before, change, room, t) → Notice|null   a `queue` message (items, change, by)
 *   new NoticeBoard({timers, now, show, minMs?, holdMs?, maxPending?})
 *     .push(notice)  .clear()  .current (Notice|null)  .pending (Notice[])
 *   Notice = {key, text}: notices with the same key replace each other (a burst of seeks
 *   by the host shows as the last one), others wait their turn.
 *
 * @module ui/notices
 */

/** @typedef {{key: string, text: string}} Notice */
/** @typedef {(key: string, vars?: Record<string, string|number>) => string} Translate */

/** Longest name put in a notice (characters); longer ones end with "…". */
const MAX_NAME = 32;

/**
 * Media time as jellyfin-web's OSD writes it: h:mm:ss from an hour, else m:ss.
 * @param {number} seconds
 */
export function formatTime(seconds) {
  const s = Math.max(0, Math.floor(Number.isFinite(seconds) ? seconds : 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** @param {unknown} name */
function shortName(name) {
  const chars = [...String(name ?? '').trim()];
  if (!chars.length) return '?';
  return chars.length > MAX_NAME ? `${chars.slice(0, MAX_NAME - 1).join('')}…` : chars.join('');
}

/**
 * @param {{members?: {id: string, name: string}[]}} room
 * @param {string|null|undefined} id
 */
function nameOf(room, id) {
  const m = (room.members || []).find((x) => x.id === id);
  return m ? shortName(m.name) : null;
}

/** @param {number} rate */
function rateText(rate) {
  return `${Math.round(rate * 100) / 100}×`;
}

/**
 * The notice for a newly applied state, or null (one's own action, or nothing to say).
 * @param {import('../core/protocol.js').PlaybackState|null} prev
 * @param {import('../core/protocol.js').PlaybackState} st
 * @param {{you: string, members: {id: string, name: string}[]}} room
 * @param {Translate} t
 * @returns {Notice|null}
 */
export function stateNotice(prev, st, room, t) {
  if (!st || typeof st !== 'object') return null;
  const key = 'playback';
  if (st.reason === 'waiting') {
    const ids = Array.isArray(st.waiting_for) ? st.waiting_for : [];
    const names = ids.map((id) => (id === room.you ? t('you') : nameOf(room, id) || '?'));
    return { key, text: names.length ? t('noticeWaiting', { names: names.join(', ') }) : t('noticeWaitingAnon') };
  }
  if (st.reason === 'resume') return { key, text: t('noticeResume') };
  if (st.reason === 'host_left') return { key, text: t('noticeHostLeft') };
  if (st.cause === 'queue' && st.reason === 'media') {
    // The item ended and the queue moves everyone on (a server decision: nobody's click).
    const title = st.media?.title ? shortName(st.media.title) : '';
    return { key, text: title ? t('noticeQueueNext', { title }) : t('noticeQueueNextUntitled') };
  }
  if (st.by && st.by === room.you) return null;
  const name = st.by ? nameOf(room, st.by) : null;
  const who = (/** @type {string} */ k, vars = {}) => (name ? t(k, { name, ...vars }) : t(`${k}Anon`, vars));
  switch (st.reason) {
    case 'play':
      if (prev && prev.rate !== st.rate) return { key, text: who('noticeRate', { rate: rateText(st.rate) }) };
      return { key, text: who('noticePlay') };
    case 'pause':
      return { key, text: who('noticePause') };
    case 'seek':
      return { key, text: who('noticeSeek', { time: formatTime(st.position) }) };
    case 'media': {
      const title = st.media?.title ? shortName(st.media.title) : '';
      return { key, text: title ? who('noticeMedia', { title }) : who('noticeMediaUntitled') };
    }
    default:
      return null; // a reason this client does not know: the protocol may grow
  }
}

/**
 * The notice for a change of the queue by someone else ("Ann queued Tick 2"), or null (one's
 * own change; the queue moving on at the end, which the `state` that follows announces).
 * @param {{id: string, title?: string}[]} before the queue before the change
 * @param {{items: {id: string, title?: string}[], change: string, by: string|null}} q
 * @param {{you: string, members: {id: string, name: string}[]}} room
 * @param {Translate} t
 * @returns {Notice|null}
 */
export function queueNotice(before, q, room, t) {
  if (!q.by || q.by === room.you) return null;
  const name = nameOf(room, q.by) || '?';
  const titled = (/** @type {{title?: string}|undefined} */ m) => (m?.title ? shortName(m.title) : t('queueUntitled'));
  const key = 'queue';
  switch (q.change) {
    case 'add': {
      const had = new Set(before.map((m) => m.id));
      return { key, text: t('noticeQueueAdd', { name, title: titled(q.items.find((m) => !had.has(m.id))) }) };
    }
    case 'remove': {
      const has = new Set(q.items.map((m) => m.id));
      return { key, text: t('noticeQueueRemove', { name, title: titled(before.find((m) => !has.has(m.id))) }) };
    }
    case 'move':
      return { key, text: t('noticeQueueMove', { name }) };
    case 'clear':
      return { key, text: t('noticeQueueClear', { name }) };
    default:
      return null;
  }
}

/**
 * Joins, departures and a new host, between two member lists.
 * @param {{host: string, you: string, members: {id: string, name: string}[]}|null} before
 * @param {{host: string, you: string, members: {id: string, name: string}[]}} after
 * @param {Translate} t
 * @returns {Notice[]}
 */
export function memberNotices(before, after, t) {
  if (!before) return [];
  const out = [];
  const was = new Map(before.members.map((m) => [m.id, m]));
  const now = new Map(after.members.map((m) => [m.id, m]));
  for (const [id, m] of now) {
    if (!was.has(id) && id !== after.you) out.push({ key: `member:${id}`, text: t('noticeJoined', { name: shortName(m.name) }) });
  }
  for (const [id, m] of was) {
    if (!now.has(id) && id !== after.you) out.push({ key: `member:${id}`, text: t('noticeLeft', { name: shortName(m.name) }) });
  }
  if (after.host && after.host !== before.host) {
    const name = nameOf(after, after.host);
    if (after.host === after.you) out.push({ key: 'host', text: t('noticeYouHost') });
    else if (name) out.push({ key: 'host', text: t('noticeHost', { name }) });
  }
  return out;
}

/**
 * One notice on screen at a time. A notice stays at least `minMs` before the next replaces it,
 * and goes after `holdMs` when nothing follows. A notice with the key of the one on screen
 * replaces its text at once (a burst reads as its last event); one with the key of a waiting
 * one takes that one's place in the line; beyond `maxPending` waiting, the oldest is dropped
 * (a flood never builds a backlog that would keep the screen busy for minutes).
 */
export class NoticeBoard {
  /**
   * @param {{timers: {setTimeout: Function, clearTimeout: Function}, now: () => number,
   *   show: (notice: Notice|null) => void, minMs?: number, holdMs?: number, maxPending?: number}} o
   */
  constructor({ timers, now, show, minMs = 1500, holdMs = 4000, maxPending = 3 }) {
    this.timers = timers;
    this.now = now;
    this.show = show;
    /** Shortest time a notice is on screen before another replaces it (ms): long enough to read a short line. */
    this.minMs = minMs;
    /** How long a notice stays when nothing follows it (ms). */
    this.holdMs = holdMs;
    /** Most notices waiting their turn. */
    this.maxPending = maxPending;
    /** @type {Notice|null} */
    this.current = null;
    /** @type {Notice[]} */
    this.pending = [];
    this._shownAt = 0;
    this._updatedAt = 0;
    this._timer = null;
  }

  /** @param {Notice|null|undefined} notice */
  push(notice) {
    if (!notice || !notice.text) return;
    if (this.current && this.current.key === notice.key && !this.pending.length) {
      this.current = notice;
      this._updatedAt = this.now();
      this.show(notice);
    } else if (!this.current) {
      this._display(notice);
    } else {
      const same = this.pending.findIndex((p) => p.key === notice.key);
      if (same >= 0) this.pending.splice(same, 1);
      this.pending.push(notice);
      while (this.pending.length > this.maxPending) this.pending.shift();
    }
    this._schedule();
  }

  clear() {
    this.pending = [];
    this.current = null;
    if (this._timer !== null) this.timers.clearTimeout(this._timer);
    this._timer = null;
    this.show(null);
  }

  /** @param {Notice} notice */
  _display(notice) {
    this.current = notice;
    this._shownAt = this._updatedAt = this.now();
    this.show(notice);
  }

  _schedule() {
    if (this._timer !== null) this.timers.clearTimeout(this._timer);
    this._timer = null;
    if (!this.current) return;
    const due = this.pending.length ? this._shownAt + this.minMs : this._updatedAt + this.holdMs;
    this._timer = this.timers.setTimeout(() => this._tick(), Math.max(0, due - this.now()));
  }

  _tick() {
    this._timer = null;
    const next = this.pending.shift();
    if (next) this._display(next);
    else {
      this.current = null;
      this.show(null);
    }
    this._schedule();
  }
}
