#!/usr/bin/env node
// @ts-check
/**
 * The sync harness's `steady` scenario without a machine: the same real client core
 * (core/timesync.js and core/playback.js), the same simulated players (lib/sim-player.mjs) and
 * the same network model, but on a simulated clock — no event loop, no server process, no
 * other jobs on the CPU. What it measures is the algorithm's own steady-state offset, exactly
 * repeatable; the difference to a harness run of the same settings is the machine's share.
 *
 *   node client-js/bench/sync-model.mjs [--seeds 1-3] [--set KEY=VALUE …]
 *
 * Per seed: 8 clients (a quarter of the members HLS), each with its own clock (±10 s,
 * ±100 ppm), connect at 0 (ping burst), the room's play is sent at 1.5 s and scheduled
 * `2 × the largest one-way delay + 30 ms` ahead (DESIGN §3), then 25 s of play sampled every
 * 20 ms. Steady = from max(convergence, 3 s) after play, as in the harness. The server is
 * reduced to what the steady scenario needs from it: pongs stamped on the true clock and one
 * `state`. `--status-frames` adds the other frames that share a client's lanes in the harness:
 * a `status` up every statusIntervalMs and a `members` refresh down every 5 s (the server's
 * default); a ping or pong queued behind one arrives later (what the status cadence costs).
 *
 * Prints per seed and over all seeds: steady pairwise p50/p99/max, the error budget
 * (lib/budget.mjs), rate changes, hard seeks; then one `sync-model:` line.
 */

import { makeSettings } from '../src/core/settings.js';
import { TimeSync } from '../src/core/timesync.js';
import { PlaybackCore } from '../src/core/playback.js';
import { expectedPosition } from '../src/core/protocol.js';
import { SimPlayer } from './lib/sim-player.mjs';
import { Budget, splitError } from './lib/budget.mjs';
import { convergenceMs, pairwise, spread, summarize } from './lib/stats.mjs';
import { rngFrom } from './sync-harness.mjs';

/** A simulated clock with timers, in god ms. */
export class Sched {
  constructor() {
    this.now = 0;
    this.seq = 0;
    /** @type {Map<number, {at: number, seq: number, fn: () => void, every: number}>} */
    this.pending = new Map();
    const add = (fn, ms, every) => {
      const id = ++this.seq;
      this.pending.set(id, { at: this.now + Math.max(0, ms), seq: id, fn, every });
      return id;
    };
    this.timers = {
      setTimeout: (fn, ms) => add(fn, ms, 0),
      clearTimeout: (id) => { this.pending.delete(id); },
      setInterval: (fn, ms) => add(fn, ms, Math.max(1, ms)),
      clearInterval: (id) => { this.pending.delete(id); },
    };
  }

  /** Runs every timer due up to `until` in order; time then stands at `until`. */
  runUntil(until) {
    for (;;) {
      let next = null;
      let nextId = 0;
      for (const [id, p] of this.pending) {
        if (!next || p.at < next.at || (p.at === next.at && p.seq < next.seq)) { next = p; nextId = id; }
      }
      if (!next || next.at > until) break;
      this.now = next.at;
      if (next.every) next.at += next.every;
      else this.pending.delete(nextId);
      next.fn();
    }
    this.now = until;
  }
}

/**
 * One seed of the steady scenario.
 * @param {{seed: number, settings: any, statusFrames?: boolean, clients?: number, delayMs?: number, jitterMs?: number,
 *   spikeProb?: number, hlsFraction?: number, playAtMs?: number, durationMs?: number, settleMs?: number}} o
 */
