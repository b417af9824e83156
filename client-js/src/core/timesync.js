// @ts-check
/**
 * Clock sync against the session server (DESIGN §4): NTP-style four-timestamp samples,
 * a window of recent samples, the offset taken from the bounds they prove (the quickest trip
 * each way, see _absorb) and smoothed with an EMA.
 *
 * Public API:
 *   new TimeSync({now, settings?, timers?, send?})
 *     now()              local monotonic clock in ms (performance.timeOrigin + performance.now()
 *                        in a browser; anything monotonic in Node)
 *     timers             {setTimeout, clearTimeout} — only needed for start()/stop()
 *     send(msg)          sends a `ping` message; returns false when it could not be sent
 *   .start()             burst of pings, then one every `pingIntervalMs`
 *   .stop()
 *   .restartBurst()      after a reconnect: keep the estimate, forget the old path's samples,
 *                        sample fast again
 *   .makePing()          → {type:'ping', t0} (t0 = now())
 *   .handlePong(pong)    feeds one `pong {t0,t1,t2}` (t3 = now() at arrival); returns the sample
 *   .addSample(t0,t1,t2,t3)  the same with explicit times (tests)
 *   .offsetMs            server − local, ms (null until the first sample)
 *   .rttMs               RTT of the best sample in the window (null until the first sample)
 *   .lastRttMs           RTT of the latest sample
 *   .synced              true once a trusted sample was absorbed
 *   .seed(offsetMs)      rough offset until the first sample (welcome.server_time)
 *   .serverNow(local?)   local time → server time (ms since the epoch)
 *   .localFromServer(t)  server time → local time
 *
 * @module core/timesync
 */

import { DEFAULT_SETTINGS } from './settings.js';

/**
 * @typedef {{t0: number, t1: number, t2: number, t3: number, rtt: number, offset: number}} Sample
 * @typedef {{setTimeout: (fn: () => void, ms: number) => any, clearTimeout: (h: any) => void}} Timers
 */

export class TimeSync {
  /**
   * @param {{now: () => number, settings?: import('./settings.js').Settings,
   *   timers?: Timers, send?: (m: {type: 'ping', t0: number}) => boolean|void}} deps
   */
  constructor({ now, settings = DEFAULT_SETTINGS, timers, send }) {
    if (typeof now !== 'function') throw new TypeError('TimeSync needs a now() clock');
    this.now = now;
    this.settings = settings;
    this.timers = timers;
    this.send = send;
    /** @type {Sample[]} */
    this.samples = [];
    /** @type {number|null} */
    this.offsetMs = null;
    /** @type {number|null} */
    this.rttMs = null;
    /** @type {number|null} */
    this.lastRttMs = null;
    this.synced = false;
    this._timer = null;
    this._burstLeft = 0;
    this._running = false;
  }

  /** @returns {{type: 'ping', t0: number}} */
  makePing() {
    return { type: 'ping', t0: this.now() };
  }

  /**
   * @param {{t0: number, t1: number, t2: number}} pong
   * @returns {Sample|null}
   */
  handlePong(pong) {
    return this.addSample(pong.t0, pong.t1, pong.t2, this.now());
  }

  /**
   * One NTP sample: t0 client send, t1 server receive, t2 server send, t3 client receive.
   * @returns {Sample|null} the sample, or null when it is impossible (negative RTT, t0 from
   *   the future) and was dropped.
   */
  addSample(t0, t1, t2, t3) {
    if (![t0, t1, t2, t3].every(Number.isFinite)) return null;
    const rtt = (t3 - t0) - (t2 - t1);
    // A t0 we never sent (from the future) or a negative RTT is a bad echo; ignore it.
    if (rtt < 0 || t0 > t3 || t2 < t1) return null;
    const offset = ((t1 - t0) + (t2 - t3)) / 2;
    const sample = { t0, t1, t2, t3, rtt, offset };
    this.samples.push(sample);
    while (this.samples.length > this.settings.timeSyncWindow) this.samples.shift();
    this.lastRttMs = rtt;
    this._absorb(sample);
    return sample;
  }

