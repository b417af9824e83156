#!/usr/bin/env node
// @ts-check
/**
 * The clock filter alone (core/timesync.js), under the sync harness's network model but
 * without an event loop, a server or a player: what the algorithm itself leaves of the
 * clock-offset error, so that a harness run can tell algorithm from machine noise. Purely
 * computed from seeded random numbers, so a run is exactly repeatable and takes a second.
 *
 *   node client-js/bench/clock-filter.mjs [options]
 *
 * Each simulated client has a clock up to ±10 s off and ±DRIFT ppm fast or slow, pings on the
 * real TimeSync schedule (its burst, then pingIntervalMs), and every frame gets a one-way delay
 * of DELAY ± JITTER ms (uniform, as the harness's network shim; `--model exp`: DELAY plus an
 * exponential with mean JITTER up and 4 × JITTER down, a lopsided queue) plus the harness's
 * spikes. The estimate's error is read every 20 ms between --from-s and --to-s after connect
 * (the harness's steady window starts ~5 s after connect), for every client; clients are
 * paired two by two for the pairwise figure (what the harness's clock part adds to offsets).
 *
 * Prints one line: `clock-filter: …` with |error| p50/p99 and pairwise p99 (ms).
 */

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeSettings } from '../src/core/settings.js';
import { rngFrom } from './sync-harness.mjs';
import { pairwise, summarize } from './lib/stats.mjs';

const HELP = `clock-filter: the client's clock filter alone under the harness's network model

USAGE: node client-js/bench/clock-filter.mjs [OPTIONS]

  --clients N      simulated clients (paired two by two) [default: 400]
  --seed N         first seed [default: 1]
  --delay-ms D     mean one-way delay [default: 40]
  --jitter-ms J    uniform jitter ± J (model uniform) or mean queueing (model exp) [default: 15]
  --model M        uniform | exp [default: uniform]
  --spike-prob P   probability of a 100–300 ms spike per frame [default: 0.005]
  --drift-ppm K    clocks drift up to ±K ppm [default: 100]
  --from-s S       start of the window measured, s after connect [default: 5]
  --to-s S         end of it [default: 30]
  --set KEY=VALUE  override a client setting (core/settings.js); repeatable
  --module PATH    a timesync.js to measure instead of the client's (an older version, with
                   its own settings.js beside it)
`;