export function runSteady({ seed, settings, statusFrames = false, clients = 8, delayMs = 40, jitterMs = 15, spikeProb = 0.005, hlsFraction = 0.25, playAtMs = 1500, durationMs = 25_000, settleMs = 3000 }) {
  const sched = new Sched();
  const god = () => sched.now;
  const rng = rngFrom(seed);
  const members = [];
  for (let i = 0; i < clients; i++) {
    const r = rngFrom(Math.floor(rng() * 2 ** 32));
    const kind = i > 0 && r() < hlsFraction ? 'hls' : 'progressive';
    const base = (r() * 2 - 1) * 10_000;
    const k = 1 + (r() * 2 - 1) * 100e-6;
    const nowAt = (g) => base + g * k;
    const delay = () => {
      let d = delayMs + (r() * 2 - 1) * jitterMs;
      if (r() < spikeProb) d += 100 + r() * 200;
      return Math.max(0, d);
    };
    // Frames in one direction keep their order (TCP), as in the harness's network shim.
    const lanes = { up: -Infinity, down: -Infinity };
    const down = (fn) => {
      const due = Math.max(god() + delay(), lanes.down);
      lanes.down = due;
      sched.timers.setTimeout(fn, due - god());
    };
    if (statusFrames) {
      sched.timers.setInterval(() => { lanes.up = Math.max(god() + delay(), lanes.up); }, settings.statusIntervalMs);
      sched.timers.setInterval(() => down(() => {}), 5000);
    }
    const m = { kind, nowAt, down, player: /** @type {SimPlayer|null} */ (null), ts: /** @type {TimeSync|null} */ (null), core: /** @type {PlaybackCore|null} */ (null) };
    const ts = new TimeSync({
      now: () => nowAt(god()), settings, timers: sched.timers,
      send: (ping) => {
        const arrive = Math.max(god() + delay(), lanes.up);
        lanes.up = arrive;
        sched.timers.setTimeout(() => {
          const t1 = god();
          down(() => ts.handlePong({ t0: ping.t0, t1, t2: t1 + 0.05 }));
        }, arrive - god());
        return true;
      },
    });
    const player = new SimPlayer({ god, timers: sched.timers, rng: r, kind });
    const core = new PlaybackCore({ player, clock: ts, timers: sched.timers, settings });
    Object.assign(m, { player, ts, core });
    members.push(m);
  }
  for (const m of members) {
    m.ts.start();
    m.core.start();
  }
  const paused = { media: { id: 'matinee-sync-bench', title: 'Sync bench', duration: 7200 }, playing: false, position: 0, rate: 1, at: 0, seq: 1, reason: 'media', by: null };
  sched.runUntil(300);
  for (const m of members) m.core.applyState(paused, { snapshot: true });
  sched.runUntil(playAtMs);
  const lead = Math.min(1000, Math.max(80, 2 * (delayMs + jitterMs) + 30));
  const state = { ...paused, playing: true, at: playAtMs + lead, seq: 2, reason: 'play' };
  for (const m of members) m.down(() => m.core.applyState(state));
  const samples = [];
  for (let g = playAtMs; g <= playAtMs + durationMs; g += 20) {
    sched.runUntil(g);
    const expected = expectedPosition(state, g);
    const parts = members.map((m) => {
      const pos = m.player.truePosition(g);
      const st = m.core.state;
      const est = m.ts.offsetMs;
      if (!st || st.seq !== state.seq || est === null) return null;
      return splitError({ state: st, errMs: (pos - expected) * 1000, estimateMs: est, localMs: m.nowAt(g), serverMs: g, truePos: pos, readPos: m.player.reportedPosition(g) });
    });
    const ok = members.every((m) => m.player.isAdvancing(g) === g >= state.at);
    samples.push({ g, parts, pos: members.map((m) => m.player.truePosition(g) * 1000), ok, playing: g >= state.at });
  }
  const conv = convergenceMs(samples.map((s) => ({ t: s.g, spreadMs: spread(s.pos), ok: s.ok })), playAtMs, { thresholdMs: 30, holdMs: 1000 });
  const steadyFrom = playAtMs + Math.max(settleMs, conv ?? durationMs);
  const budget = new Budget();
  const steady = [];
  for (const s of samples) {
    if (s.g < steadyFrom || !s.playing) continue;
    pairwise(s.pos, steady);
    budget.add(s.parts);
  }
  for (const m of members) {
    m.core.stop();
    m.ts.stop();
  }
  return {
    seed, convergence_s: conv === null ? null : conv / 1000, summary: summarize(steady), offsets: steady, budget: budget.result(),
    rate_changes: members.reduce((a, m) => a + m.player.rateChanges, 0),
    hard_seeks: members.reduce((a, m) => a + m.core.sync.hardSeeks, 0),
  };
}

function main(argv) {
  let seeds = [1, 2, 3];
  let statusFrames = false;
  const set = /** @type {Record<string, number>} */ ({});
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seeds') {
      const m = /^(\d+)-(\d+)$/.exec(argv[++i] ?? '');
      if (!m || Number(m[1]) > Number(m[2])) throw new Error('--seeds: expected LO-HI like 1-3');
      seeds = [];
      for (let s = Number(m[1]); s <= Number(m[2]); s++) seeds.push(s);
    } else if (a === '--status-frames') {
      statusFrames = true;
    } else if (a === '--set') {
      const m = /^(\w+)=(.+)$/.exec(argv[++i] ?? '');
      if (!m) throw new Error('--set: expected KEY=VALUE');
      set[m[1]] = Number(m[2]);
    } else if (a === '--help' || a === '-h') {
      process.stdout.write('sync-model: node client-js/bench/sync-model.mjs [--seeds LO-HI] [--status-frames] [--set KEY=VALUE …]\n');
      return 0;
    } else {
      throw new Error(`unknown option '${a}'`);
    }
  }
  const settings = makeSettings(set);
  const all = [];
  let rateChanges = 0;
  let hard = 0;
  for (const seed of seeds) {
    const r = runSteady({ seed, settings, statusFrames });
    all.push(...r.offsets);
    rateChanges += r.rate_changes;
    hard += r.hard_seeks;
    const p = r.budget.pairwise;
    console.log(`seed ${seed}: steady p50/p99/max ${r.summary.p50}/${r.summary.p99}/${r.summary.max} ms · clock ${p.clock.p99} · controller ${p.ctrl.p99} · reading ${p.read.p99} · w/o clock ${p.no_clock.p99} · w/o controller ${p.no_ctrl.p99} · conv ${r.convergence_s} s · rate changes ${r.rate_changes} · hard seeks ${r.hard_seeks}`);
  }
  const s = summarize(all);
  console.log(`sync-model: seeds=${seeds[0]}-${seeds.at(-1)}${statusFrames ? ' status_frames=1' : ''} steady_p50_ms=${s.p50} steady_p99_ms=${s.p99} steady_max_ms=${s.max} rate_changes=${rateChanges} hard_seeks=${hard}${Object.keys(set).length ? ` set=${JSON.stringify(set)}` : ''}`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('sync-model.mjs')) {
  try {
    process.exit(main(process.argv.slice(2)));
  } catch (e) {
    console.error(`sync-model: ${/** @type {Error} */ (e).message}`);
    process.exit(2);
  }
}