  /**
   * Moves the estimate toward the centre of what the window's samples prove.
   *
   * A sample proves a bound in each direction: the server stamped t1 after the ping left at
   * t0, so server − local ≤ t1 − t0, and it stamped t2 before the pong arrived at t3, so
   * server − local ≥ t2 − t3. Queueing and jitter only ever widen these bounds, so the
   * tightest upper bound (the quickest trip out) and the tightest lower bound (the quickest
   * trip back) pin the offset down, whichever samples they come from — two half-lucky
   * samples are as good as one lucky one. An older bound is widened by the drift the clocks
   * may have had since (settings.timeSyncDriftPpm), so it fades instead of holding a stale
   * value. The estimate moves toward the middle of the narrowest interval with an EMA and
   * never leaves the interval, so it is always a value every sample allows.
   *
   * Samples that contradict the newest one (no offset satisfies all of them: the clock jumped
   * or drifted faster than allowed) describe a clock that no longer exists; the oldest are
   * dropped until the rest agree, and the estimate follows at once.
   *
   * Sync harness model (40 ± 15 ms one-way, 1 ping/s, ±100 ppm; `node
   * client-js/bench/clock-filter.mjs`): pairwise p99 of the estimates' errors 5.4 ms, against
   * 15.3 ms (9.0 without the model's delay spikes) for the window's RTT-weighted mean of
   * low-RTT samples that this replaced.
   * @param {Sample} sample
   */
  _absorb(sample) {
    const s = this.settings;
    let bounds = this._bounds(sample.t3);
    while (bounds.lo > bounds.hi && this.samples.length > 1) {
      this.samples.shift();
      bounds = this._bounds(sample.t3);
    }
    const { lo, hi } = bounds;
    let minRtt = Infinity;
    for (const x of this.samples) minRtt = Math.min(minRtt, x.rtt);
    this.rttMs = minRtt;
    const target = (lo + hi) / 2;
    if (!this.synced || this.offsetMs === null || this.offsetMs < lo || this.offsetMs > hi) {
      // The first real estimate replaces any rough seed, and an estimate the samples rule out
      // is replaced by their centre at once: one quick round trip fixes an estimate built from
      // slow early ones (a page still loading answers pongs late), and a jumped clock is taken
      // at once, not over many EMA steps.
      this.offsetMs = target;
    } else {
      this.offsetMs += s.timeSyncEmaAlpha * (target - this.offsetMs);
    }
    this.synced = true;
  }

  /**
   * The interval the window's samples allow for server − local at local time `at`: each
   * sample's [t2 − t3, t1 − t0], widened by the drift allowed since it was taken.
   * @param {number} at
   * @returns {{lo: number, hi: number}}
   */
  _bounds(at) {
    const drift = this.settings.timeSyncDriftPpm * 1e-6;
    let lo = -Infinity;
    let hi = Infinity;
    for (const x of this.samples) {
      const slack = Math.abs(at - x.t3) * drift;
      lo = Math.max(lo, x.t2 - x.t3 - slack);
      hi = Math.min(hi, x.t1 - x.t0 + slack);
    }
    return { lo, hi };
  }

  /**
   * A rough offset to use until the first pong (e.g. from `welcome.server_time`, off by the
   * one-way delay); the first real sample replaces it entirely.
   * @param {number} offsetMs
   */
  seed(offsetMs) {
    if (!this.synced && Number.isFinite(offsetMs)) this.offsetMs = offsetMs;
  }

  /** Local ms → server ms since the epoch (0 offset until synced). */
  serverNow(local = this.now()) {
    return local + (this.offsetMs ?? 0);
  }

  /** Server ms → local ms. */
  localFromServer(serverTime) {
    return serverTime - (this.offsetMs ?? 0);
  }

  /** Starts sending pings: a burst, then steady. Needs `timers` and `send`. */
  start() {
    if (!this.timers || !this.send) throw new TypeError('TimeSync.start needs timers and send');
    this._running = true;
    this.restartBurst();
  }

  restartBurst() {
    // A new connection: the old samples' round trips describe the old network path. Kept,
    // their low minimum would reject every sample of a slower new path (Wi-Fi → LTE, a
    // laptop waking up) for the ~30 s they take to leave the window, and with them the news
    // that the clock jumped while it slept. The estimate itself is kept: the burst refines it,
    // or replaces it when the clock did jump.
    this.samples = [];
    if (!this._running) return;
    this._burstLeft = this.settings.pingBurstCount;
    this._clear();
    this._tick();
  }

  stop() {
    this._running = false;
    this._clear();
  }

  _clear() {
    if (this._timer !== null && this.timers) this.timers.clearTimeout(this._timer);
    this._timer = null;
  }

  _tick() {
    if (!this._running || !this.timers || !this.send) return;
    this.send(this.makePing());
    let delay = this.settings.pingIntervalMs;
    if (this._burstLeft > 0) {
      this._burstLeft -= 1;
      if (this._burstLeft > 0) delay = this.settings.pingBurstIntervalMs;
    }
    this._timer = this.timers.setTimeout(() => this._tick(), delay);
  }
}
