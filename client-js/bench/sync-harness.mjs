#!/usr/bin/env node
// @ts-check
/**
 * Sync harness (DESIGN §6): N simulated clients, each running the REAL client core
 * (core/manager.js with its Connection, TimeSync and PlaybackCore) against a real
 * matinee-server on loopback. Every client has its own skewed, drifting clock, a simulated
 * player (bench/lib/sim-player.mjs) and a network path with delay, jitter and spikes
 * (bench/lib/net-shim.mjs). A god's-eye clock — this process's performance.now(), which is
 * also the server's clock since both run on one machine — knows every player's true
 * position, so the offsets below are the truth, not what the clients believe.
 *
 *   node client-js/bench/sync-harness.mjs [options]      (make bench-sync ARGS="…")
 *
 * Output: a table on stdout, one `sync:` summary line, bench-results/sync.json,
 * bench-results/sync.svg and bench-results/sync.png (see --help).
 */

import { performance } from 'node:perf_hooks';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadavg } from 'node:os';
import { Manager } from '../src/core/manager.js';
import { expectedPosition } from '../src/core/protocol.js';
import { makeSettings } from '../src/core/settings.js';
import { SimPlayer } from './lib/sim-player.mjs';
import { NetPath } from './lib/net-shim.mjs';
import { startServer } from './lib/server.mjs';
import { convergenceMs, pairwise, spread, summarize } from './lib/stats.mjs';
import { renderSvg, svgToPng } from './lib/plot.mjs';
import { Budget, splitError } from './lib/budget.mjs';
import { remoteScript, remoteSummary, remoteTable } from './lib/sim-remote.mjs';

// `remote`: browser members plus TV apps driven through Jellyfin's Sessions API (lib/sim-remote.mjs).
const SCENARIOS = ['steady', 'seek', 'pause-resume', 'late-join', 'buffer', 'disconnect', 'host-leaves', 'remote'];

const HELP = `sync-harness: the real client core, simulated players and networks, a real server

USAGE: node client-js/bench/sync-harness.mjs [OPTIONS]

  --clients N          clients per scenario, host included [default: 8]
  --delay-ms D         mean one-way network delay [default: 40]
  --jitter-ms J        uniform jitter on each frame's delay, ± [default: 15]
  --asymmetry-ms A     each client's up and down base delays differ by up to A ms
                       (offset error no clock sync can see) [default: 0]
  --spike-prob P       probability that a frame gets a delay spike [default: 0.005]
  --spike-ms LO-HI     size of a spike [default: 100-300]
  --hls-fraction F     share of clients playing HLS (slow seeks) [default: 0.25]
  --resolution-ms R    currentTime resolution the players report [default: 1]
  --scenarios LIST     comma-separated subset of: ${SCENARIOS.join(', ')} [default: all]
  --scale S            stretch (or shrink, S < 1) every scenario's timeline [default: 1]
  --seed N             random seed: clocks, players, network [default: 1]
  --sample-ms MS       god's-eye sampling period [default: 20]
  --clip-ms MS         plot's y range, ± [default: 100]
  --settle-s S         after an event, samples count as steady state only once the room
                       converged AND at least S seconds passed [default: 3]
  --out DIR            where sync.json / sync.svg / sync.png go [default: bench-results]
  --url ws://…/ws      use a running server instead of starting one
  --no-plot            skip the PNG (the SVG is still written)
  --set KEY=VALUE      override a client setting (core/settings.js) for every client;
                       repeatable — how a constant earns its value
  --timer-baseline-s S first measure the machine's timer lateness alone for S seconds
                       (a 10 ms interval, nothing else running) [default: 0, skip]
  --help

Server binary: $MATINEE_SERVER_BIN, else target/release, else target/debug.
Offsets are true pairwise position differences between clients while the room plays;
"steady" excludes each event's transient: from the event until max(convergence, settle).
Convergence: from the event until every pair stays within 30 ms, every player doing what
the room does, for 1 s.
`;

