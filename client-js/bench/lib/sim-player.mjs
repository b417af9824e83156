// @ts-check
/**
 * A simulated media player for the sync harness, implementing the generic player interface
 * of players/player.js. Its media clock runs on the harness's god's-eye clock, so the
 * harness knows each player's true position at any instant (`truePosition(g)`), while the
 * client core only sees what a browser would show it (`getPosition()`, quantised).
 *
 * What it imitates, because each of these is something the sync code must cope with:
 *   - start latency: after play() the media starts moving only some ms later;
 *   - seek latency by media kind: progressive ~50–150 ms, HLS ~300–1500 ms (segment fetch);
 *     during a seek currentTime already reads the target, as in browsers;
 *   - playbackRate changes that take effect after a short delay (audio pipeline);
 *   - buffering stalls on demand (the media freezes, isBuffering() is true);
 *   - currentTime reported with a resolution (browsers coarsen timers; 1 ms by default).
 *
 * State is computed lazily from a list of timed transitions, so positions are exact at any
 * god time regardless of when the event loop gets round to it.
 *
 * API (besides the player interface):
 *   new SimPlayer({god, timers, rng, kind, resolutionMs, startLatencyMs, rateDelayMs})
 *   .truePosition(g?)   exact media seconds at god time g (default now)
 *   .isAdvancing(g?)    media is really moving
 *   .effectiveRate(g?)  the rate really applied at g
 *   .reportedPosition(g) what getPosition() shows at god time g (quantised, the seek target
 *                        during a seek)
 *   .stall(ms)          a buffering stall starting now
 *   .seeks, .rateChanges  counters
 *
 * @module bench/sim-player
 */

import { Emitter } from '../../src/players/player.js';

/** Seek latency ranges (ms) by media kind. */
export const SEEK_LATENCY_MS = Object.freeze({
  progressive: [50, 150],
  hls: [300, 1500],
});

/** Start latency ranges (ms): decoder and audio output warm-up after play(). */
export const START_LATENCY_MS = Object.freeze({
  progressive: [20, 60],
  hls: [40, 120],
});

export class SimPlayer extends Emitter {
  /**
   * @param {{god: () => number, timers: {setTimeout: Function, clearTimeout: Function},
   *   rng: () => number, kind?: 'progressive'|'hls', resolutionMs?: number,
   *   startLatencyMs?: number, rateDelayMs?: [number, number], media?: any}} o
   */
  constructor({ god, timers, rng, kind = 'progressive', resolutionMs = 1, startLatencyMs, rateDelayMs = [10, 50], media }) {
    super();
    this.god = god;
    this.timers = timers;
    this.rng = rng;
    this.kind = kind;
    this.resolutionMs = resolutionMs;
    const [lo, hi] = START_LATENCY_MS[kind];
    /** This player's typical start latency; each start varies ±5 ms around it. */
    this.startLatencyMs = startLatencyMs ?? lo + rng() * (hi - lo);
    this.rateDelayMs = rateDelayMs;
    this.media = media ?? { id: 'matinee-sync-bench', title: 'Sync bench', duration: 7200 };
    // Media clock: position `anchorPos` at god time `anchorG`, moving at `rate` when advancing.
    this.anchorPos = 0;
    this.anchorG = god();
    this.rate = 1;
    this.attrRate = 1;
    this.paused = true;
    /** God time from which a requested start really moves the media (null: not started). */
    this.startAtG = null;
    this.seekEndG = -Infinity;
    this.seekTarget = 0;
    this.seekToken = 0;
    this.bufferEndG = -Infinity;
    /** @type {{atG: number, rate: number}[]} */
    this.pendingRates = [];
    this.seeks = 0;
    this.rateChanges = 0;
  }

  _uniform(lo, hi) {
    return lo + this.rng() * (hi - lo);
  }

  /** Whether the media moves during (g, next transition). */
  _moving(g) {
    return !this.paused && this.startAtG !== null && g >= this.startAtG && g >= this.seekEndG && g >= this.bufferEndG;
  }

