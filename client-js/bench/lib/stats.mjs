// @ts-check
/**
 * Pure statistics for the sync harness: percentiles, pairwise offsets, convergence times.
 * No I/O, so they are unit-tested on their own (bench/test/).
 *
 * @module bench/stats
 */

/**
 * Nearest-rank percentile of an ascending array (q in [0, 1]); NaN when empty.
 * @param {number[]} sorted @param {number} q
 */
export function percentile(sorted, q) {
  if (!sorted.length) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

/**
 * @param {number[]} values
 * @returns {{n: number, p50: number|null, p95: number|null, p99: number|null, max: number|null}}
 */
export function summarize(values) {
  const s = Float64Array.from(values).sort();
  const arr = Array.from(s);
  const r = (x) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
  return {
    n: arr.length,
    p50: r(percentile(arr, 0.5)),
    p95: r(percentile(arr, 0.95)),
    p99: r(percentile(arr, 0.99)),
    max: r(arr.length ? arr[arr.length - 1] : NaN),
  };
}

/**
 * Every pairwise |a − b| of a set of positions (any unit), appended to `out`.
 * @param {number[]} xs @param {number[]} out
 */
export function pairwise(xs, out) {
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) out.push(Math.abs(xs[i] - xs[j]));
  }
  return out;
}

/** Largest pairwise difference (max − min); 0 for fewer than two values. */
export function spread(xs) {
  if (xs.length < 2) return 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return hi - lo;
}

/**
 * Time (ms) from `tEvent` to the first sample from which the room stays converged for
 * `holdMs`: every sample in [t, t + holdMs] has spread ≤ thresholdMs and `ok` (every player
 * doing what the room does). null when that never happens within the samples.
 *
 * @param {{t: number, spreadMs: number, ok: boolean}[]} samples ascending by t
 * @param {number} tEvent
 * @param {{thresholdMs?: number, holdMs?: number, untilT?: number}} [o] untilT: ignore
 *   samples from there on (the next event)
 * @returns {number|null}
 */
export function convergenceMs(samples, tEvent, { thresholdMs = 30, holdMs = 1000, untilT = Infinity } = {}) {
  let candidate = null;
  for (const s of samples) {
    if (s.t < tEvent) continue;
    if (s.t >= untilT) break;
    const good = s.ok && s.spreadMs <= thresholdMs;
    if (!good) {
      candidate = null;
      continue;
    }
    if (candidate === null) candidate = s.t;
    if (s.t - candidate >= holdMs) return candidate - tEvent;
  }
  return null;
}
