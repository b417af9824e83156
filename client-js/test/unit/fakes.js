// @ts-check
// Test doubles for the core's injected dependencies: a virtual clock with timers, a seeded
// random generator, a fake WebSocket and a simulated player. Only the core's *dependencies*
// are faked here; the core classes under test are the real ones.

/** Deterministic PRNG (mulberry32), so a failing run can be replayed. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Exponentially distributed value with the given mean. */
export function expo(random, mean) {
  return -Math.log(1 - random()) * mean;
}

/** A virtual clock (ms) with setTimeout/setInterval that run when time is advanced. */
export class FakeClock {
  constructor(start = 1000) {
    this.t = start;
    this.seq = 0;
    /** @type {Map<number, {at: number, fn: () => void, every: number|null, seq: number}>} */
    this.tasks = new Map();
    this.nextId = 1;
    this.now = () => this.t;
    this.timers = {
      setTimeout: (fn, ms) => this._add(fn, ms, null),
      clearTimeout: (id) => { this.tasks.delete(id); },
      setInterval: (fn, ms) => this._add(fn, ms, Math.max(1, ms)),
      clearInterval: (id) => { this.tasks.delete(id); },
    };
  }

  _add(fn, ms, every) {
    const id = this.nextId++;
    this.tasks.set(id, { at: this.t + Math.max(0, ms || 0), fn, every, seq: this.seq++ });
    return id;
  }

  /** Runs every timer due up to now + ms, in time order, moving the clock along. */
  advance(ms) {
    const end = this.t + ms;
    for (;;) {
      let next = null;
      let nextId = 0;
      for (const [id, task] of this.tasks) {
        if (task.at <= end && (!next || task.at < next.at || (task.at === next.at && task.seq < next.seq))) {
          next = task;
          nextId = id;
        }
      }
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      if (next.every) {
        next.at += next.every;
        next.seq = this.seq++;
      } else {
        this.tasks.delete(nextId);
      }
      next.fn();
    }
    this.t = end;
  }
}

/**
 * A fake WebSocket: records what the client sends; the test delivers server frames with
 * `serverSend` and drives open/close. All fakes share one registry so a test can reach the
 * socket the client created.
 */
export class FakeSocketFactory {
  constructor() {
    /** @type {FakeSocket[]} */
    this.sockets = [];
    this.create = (url) => {
      const s = new FakeSocket(url);
      this.sockets.push(s);
      return s;
    };
  }

  get last() {
    return this.sockets[this.sockets.length - 1];
  }
}

export class FakeSocket {
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    /** @type {any[]} */
    this.sent = [];
    this.onopen = null;
    this.onmessage = null;
    this.onclose = null;
    this.onerror = null;
  }

  send(text) {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(text));
  }

  close(code = 1000, reason = '') {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    this.onclose?.({ code, reason, wasClean: true });
  }

  // --- test side ---
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }

  serverSend(obj) {
    this.onmessage?.({ data: JSON.stringify(obj) });
  }

  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code, reason: '', wasClean: false });
  }

  sentOfType(type) {
    return this.sent.filter((m) => m.type === type);
  }
}

/**
 * A simulated player on the fake clock: position advances with its rate while playing;
 * seeks take `seekLatencyMs` during which the position is frozen at the target; a rate change
 * takes effect `rateLagMs` late. Commands are recorded. `userPause()` etc. simulate a person.
 * With `eventLagMs` > 0 the events of a seek (the core's or `userSeekAndPlay`'s) are queued
 * that late, in the order a browser queues them, instead of firing inside the call.
 */
export class SimPlayer {
  constructor(clock, { seekLatencyMs = 0, rateLagMs = 0, streaming = false, media = { id: 'm1' }, eventLagMs = 0 } = {}) {
    this.clock = clock;
    this.seekLatencyMs = seekLatencyMs;
    this.eventLagMs = eventLagMs;
    this.rateLagMs = rateLagMs;
    this.streaming = streaming;
    this.media = media;
    this.pos = 0;
    this.paused = true;
    this.rate = 1;
    this.pendingRate = null;
    this.seekingUntil = null;
    this.last = clock.now();
    this.buffering = false;
    /** @type {string[]} */
    this.commands = [];
    /** @type {Record<string, Set<Function>>} */
    this.handlers = {};
  }