  /** Advances the anchor to god time g, applying every transition before it in order. */
  _settle(g) {
    for (;;) {
      // The next instant at which the motion changes: a start, a seek end, a stall end or
      // a rate change taking effect.
      const cands = [];
      if (this.startAtG !== null && this.startAtG > this.anchorG) cands.push(this.startAtG);
      if (this.seekEndG > this.anchorG) cands.push(this.seekEndG);
      if (this.bufferEndG > this.anchorG) cands.push(this.bufferEndG);
      if (this.pendingRates.length) cands.push(Math.max(this.anchorG, this.pendingRates[0].atG));
      const next = Math.min(...cands.filter((t) => t <= g));
      const until = Number.isFinite(next) ? next : g;
      if (this._moving(this.anchorG)) this.anchorPos += (until - this.anchorG) / 1000 * this.rate;
      this.anchorG = Math.max(this.anchorG, until);
      while (this.pendingRates.length && this.pendingRates[0].atG <= this.anchorG) {
        this.rate = /** @type {{rate: number}} */ (this.pendingRates.shift()).rate;
      }
      if (!Number.isFinite(next) || until >= g) break;
    }
  }

  // ---- god's-eye view (the harness only) ----

  truePosition(g = this.god()) {
    this._settle(g);
    return this.anchorPos;
  }

  isAdvancing(g = this.god()) {
    this._settle(g);
    return this._moving(g);
  }

  effectiveRate(g = this.god()) {
    this._settle(g);
    return this.rate;
  }

  /** A buffering stall of `ms` starting now (the media freezes; the element stays "playing"). */
  stall(ms) {
    const g = this.god();
    this._settle(g);
    this.bufferEndG = Math.max(this.bufferEndG, g + ms);
  }

  // ---- the generic player interface (what the client core sees) ----

  getPosition() {
    return this.reportedPosition(this.god());
  }

  /** What getPosition() returns at god time g (the harness reads it at its sampling instant). */
  reportedPosition(g) {
    const p = g < this.seekEndG ? this.seekTarget : this.truePosition(g);
    if (this.resolutionMs <= 0) return p;
    const r = this.resolutionMs / 1000;
    return Math.floor(p / r) * r;
  }

  isPaused() {
    return this.paused;
  }

  isSeeking() {
    return this.god() < this.seekEndG;
  }

  isBuffering() {
    return !this.paused && this.god() < this.bufferEndG;
  }

  isStreaming() {
    return this.kind === 'hls';
  }

  isEnded() {
    return false;
  }

  getRate() {
    return this.attrRate;
  }

  /** @param {number} rate */
  setRate(rate) {
    if (!(rate > 0)) throw new RangeError('playbackRate must be positive');
    const g = this.god();
    this._settle(g);
    this.attrRate = rate;
    this.rateChanges += 1;
    const atG = g + this._uniform(this.rateDelayMs[0], this.rateDelayMs[1]);
    // Changes take effect in order: a later change never overtakes an earlier one.
    const last = this.pendingRates.at(-1);
    this.pendingRates.push({ atG: Math.max(atG, last ? last.atG : atG), rate });
  }

  play() {
    const g = this.god();
    this._settle(g);
    if (!this.paused) return Promise.resolve();
    this.paused = false;
    const latency = Math.max(0, this.startLatencyMs + this._uniform(-5, 5));
    this.startAtG = g + latency;
    this.timers.setTimeout(() => this.emit('play'), 0);
    return Promise.resolve();
  }

  pause() {
    const g = this.god();
    this._settle(g);
    if (this.paused) return;
    this.paused = true;
    this.startAtG = null;
    this.timers.setTimeout(() => this.emit('pause'), 0);
  }

  /** @param {number} seconds */
  seek(seconds) {
    const g = this.god();
    this._settle(g);
    const [lo, hi] = SEEK_LATENCY_MS[this.kind];
    const latency = this._uniform(lo, hi);
    this.seeks += 1;
    this.seekTarget = Math.max(0, seconds);
    this.anchorPos = this.seekTarget;
    this.seekEndG = g + latency;
    const token = ++this.seekToken;
    this.timers.setTimeout(() => this.emit('seeking'), 0);
    this.timers.setTimeout(() => {
      if (token === this.seekToken) this.emit('seeked');
    }, latency);
  }

  getMedia() {
    return this.media;
  }

  /** @param {any} media @param {number} position */
  async setMedia(media, position) {
    this.media = media;
    this.seek(position);
  }
}