/** @param {string[]} argv */
function parseArgs(argv) {
  const o = { clients: 400, seed: 1, delayMs: 40, jitterMs: 15, model: 'uniform', spikeProb: 0.005, driftPpm: 100, fromS: 5, toS: 30, set: /** @type {Record<string, number>} */ ({}), module: '', help: false };
  const num = (flag, v) => {
    const x = Number(v);
    if (v === undefined || !Number.isFinite(x) || x < 0) throw new Error(`${flag}: expected a number ≥ 0, got '${v}'`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    switch (a) {
      case '--help': case '-h': o.help = true; break;
      case '--clients': o.clients = Math.max(2, Math.floor(num(a, v()))); break;
      case '--seed': o.seed = Math.floor(num(a, v())); break;
      case '--delay-ms': o.delayMs = num(a, v()); break;
      case '--jitter-ms': o.jitterMs = num(a, v()); break;
      case '--model': o.model = String(v()); if (!['uniform', 'exp'].includes(o.model)) throw new Error('--model: uniform or exp'); break;
      case '--spike-prob': o.spikeProb = num(a, v()); break;
      case '--drift-ppm': o.driftPpm = num(a, v()); break;
      case '--from-s': o.fromS = num(a, v()); break;
      case '--to-s': o.toS = num(a, v()); break;
      case '--module': o.module = String(v() ?? ''); break;
      case '--set': {
        const m = /^(\w+)=(.+)$/.exec(v() ?? '');
        if (!m) throw new Error('--set: expected KEY=VALUE');
        o.set[m[1]] = Number(m[2]);
        break;
      }
      default: throw new Error(`unknown option '${a}' (see --help)`);
    }
  }
  if (o.model === 'uniform' && o.jitterMs > o.delayMs) throw new Error('--jitter-ms: must not exceed --delay-ms');
  if (o.toS <= o.fromS) throw new Error('--to-s must be after --from-s');
  return o;
}

/**
 * One client's estimate error (ms) every 20 ms from `fromS` to `toS` after connect.
 * @param {any} TimeSync @param {any} settings @param {ReturnType<typeof parseArgs>} o
 * @param {number} seed
 */
export function clientErrors(TimeSync, settings, o, seed) {
  const rng = rngFrom(seed);
  const base = (rng() * 2 - 1) * 10_000;
  const k = 1 + (rng() * 2 - 1) * o.driftPpm * 1e-6;
  const local = (g) => base + g * k;
  const delay = (up) => {
    let d = o.model === 'uniform' ? o.delayMs + (rng() * 2 - 1) * o.jitterMs : o.delayMs - Math.log(1 - rng()) * o.jitterMs * (up ? 1 : 4);
    if (rng() < o.spikeProb) d += 100 + rng() * 200;
    return Math.max(0, d);
  };
  // The real schedule: TimeSync.start() with timers that only record when it pings.
  const sends = [];
  let g = 0;
  const pending = [];
  const ts = new TimeSync({
    now: () => local(g), settings,
    timers: { setTimeout: (fn, ms) => { pending.push({ at: g + ms, fn }); return pending.length; }, clearTimeout: () => {} },
    send: () => { sends.push(g); return true; },
  });
  ts.start();
  const endG = o.toS * 1000;
  while (pending.length) {
    pending.sort((a, b) => a.at - b.at);
    const next = /** @type {{at: number, fn: () => void}} */ (pending.shift());
    if (next.at > endG) break;
    g = next.at;
    next.fn();
  }
  ts.stop();
  // Each ping's pong, in order of arrival (a frame never overtakes the one before it).
  let lastUp = -Infinity;
  let lastDown = -Infinity;
  const arrivals = sends.map((g0) => {
    const g1 = Math.max(g0 + delay(true), lastUp);
    lastUp = g1;
    const g2 = g1 + 0.05;
    const g3 = Math.max(g2 + delay(false), lastDown);
    lastDown = g3;
    return { g3, s: [local(g0), g1, g2, local(g3)] };
  });
  const errs = [];
  let i = 0;
  for (let t = 0; t <= endG; t += 20) {
    while (i < arrivals.length && arrivals[i].g3 <= t) {
      ts.addSample(...arrivals[i].s);
      i++;
    }
    if (t >= o.fromS * 1000 && ts.offsetMs !== null) errs.push(ts.offsetMs - (t - local(t)));
  }
  return errs;
}

async function main(argv) {
  let o;
  try {
    o = parseArgs(argv);
  } catch (e) {
    console.error(`clock-filter: ${/** @type {Error} */ (e).message}`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const dir = o.module ? path.dirname(path.resolve(o.module)) : path.resolve(path.dirname(new URL(import.meta.url).pathname), '../src/core');
  const { TimeSync } = await import(pathToFileURL(o.module ? path.resolve(o.module) : path.join(dir, 'timesync.js')).href);
  const settingsMod = o.module ? await import(pathToFileURL(path.join(dir, 'settings.js')).href) : { makeSettings };
  const settings = settingsMod.makeSettings(o.set);
  const abs = [];
  const pairs = [];
  for (let c = 0; c + 1 < o.clients; c += 2) {
    const a = clientErrors(TimeSync, settings, o, o.seed * 100_000 + c);
    const b = clientErrors(TimeSync, settings, o, o.seed * 100_000 + c + 1);
    for (const e of [...a, ...b]) abs.push(Math.abs(e));
    const n = Math.min(a.length, b.length);
    for (let j = 0; j < n; j++) pairwise([a[j], b[j]], pairs);
  }
  const e = summarize(abs);
  const p = summarize(pairs);
  console.log(`clock-filter: model=${o.model} delay_ms=${o.delayMs} jitter_ms=${o.jitterMs} drift_ppm=${o.driftPpm} window_s=${o.fromS}-${o.toS} clients=${o.clients} ` +
    `abs_p50_ms=${e.p50} abs_p99_ms=${e.p99} abs_max_ms=${e.max} pairwise_p99_ms=${p.p99}`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('clock-filter.mjs')) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    console.error('clock-filter: failed:', e);
    process.exit(1);
  });
}
