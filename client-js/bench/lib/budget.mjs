// @ts-check
/**
 * The steady-state error budget of the sync harness: where the milliseconds of the true
 * pairwise offset come from. Pure functions, unit-tested in bench/test/.
 *
 * Each client's true error against the one formula, e (ms), splits exactly into three parts
 * that the harness can see and the client cannot:
 *
 *   e = b + δ + q
 *
 *   δ  clock: the client's offset estimate minus the true offset (server − local). A client
 *      whose estimate is δ ms too large computes a target δ ms ahead of the truth and
 *      aligns its player to that.
 *   b  controller: the error the client itself sees at that instant (its player's reported
 *      position against the target of its own clock estimate); what the dead band and the
 *      rate controller leave.
 *   q  reading: the true position minus the reported one (currentTime's resolution).
 *
 * The pairwise offset of two clients is |e_i − e_j|; the budget gives the pairwise
 * percentiles of each part alone, and of the total without one of them (what the offset
 * would be if that part were perfect and the others stayed as they were).
 *
 * API:
 *   splitError({state, errMs, estimateMs, localMs, serverMs, truePos, readPos}) → Parts
 *   new Budget()
 *   .add(parts)          one god's-eye sample of the clients in the room:
 *                        [{e, clock, ctrl, read}] (ms; null entries skipped)
 *   .result()            {n, residual_max_ms, pairwise: {total, clock, ctrl, read, no_clock,
 *                        no_ctrl}, abs: {clock, ctrl}, clock_bias_ms: [per-client mean δ]}
 *
 * @module bench/budget
 */

import { pairwise, summarize } from './stats.mjs';
import { expectedPosition } from '../../src/core/protocol.js';

/** @typedef {{e: number, clock: number, ctrl: number, read: number}} Parts */

/**
 * One client's error split at one instant.
 * @param {{state: import('../../src/core/protocol.js').PlaybackState, errMs: number,
 *   estimateMs: number, localMs: number, serverMs: number, truePos: number, readPos: number}} o
 *   state: the state the client applied; errMs: its true error against the formula;
 *   estimateMs: its offset estimate (server − local); localMs / serverMs: its clock and the
 *   server's at that instant; truePos / readPos: its player's true and reported position (s)
 * @returns {Parts}
 */
export function splitError({ state, errMs, estimateMs, localMs, serverMs, truePos, readPos }) {
  const rate = state.playing ? state.rate : 0;
  return {
    e: errMs,
    clock: (estimateMs - (serverMs - localMs)) * rate,
    ctrl: (readPos - expectedPosition(state, localMs + estimateMs)) * 1000,
    read: (truePos - readPos) * 1000,
  };
}

const KEYS = /** @type {const} */ (['total', 'clock', 'ctrl', 'read', 'no_clock', 'no_ctrl']);

/** @param {Parts} p @param {typeof KEYS[number]} k */
function pick(p, k) {
  switch (k) {
    case 'total': return p.e;
    case 'clock': return p.clock;
    case 'ctrl': return p.ctrl;
    case 'read': return p.read;
    case 'no_clock': return p.ctrl + p.read;
    case 'no_ctrl': return p.clock + p.read;
    default: throw new Error(k);
  }
}

export class Budget {
  constructor() {
    /** @type {Record<string, number[]>} */
    this.pairs = Object.fromEntries(KEYS.map((k) => [k, []]));
    /** @type {number[]} */ this.absClock = [];
    /** @type {number[]} */ this.absCtrl = [];
    this.residualMax = 0;
    this.n = 0;
    /** Per client index: sum and count of δ, for its mean (a bias, or noise around zero?). */
    /** @type {{sum: number, n: number}[]} */
    this.bias = [];
  }

  /** @param {(Parts|null)[]} parts one entry per client (null: not in the room) */
  add(parts) {
    const present = /** @type {{p: Parts, i: number}[]} */ ([]);
    parts.forEach((p, i) => { if (p) present.push({ p, i }); });
    if (present.length < 2) return;
    this.n += 1;
    for (const { p, i } of present) {
      this.residualMax = Math.max(this.residualMax, Math.abs(p.e - (p.ctrl + p.clock + p.read)));
      this.absClock.push(Math.abs(p.clock));
      this.absCtrl.push(Math.abs(p.ctrl));
      const b = this.bias[i] ?? (this.bias[i] = { sum: 0, n: 0 });
      b.sum += p.clock;
      b.n += 1;
    }
    for (const k of KEYS) pairwise(present.map(({ p }) => pick(p, k)), this.pairs[k]);
  }

  result() {
    return {
      n: this.n,
      // e = b + δ + q holds exactly while the client's state is the room's; a residual
      // above a few µs means a sample straddled a state change.
      residual_max_ms: Math.round(this.residualMax * 1000) / 1000,
      pairwise: Object.fromEntries(KEYS.map((k) => [k, summarize(this.pairs[k])])),
      abs: { clock: summarize(this.absClock), ctrl: summarize(this.absCtrl) },
      clock_bias_ms: this.bias.map((b) => (b && b.n ? Math.round((b.sum / b.n) * 100) / 100 : null)),
    };
  }
}