/** @param {string[]} argv */
export function parseArgs(argv) {
  const o = {
    clients: 8, delayMs: 40, jitterMs: 15, asymmetryMs: 0, spikeProb: 0.005, spikeMs: [100, 300],
    hlsFraction: 0.25, resolutionMs: 1, scenarios: [...SCENARIOS], scale: 1, seed: 1, sampleMs: 20,
    clipMs: 100, settleS: 3, timerBaselineS: 0, out: 'bench-results', set: /** @type {Record<string, number>} */ ({}), url: /** @type {string|null} */ (null), plot: true, help: false,
  };
  const num = (flag, v, min = 0) => {
    const x = Number(v);
    if (v === undefined || !Number.isFinite(x) || x < min) throw new Error(`${flag}: expected a number ≥ ${min}, got '${v}'`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    switch (a) {
      case '--help': case '-h': o.help = true; break;
      case '--clients': o.clients = Math.floor(num(a, v(), 2)); break;
      case '--delay-ms': o.delayMs = num(a, v()); break;
      case '--jitter-ms': o.jitterMs = num(a, v()); break;
      case '--asymmetry-ms': o.asymmetryMs = num(a, v()); break;
      case '--spike-prob': o.spikeProb = num(a, v()); if (o.spikeProb > 1) throw new Error(`${a}: at most 1`); break;
      case '--spike-ms': {
        const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(v() ?? '');
        if (!m || Number(m[1]) > Number(m[2])) throw new Error(`${a}: expected LO-HI like 100-300`);
        o.spikeMs = [Number(m[1]), Number(m[2])];
        break;
      }
      case '--hls-fraction': o.hlsFraction = num(a, v()); if (o.hlsFraction > 1) throw new Error(`${a}: at most 1`); break;
      case '--resolution-ms': o.resolutionMs = num(a, v()); break;
      case '--scenarios': {
        const list = String(v() ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const bad = list.filter((s) => !SCENARIOS.includes(s));
        if (!list.length || bad.length) throw new Error(`--scenarios: unknown ${bad.join(', ') || '(empty)'}; choose from ${SCENARIOS.join(', ')}`);
        o.scenarios = list;
        break;
      }
      case '--scale': o.scale = num(a, v(), 0.1); break;
      case '--seed': o.seed = Math.floor(num(a, v())); break;
      case '--sample-ms': o.sampleMs = num(a, v(), 5); break;
      case '--clip-ms': o.clipMs = num(a, v(), 1); break;
      case '--settle-s': o.settleS = num(a, v()); break;
      case '--timer-baseline-s': o.timerBaselineS = num(a, v()); break;
      case '--out': o.out = String(v() ?? ''); if (!o.out) throw new Error('--out: missing directory'); break;
      case '--url': {
        const u = String(v() ?? '');
        if (!/^wss?:\/\//.test(u)) throw new Error(`--url: expected ws://HOST:PORT/ws, got '${u}'`);
        o.url = u;
        break;
      }
      case '--no-plot': o.plot = false; break;
      case '--set': {
        const m = /^(\w+)=(.+)$/.exec(v() ?? '');
        if (!m) throw new Error('--set: expected KEY=VALUE, e.g. deadBandMs=5');
        o.set[m[1]] = Number(m[2]);
        makeSettings(o.set); // unknown keys and bad values fail here, before any run
        break;
      }
      default: throw new Error(`unknown option '${a}' (see --help)`);
    }
  }
  if (o.clients > 50) throw new Error('--clients: at most 50 (the server\'s room size)');
  if (o.jitterMs > o.delayMs) throw new Error('--jitter-ms: must not exceed --delay-ms (delays cannot be negative)');
  return o;
}

/** mulberry32: a small seeded PRNG so a run is repeatable (up to the OS's timing). */
export function rngFrom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The god's-eye clock (ms) and its server-time equivalent (ms since the epoch). */
const god = () => performance.now();
const serverTimeAt = (g) => performance.timeOrigin + g;

const timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h),
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @param {() => boolean} pred @param {number} ms @param {string} what */
async function waitFor(pred, ms, what) {
  const end = god() + ms;
  while (!pred()) {
    if (god() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** The room's authoritative state as the server sent it (newest seq seen by anyone). */
class Truth {
  constructor() {
    /** @type {any} */
    this.state = null;
    /** @type {{g: number, reason: string, playing: boolean, by: string|null, waiting_for?: string[]}[]} */
    this.changes = [];
  }

  /** @param {any} st */
  offer(st) {
    if (!st || typeof st.seq !== 'number') return;
    if (this.state && st.seq <= this.state.seq) return;
    this.state = st;
    this.changes.push({ g: god(), reason: st.reason, playing: st.playing, by: st.by ?? null, waiting_for: st.waiting_for });
  }

  /** Whether the room's media should be moving at god time g. */
  playingAt(g) {
    const st = this.state;
    return Boolean(st && st.playing && serverTimeAt(g) >= st.at);
  }

  expectedAt(g) {
    return this.state ? expectedPosition(this.state, serverTimeAt(g)) : null;
  }
}

class SimClient {
  /**
   * @param {{index: number, url: string, opts: ReturnType<typeof parseArgs>, rng: () => number,
   *   truth: Truth}} o
   */
  constructor({ index, url, opts, rng, truth }) {
    this.index = index;
    this.rng = rng;
    this.kind = /** @type {'progressive'|'hls'} */ (index > 0 && rng() < opts.hlsFraction ? 'hls' : 'progressive');
    // Each client's own clock: up to ±10 s off and ±100 ppm fast or slow.
    this.offsetMs = (rng() * 2 - 1) * 10_000;
    this.driftPpm = (rng() * 2 - 1) * 100;
    const base = performance.timeOrigin + this.offsetMs;
    const k = 1 + this.driftPpm * 1e-6;
    /** This client's local clock at god time g. */
    this.nowAt = (g) => base + g * k;
    this.now = () => this.nowAt(god());
    const asym = (rng() * 2 - 1) * opts.asymmetryMs / 2;
    this.net = new NetPath({
      god, timers, rng,
      upMs: opts.delayMs + asym, downMs: opts.delayMs - asym,
      jitterMs: opts.jitterMs, spikeProb: opts.spikeProb, spikeMs: /** @type {[number, number]} */ (opts.spikeMs),
    });
    this.player = new SimPlayer({ god, timers, rng, kind: this.kind, resolutionMs: opts.resolutionMs });
    this.minRate = 1;
    this.maxRate = 1;
    const setRate = this.player.setRate.bind(this.player);
    this.player.setRate = (r) => {
      this.minRate = Math.min(this.minRate, r);
      this.maxRate = Math.max(this.maxRate, r);
      setRate(r);
    };
    this.label = `${index === 0 ? 'host' : `m${index}`}${this.kind === 'hls' ? '/hls' : ''}`;
    this.manager = new Manager({
      url,
      createSocket: (u) => this.net.createSocket(u),
      now: this.now,
      timers,
      player: this.player,
      credentials: async () => ({ name: `sim-${index}` }),
      random: rng,
      settings: makeSettings(opts.set),
      client: { name: 'matinee-sync-harness', version: '1' },
    });
    // Every clock sample the core absorbs, with the truth beside it: [god ms, rtt, the
    // sample's own offset error, the estimate's error after absorbing it] (ms) — what the
    // clock filter was given and what it made of it.
    /** @type {number[][]} */
    this.pings = [];
    const ts = this.manager.timesync;
    const addSample = ts.addSample.bind(ts);
    ts.addSample = (t0, t1, t2, t3) => {
      const s = addSample(t0, t1, t2, t3);
      const g = god();
      const trueOffset = serverTimeAt(g) - this.nowAt(g);
      if (s && ts.offsetMs !== null) this.pings.push([round(g, 1), round(s.rtt, 3), round(s.offset - trueOffset, 3), round(ts.offsetMs - trueOffset, 3)]);
      return s;
    };
    this.inRoom = false;
    this.left = false;
    /** What the core did to the player and when (its `sync.lastAction` as it changes), with
     *  the player's true error at that instant: how a convergence figure is read. */
    /** @type {{g: number, action: string, errMs: number|null}[]} */
    this.actions = [];
    /** @type {number[]} god times of each 'open' */
    this.opens = [];
    /** @type {string|null} */
    this.memberId = null;
    this.manager.on('room', (room) => {
      this.inRoom = true;
      this.memberId = room.you;
      truth.offer(room.state);
    });
    this.manager.on('state', (st) => truth.offer(st));
    this.manager.on('connection', (status) => {
      if (status === 'open') this.opens.push(god());
    });
    this.manager.on('left', () => { this.inRoom = false; });
  }

  async connect() {
    this.manager.start();
    await waitFor(() => this.manager.connection.status === 'open', 10_000, `client ${this.index} to connect`);
    // A person takes longer than the ping burst to click "create" or "join".
    await waitFor(() => this.manager.timesync.synced, 5_000, `client ${this.index} clock sync`);
  }

  participates() {
    return this.inRoom && !this.left;
  }

  stop() {
    try { this.manager.stop(); } catch { /* already stopped */ }
  }
}

/**
 * One scenario: clients, a room, a timeline of events, and god's-eye samples throughout.
 */
class Run {
  /** @param {string} name @param {ReturnType<typeof parseArgs>} opts @param {string} url @param {number} seed */
  constructor(name, opts, url, seed) {
    this.name = name;
    this.opts = opts;
    this.url = url;
    this.rng = rngFrom(seed);
    this.truth = new Truth();
    /** @type {SimClient[]} */
    this.clients = [];
    /** @type {{g: number, label: string, kind: string}[]} */
    this.events = [];
    /** @type {{g: number, errs: (number|null)[], pos: (number|null)[], parts: (import('./lib/budget.mjs').Parts|null)[], playing: boolean, ok: boolean, hard: number}[]} */
    this.samples = [];
    this.t0 = 0;
    this.sampler = null;
  }

  addClient() {
    const c = new SimClient({ index: this.clients.length, url: this.url, opts: this.opts, rng: rngFrom(Math.floor(this.rng() * 2 ** 32)), truth: this.truth });
    this.clients.push(c);
    return c;
  }

  /** A member id as the client's label (host, m1, m2/hls…), for reading the JSON. */
  labelOf(memberId) {
    if (memberId === null || memberId === undefined) return null;
    const c = this.clients.find((x) => x.memberId === memberId);
    return c ? c.label : String(memberId);
  }

  get host() {
    return this.clients.find((c) => c.participates() && c.manager.isHost) || null;
  }

  event(label, kind) {
    this.events.push({ g: god(), label, kind });
  }

  async setup(n) {
    const host = this.addClient();
    for (let i = 1; i < n; i++) this.addClient();
    await Promise.all(this.clients.map((c) => c.connect()));
    const room = await host.manager.createRoom();
    this.code = room.code;
    for (const c of this.clients.slice(1)) await c.manager.joinRoom(room.code);
    await waitFor(() => this.clients.every((c) => c.inRoom), 5000, 'everyone in the room');
    this.t0 = god();
    this.sampler = setInterval(() => this.sample(), this.opts.sampleMs);
  }

  sample() {
    const g = god();
    const expected = this.truth.expectedAt(g);
    const playing = this.truth.playingAt(g);
    let ok = true;
    let hard = 0;
    const errs = this.clients.map(() => /** @type {number|null} */ (null));
    const pos = this.clients.map(() => /** @type {number|null} */ (null));
    const parts = this.clients.map(() => /** @type {import('./lib/budget.mjs').Parts|null} */ (null));
    this.clients.forEach((c, i) => {
      hard += c.manager.core.sync.hardSeeks;
      if (!c.participates()) return;
      const p = c.player.truePosition(g);
      pos[i] = p;
      if (expected !== null) errs[i] = (p - expected) * 1000;
      parts[i] = this.parts(c, g, p, errs[i]);
      const action = c.manager.core.sync.lastAction;
      if (action && action !== c.actions.at(-1)?.action) c.actions.push({ g, action, errMs: errs[i] });
      if (c.player.isAdvancing(g) !== playing) ok = false;
    });
    this.samples.push({ g, errs, pos, parts, playing, ok, hard });
  }

  /**
   * A client's true error split into clock, controller and reading (lib/budget.mjs), or null
   * when the client has not applied the room's current state.
   * @param {SimClient} c @param {number} g @param {number} truePos @param {number|null} errMs
   */
  parts(c, g, truePos, errMs) {
    const st = c.manager.core.state;
    const est = c.manager.timesync.offsetMs;
    if (errMs === null || !st || est === null || !this.truth.state || st.seq !== this.truth.state.seq) return null;
    return splitError({ state: st, errMs, estimateMs: est, localMs: c.nowAt(g), serverMs: serverTimeAt(g), truePos, readPos: c.player.reportedPosition(g) });
  }

  /** @param {number} s seconds on the scenario's (scaled) timeline */
  async at(s) {
    const due = this.t0 + s * 1000 * this.opts.scale;
    const wait = due - god();
    if (wait > 0) await sleep(wait);
  }

  async finish() {
    if (this.sampler) clearInterval(this.sampler);
    for (const c of this.clients) c.stop();
    await sleep(200);
  }

  /** Everything measured, as plain data. */
  /**
   * The harness's events plus the state changes the server made on its own (the waiting
   * rule's `waiting` and `resume`, a new host's state): each starts a transient, and
   * convergence after a resume is one of the figures DESIGN §6 asks for.
   */
  allEvents() {
    const own = this.events.map((e) => ({ ...e }));
    const fromServer = this.truth.changes
      .filter((c) => c.g >= this.t0 && ['waiting', 'resume', 'host_left'].includes(c.reason))
      .map((c) => ({ g: c.g, label: `srv ${c.reason}`, kind: c.reason }));
    return [...own, ...fromServer].sort((a, b) => a.g - b.g);
  }

  result() {
    const ms = (g) => (g - this.t0);
    const spreads = this.samples.map((s) => ({ t: s.g, spreadMs: spread(s.pos.filter((p) => p !== null).map((p) => p * 1000)), ok: s.ok }));
    const all = this.allEvents();
    const events = all.map((e, i) => {
      const next = all.slice(i + 1).find((x) => x.g > e.g);
      const conv = convergenceMs(spreads, e.g, { thresholdMs: 30, holdMs: 1000, untilT: next ? next.g : Infinity });
      return { label: e.label, kind: e.kind, t_s: round(ms(e.g) / 1000, 3), convergence_s: conv === null ? null : round(conv / 1000, 3), g: e.g, until: next ? next.g : Infinity };
    });
    // A sample is transient from an event until it converged and at least `settleS` passed
    // (the rate controller is still closing the last few ms right after convergence), or
    // until the next event when it never converged; the rest, while playing, is steady.
    const settleMs = this.opts.settleS * 1000;
    const transient = (g) => events.some((e) => g >= e.g && g < (e.convergence_s === null ? e.until : e.g + Math.max(settleMs, e.convergence_s * 1000)));
    const steady = [];
    const playingOffsets = [];
    const absErr = [];
    const budget = new Budget();
    let hardSteady = 0;
    let hardAll = 0;
    let prevHard = this.samples.length ? this.samples[0].hard : 0;
    for (const s of this.samples) {
      const dh = s.hard - prevHard;
      prevHard = s.hard;
      hardAll += dh;
      const tr = transient(s.g);
      if (!tr) hardSteady += dh;
      if (!s.playing) continue;
      const xs = s.pos.filter((p) => p !== null).map((p) => p * 1000);
      pairwise(xs, playingOffsets);
      if (!tr) {
        pairwise(xs, steady);
        for (const e of s.errs) if (e !== null) absErr.push(Math.abs(e));
        budget.add(s.parts);
      }
    }
    const clients = this.clients.map((c) => ({
      label: c.label, kind: c.kind, clock_offset_ms: round(c.offsetMs, 1), drift_ppm: round(c.driftPpm, 1),
      hard_seeks: c.manager.core.sync.hardSeeks, player_seeks: c.player.seeks, rate_changes: c.player.rateChanges,
      rate_min: round(c.minRate, 4), rate_max: round(c.maxRate, 4), learned_seek_ms: c.manager.core.learnedSeekMs === null ? null : round(c.manager.core.learnedSeekMs, 1),
      // The core's start latency (learned, or its first guess) next to the simulated player's.
      start_ms: round(c.manager.core.startLatencyMs(), 1), player_start_ms: round(c.player.startLatencyMs, 1),
      // What the client believes server − local is, minus what it truly is right now.
      offset_estimate_error_ms: c.manager.timesync.offsetMs === null ? null : round(c.manager.timesync.offsetMs - (serverTimeAt(god()) - c.now()), 2),
      reconnects: Math.max(0, c.opens.length - 1), spikes: c.net.stats.spikes,
      actions: c.actions.map((a) => [round(ms(a.g) / 1000, 3), a.action, a.errMs === null ? null : round(a.errMs, 1)]),
      // [t s, rtt ms, the sample's offset error ms, the estimate's error after it ms]
      pings: c.pings.map(([g, ...rest]) => [round(ms(g) / 1000, 3), ...rest]),
    }));
    // Convergence that is a target: not while the room waits, not while a member is
    // knowingly cut off (it cannot converge until it is back).
    const convs = events.filter((e) => !['waiting', 'cut', 'seek_while_away'].includes(e.kind)).map((e) => e.convergence_s);
    return {
      name: this.name,
      duration_s: round(ms(this.samples.length ? this.samples[this.samples.length - 1].g : this.t0) / 1000, 2),
      clients: this.clients.length,
      steady: summarize(steady),
      all_playing: summarize(playingOffsets),
      abs_error_steady: summarize(absErr),
      budget: budget.result(),
      events: events.map(({ label, kind, t_s, convergence_s }) => ({ label, kind, t_s, convergence_s })),
      convergence_max_s: convs.some((c) => c === null) ? null : round(Math.max(0, ...convs), 3),
      hard_seeks: { steady: hardSteady, total: hardAll },
      rate: { min: round(Math.min(...this.clients.map((c) => c.minRate)), 4), max: round(Math.max(...this.clients.map((c) => c.maxRate)), 4) },
      server_states: this.truth.changes.map((c) => ({
        t_s: round(ms(c.g) / 1000, 3), reason: c.reason, playing: c.playing, by: this.labelOf(c.by),
        ...(c.waiting_for ? { waiting_for: c.waiting_for.map((id) => this.labelOf(id)) } : {}),
      })),
      per_client: clients,
    };
  }

  /** Plot data: per client, [t, error ms] downsampled to ≤ 1500 points. */
  panel(result) {
    const every = Math.max(1, Math.ceil(this.samples.length / 1500));
    return {
      name: this.name,
      subtitle: `steady p50/p99/max ${fmt(result.steady.p50)}/${fmt(result.steady.p99)}/${fmt(result.steady.max)} ms · ` +
        `convergence ${result.events.filter((e) => !e.label.startsWith('srv')).map((e) => (e.convergence_s === null ? '—' : `${e.convergence_s}s`)).join(', ')} · ` +
        `hard seeks ${result.hard_seeks.total} · rate ${result.rate.min}–${result.rate.max}`,
      durationS: Math.ceil(result.duration_s),
      clients: this.clients.map((c, i) => ({
        label: c.label,
        points: /** @type {[number, number|null][]} */ (this.samples.filter((_, k) => k % every === 0).map((s) => [(s.g - this.t0) / 1000, s.errs[i]])),
      })),
      events: this.allEvents().map((e) => ({ t: (e.g - this.t0) / 1000, label: e.label })),
    };
  }
}

function round(x, d) {
  const m = 10 ** d;
  return Math.round(x * m) / m;
}

function fmt(x) {
  return x === null || x === undefined ? '—' : String(x);
}

// ---- the scenarios ----

/** @type {Record<string, (run: Run, n: number) => Promise<void>>} */
const SCRIPTS = {
  async steady(run, n) {
    await run.setup(n);
    run.event('play', 'play');
    run.host?.manager.play();
    await run.at(25);
  },

  async seek(run, n) {
    await run.setup(n);
    run.event('play', 'play');
    run.host?.manager.play();
    for (const [t, pos] of [[7, 300], [13, 120], [19, 900]]) {
      await run.at(t);
      run.event(`seek ${pos}s`, 'seek');
      run.host?.manager.seek(pos);
    }
    await run.at(26);
  },

  async 'pause-resume'(run, n) {
    await run.setup(n);
    run.event('play', 'play');
    run.host?.manager.play();
    for (const [t, what] of [[7, 'pause'], [10, 'play'], [15, 'pause'], [17, 'play']]) {
      await run.at(t);
      run.event(what, what);
      if (what === 'pause') run.host?.manager.pause();
      else run.host?.manager.play();
    }
    await run.at(24);
  },

  async 'late-join'(run, n) {
    await run.setup(n - 1);
    run.event('play', 'play');
    run.host?.manager.play();
    await run.at(7);
    const late = run.addClient();
    await late.connect();
    await run.at(8);
    run.event('late join', 'join');
    await late.manager.joinRoom(/** @type {string} */ (run.code));
    await run.at(20);
  },

  async buffer(run, n) {
    await run.setup(n);
    run.event('play', 'play');
    run.host?.manager.play();
    await run.at(7);
    run.event('m1 stalls 2s', 'stall');
    run.clients[1].player.stall(2000);
    await run.at(15);
    run.event('m2 stalls 0.3s', 'stall');
    run.clients[Math.min(2, n - 1)].player.stall(300);
    await run.at(23);
  },

  async disconnect(run, n) {
    await run.setup(n);
    run.event('play', 'play');
    run.host?.manager.play();
    await run.at(6);
    const outageMs = 10_000 * Math.min(1, run.opts.scale);
    run.event('m1 offline', 'cut');
    run.clients[1].net.cut(outageMs);
    await sleep(outageMs * 0.4);
    run.event('seek 200s (m1 away)', 'seek_while_away');
    run.host?.manager.seek(200);
    await sleep(outageMs * 0.6);
    run.event('m1 network back', 'reconnect');
    await run.at(6 + outageMs / 1000 / run.opts.scale + 14);
  },

  async 'host-leaves'(run, n) {
    await run.setup(n);
    run.event('play', 'play');
    run.host?.manager.play();
    await run.at(7);
    const host = /** @type {SimClient} */ (run.host);
    run.event('host leaves', 'host_left');
    host.manager.leaveRoom();
    host.left = true;
    host.stop();
    await waitFor(() => run.host !== null, 10_000, 'a new host');
    await run.at(13);
    run.event('new host seeks 500s', 'seek');
    run.host?.manager.seek(500);
    await run.at(21);
  },

  remote: (run, n) => remoteScript(run, n, { god, serverTimeAt, sleep, waitFor, timers }),
};

function table(results) {
  const head = ['scenario', 'p50', 'p95', 'p99', 'max', 'all p99', 'convergence s (per event)', 'hard seeks st/all', 'rate range'];
  const rows = results.map((r) => [
    r.name, fmt(r.steady.p50), fmt(r.steady.p95), fmt(r.steady.p99), fmt(r.steady.max), fmt(r.all_playing.p99),
    r.events.map((e) => `${e.label}:${e.convergence_s === null ? 'never' : e.convergence_s}`).join(' '),
    `${r.hard_seeks.steady}/${r.hard_seeks.total}`, `${r.rate.min}–${r.rate.max}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return ['steady-state true pairwise offset while playing (ms)', line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Where the steady milliseconds go (lib/budget.mjs): pairwise p99 of each part alone. */
function budgetTable(results) {
  const head = ['scenario', 'total', 'clock δ', 'controller b', 'reading q', 'total w/o clock', 'total w/o controller', '|δ| p50/p99', '|b| p50/p99', 'residual'];
  const p = (x) => fmt(x?.p99);
  const rows = results.filter((r) => r.budget.n).map((r) => {
    const b = r.budget;
    return [r.name, p(b.pairwise.total), p(b.pairwise.clock), p(b.pairwise.ctrl), p(b.pairwise.read), p(b.pairwise.no_clock), p(b.pairwise.no_ctrl),
      `${fmt(b.abs.clock.p50)}/${fmt(b.abs.clock.p99)}`, `${fmt(b.abs.ctrl.p50)}/${fmt(b.abs.ctrl.p99)}`, fmt(b.residual_max_ms)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return ['where the steady milliseconds go: pairwise p99 of each part alone (ms; e = b + δ + q)', line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * The machine's own timer noise with nothing of ours running: a 10 ms interval's lateness
 * over `seconds`. The clients, the network shim and the sampler all run on such timers.
 * @param {number} seconds
 */
export async function timerBaseline(seconds) {
  const lags = [];
  let last = god();
  await new Promise((resolve) => {
    const end = last + seconds * 1000;
    const h = setInterval(() => {
      const t = god();
      lags.push(Math.max(0, t - last - 10));
      last = t;
      if (t >= end) {
        clearInterval(h);
        resolve(undefined);
      }
    }, 10);
  });
  return summarize(lags);
}

export async function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    console.error(`sync-harness: ${/** @type {Error} */ (e).message}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const baseline = opts.timerBaselineS > 0 ? await timerBaseline(opts.timerBaselineS) : null;
  const loadBaseline = loadavg()[0];
  if (baseline) console.error(`sync-harness: timer baseline ${opts.timerBaselineS} s: lateness of a 10 ms timer p50/p99/max ${baseline.p50}/${baseline.p99}/${baseline.max} ms, load ${round(loadBaseline, 2)}`);
  const server = opts.url ? null : await startServer();
  const url = opts.url || /** @type {NonNullable<typeof server>} */ (server).url;
  console.error(`sync-harness: ${opts.clients} clients, one-way delay ${opts.delayMs}±${opts.jitterMs} ms, ` +
    `asymmetry ≤${opts.asymmetryMs} ms, spikes p=${opts.spikeProb} ${opts.spikeMs.join('-')} ms, ` +
    `HLS share ${opts.hlsFraction}, server ${url}${server ? ` (pid ${server.pid})` : ''}`);
  const results = [];
  const panels = [];
  // The harness's own timer lateness: the client cores run on these timers, so a busy
  // machine shows up here before it shows up as offsets.
  const lags = [];
  let lastTick = god();
  const lagTimer = setInterval(() => {
    const t = god();
    lags.push(Math.max(0, t - lastTick - 10));
    lastTick = t;
  }, 10);
  const loadBefore = loadavg()[0];
  try {
    for (const name of opts.scenarios) {
      // Seeded by the scenario's place in the full list, so that `--scenarios late-join` has
      // the same clients (kinds, clocks, latencies) as the late-join of a full run.
      const run = new Run(name, opts, url, opts.seed * 1000 + SCENARIOS.indexOf(name));
      const loadStart = loadavg()[0];
      try {
        await SCRIPTS[name](run, opts.clients);
      } finally {
        await run.finish();
      }
      const r = run.result();
      r.loadavg_start = round(loadStart, 2);
      if (run.remote) r.remote = run.remote.result();
      results.push(r);
      panels.push(run.panel(r));
      console.error(`sync-harness: ${name} done: steady p99 ${fmt(r.steady.p99)} ms, convergence ${r.events.map((e) => e.convergence_s ?? 'never').join('/')} s`);
    }
  } finally {
    clearInterval(lagTimer);
    if (server) await server.stop();
  }
  const lag = summarize(lags);

  await mkdir(opts.out, { recursive: true });
  const steadyRun = results.find((r) => r.name === 'steady') || results[0];
  const convOf = (kinds) => {
    const cs = results.flatMap((r) => r.events.filter((e) => kinds.includes(e.kind)).map((e) => e.convergence_s));
    if (!cs.length) return undefined;
    return cs.some((c) => c === null) ? null : Math.max(...cs);
  };
  const summary = {
    clients: opts.clients,
    delay_ms: opts.delayMs,
    jitter_ms: opts.jitterMs,
    steady_p50_ms: steadyRun.steady.p50,
    steady_p99_ms: steadyRun.steady.p99,
    steady_max_ms: steadyRun.steady.max,
    worst_steady_p99_ms: Math.max(...results.map((r) => r.steady.p99 ?? Infinity)),
    hard_seeks_steady: results.reduce((a, r) => a + r.hard_seeks.steady, 0),
    hard_seeks_total: results.reduce((a, r) => a + r.hard_seeks.total, 0),
    conv_seek_max_s: convOf(['seek']),
    conv_join_max_s: convOf(['join']),
    conv_resume_max_s: convOf(['resume']),
    waiting_pauses: results.reduce((a, r) => a + r.events.filter((e) => e.kind === 'waiting').length, 0),
    conv_max_s: results.some((r) => r.convergence_max_s === null) ? null : Math.max(...results.map((r) => r.convergence_max_s)),
    rate_min: Math.min(...results.map((r) => r.rate.min)),
    rate_max: Math.max(...results.map((r) => r.rate.max)),
    loop_lag_p99_ms: lag.p99,
    loop_lag_max_ms: lag.max,
    ...(baseline ? { baseline_lag_p99_ms: baseline.p99, baseline_lag_max_ms: baseline.max } : {}),
    clock_p99_ms: steadyRun.budget.pairwise.clock.p99,
    ctrl_p99_ms: steadyRun.budget.pairwise.ctrl.p99,
    loadavg: round(Math.max(loadBefore, loadavg()[0]), 2),
  };
  Object.assign(summary, remoteSummary(results));
  const doc = { generated_at: new Date().toISOString(), options: opts, summary, scenarios: results };
  await writeFile(path.join(opts.out, 'sync.json'), `${JSON.stringify(doc, null, 2)}\n`);
  const svg = renderSvg(panels, {
    title: `Matinee sync harness — ${opts.clients} clients, one-way delay ${opts.delayMs}±${opts.jitterMs} ms, HLS share ${opts.hlsFraction}`,
    clipMs: opts.clipMs,
  });
  await writeFile(path.join(opts.out, 'sync.svg'), svg);
  if (opts.plot) await svgToPng(svg, path.join(opts.out, 'sync.png'));

  console.log(table(results));
  console.log(budgetTable(results));
  const remote = remoteTable(results);
  if (remote) console.log(remote);
  const kv = Object.entries(summary).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v === null ? 'never' : v}`);
  console.log(`sync: ${kv.join(' ')}`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('sync-harness.mjs')) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    console.error('sync-harness: failed:', e);
    process.exit(1);
  });
}