  _advance() {
    const now = this.clock.now();
    if (this.pendingRate && now >= this.pendingRate.at) {
      this._run(this.pendingRate.at);
      this.rate = this.pendingRate.rate;
      this.pendingRate = null;
    }
    this._run(now);
  }

  _run(until) {
    const from = this.last;
    if (until <= from) return;
    let start = from;
    if (this.seekingUntil !== null) {
      if (until < this.seekingUntil) { this.last = until; return; }
      start = Math.max(from, this.seekingUntil);
      this.seekingUntil = null;
      this._emit('seeked');
    }
    if (!this.paused && !this.buffering) this.pos += (until - start) / 1000 * this.rate;
    this.last = until;
  }

  on(event, fn) {
    (this.handlers[event] ||= new Set()).add(fn);
    return () => this.handlers[event].delete(fn);
  }

  _emit(event, ...args) {
    for (const fn of this.handlers[event] || []) fn(...args);
  }

  /** Fires now, or `eventLagMs` later (queued in call order, as a browser's media tasks). */
  _emitQueued(event) {
    if (this.eventLagMs > 0) this.clock.timers.setTimeout(() => this._emit(event), this.eventLagMs);
    else this._emit(event);
  }

  /** A seek begins: `seeking` now (or queued), `seeked` once it is over. A seek begun while
   *  another is under way supersedes it: only the last one reports `seeked`. */
  _startSeek(seconds) {
    this.pos = seconds;
    this._emitQueued('seeking');
    if (this.seekLatencyMs > 0) {
      this.seekingUntil = this.clock.now() + this.seekLatencyMs;
      // Fire `seeked` on time even if nobody reads the position.
      this.clock.timers.setTimeout(() => this._advance(), this.seekLatencyMs);
    } else {
      this.clock.timers.setTimeout(() => this._emit('seeked'), Math.max(1, this.eventLagMs + 1));
    }
  }

  // --- the generic player interface ---
  getPosition() { this._advance(); return this.pos; }
  isPaused() { return this.paused; }
  isSeeking() { this._advance(); return this.seekingUntil !== null; }
  isBuffering() { return this.buffering; }
  isStreaming() { return this.streaming; }
  getRate() { this._advance(); return this.pendingRate ? this.pendingRate.rate : this.rate; }
  getMedia() { return this.media; }
  setRate(r) {
    this._advance();
    this.commands.push(`rate:${r.toFixed(4)}`);
    if (this.rateLagMs) this.pendingRate = { rate: r, at: this.clock.now() + this.rateLagMs };
    else this.rate = r;
  }
  play() {
    this._advance();
    this.commands.push('play');
    if (this.paused) { this.paused = false; this.clock.timers.setTimeout(() => this._emit('play'), 5); }
  }
  pause() {
    this._advance();
    this.commands.push('pause');
    if (!this.paused) { this.paused = true; this.clock.timers.setTimeout(() => this._emit('pause'), 5); }
  }
  seek(seconds) {
    this._advance();
    this.commands.push(`seek:${seconds.toFixed(3)}`);
    this._startSeek(seconds);
  }

  // --- the person in front of it ---
  userPause() { this._advance(); this.paused = true; this._emit('pause'); }
  /** A speed picked in the player's own menu (what JellyfinPlayer emits as 'rate'). */
  userPicksRate(r) { this._emit('rate', r); }
  /** The rate the player's menu shows (JellyfinPlayer.showRate). */
  showRate(r) { this.shownRate = r; }
  userPlay() { this._advance(); this.paused = false; this._emit('play'); }
  userSeek(s) { this._advance(); this.pos = s; this._emit('seeking'); this._emit('seeked'); }
  /** `v.currentTime = s; v.play()` on the <video>: the seek's events, then `play` (queued
   *  after `seeking` when eventLagMs > 0, as Chromium queues them). */
  userSeekAndPlay(s) {
    this._advance();
    this._startSeek(s);
    if (this.paused) { this.paused = false; this._emitQueued('play'); }
  }
}
