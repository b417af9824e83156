// @ts-check
/**
 * Chaos soak (`make soak MINUTES=20`): two session-server instances sharing rooms through a
 * real `redis-server`, 50 rooms of 5 members playing, for N minutes. Every 30–60 s one
 * instance is stopped — `kill -9` and SIGTERM alternating, the two instances in turn — and
 * started again on the same port; Redis is restarted once, halfway. Members are the client's
 * own `Connection` (client-js/src/core/connection.js): they reconnect with its backoff and
 * resume with their secret, through a "load balancer" that sends each attempt to either
 * instance at random (no stickiness, no health checks: the harsher case).
 *
 * It prints (and writes as JSON with --json FILE):
 *   kills survived     faults after which every member was back in its room
 *   rooms lost         rooms whose members were told the room closed, or could not get back
 *                      into it, or ended up in different rooms (must be 0)
 *   seats lost         resumes answered with a fresh session (welcome.resumed false) or
 *                      another member id than the seat had
 *   divergences        members whose last applied state (seq, media, playing, position,
 *                      rate, at) differed from the room's latest (the authority's frames:
 *                      the last frame any member of the room accepted, or its `room`
 *                      snapshot), checked with the hosts' intents paused, once the room has
 *                      been quiet and fully connected for 2 s, before every fault and at
 *                      the end; a member counts only if it is still off 10 s later
 *   resume ms          from a member's socket closing to its `room` snapshot on the new
 *                      connection: p50 / p99 / max
 *   fan-out ms         from the host sending an intent to each member's copy of the new
 *                      state, only for intents sent outside fault windows (a fault window
 *                      runs from the fault until every member is back, plus 2 s): p50/p99
 *
 * Options: --minutes N (default 2), --rooms N (50), --room-size N (5), --lease-ms N (3000),
 *   --fault-min-s / --fault-max-s (30 / 60), --json FILE.
 * Environment: MATINEE_SERVER_BIN (else target/release, else target/debug), REDIS_SERVER
 * (default `redis-server` on PATH).
 *
 * @module bench/soak
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { Connection } from '../src/core/connection.js';
import { DEFAULT_SETTINGS } from '../src/core/settings.js';
import { serverBinary } from './lib/server.mjs';

// ---------------------------------------------------------------- options

/** @param {string[]} argv */
function parseArgs(argv) {
  const o = { minutes: 2, rooms: 50, roomSize: 5, leaseMs: 3000, faultMinS: 30, faultMaxS: 60, json: '' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    switch (a) {
      case '--minutes': o.minutes = Number(v()); break;
      case '--rooms': o.rooms = Number(v()); break;
      case '--room-size': o.roomSize = Number(v()); break;
      case '--lease-ms': o.leaseMs = Number(v()); break;
      case '--fault-min-s': o.faultMinS = Number(v()); break;
      case '--fault-max-s': o.faultMaxS = Number(v()); break;
      case '--json': o.json = v(); break;
      case '-h': case '--help':
        console.log('usage: soak.mjs [--minutes N] [--rooms N] [--room-size N] [--lease-ms N] [--fault-min-s S] [--fault-max-s S] [--json FILE]');
        process.exit(0);
        break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  for (const k of ['minutes', 'rooms', 'roomSize', 'leaseMs', 'faultMinS', 'faultMaxS']) {
    if (!(Number(o[k]) > 0)) throw new Error(`--${k} must be a positive number`);
  }
  if (o.faultMaxS < o.faultMinS) throw new Error('--fault-max-s must be at least --fault-min-s');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

/** @returns {Promise<number>} a loopback port free right now */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- processes

const work = mkdtempSync(path.join(tmpdir(), 'matinee-soak-'));

class Redis {
  /** @param {number} port */
  constructor(port) {
    this.port = port;
    /** @type {import('node:child_process').ChildProcess|null} */
    this.child = null;
  }

  async start() {
    this.child = spawn(process.env.REDIS_SERVER || 'redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work,
    ], { stdio: 'ignore' });
    const t0 = now();
    while (!(await this.ping())) {
      if (now() - t0 > 10000) throw new Error('redis-server did not start');
      await sleep(50);
    }
  }

  /** @returns {Promise<boolean>} */
  ping() {
    return new Promise((resolve) => {
      const s = new Socket();
      s.once('error', () => resolve(false));
      s.connect(this.port, '127.0.0.1', () => s.write('PING\r\n'));
      s.once('data', (d) => { resolve(d.toString().startsWith('+PONG')); s.destroy(); });
    });
  }

  async stop() {
    const c = this.child;
    this.child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }
}

class Instance {
  /** @param {string} id @param {number} port @param {string} redisUrl */
  constructor(id, port, redisUrl) {
    this.id = id;
    this.port = port;
    this.redisUrl = redisUrl;
    /** @type {import('node:child_process').ChildProcess|null} */
    this.child = null;
    this.log = '';
  }

  async start() {
    const child = spawn(serverBinary(), ['--listen', `127.0.0.1:${this.port}`], {
      env: {
        ...process.env,
        MATINEE_AUTH__ALLOW_ANONYMOUS: 'true',
        MATINEE_LOG__LEVEL: process.env.MATINEE_LOG__LEVEL || 'warn',
        MATINEE_STORE__BACKEND: 'redis',
        MATINEE_STORE__REDIS__URL: this.redisUrl,
        MATINEE_STORE__REDIS__INSTANCE_ID: this.id,
        MATINEE_STORE__REDIS__LEASE_MS: String(opts.leaseMs),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stderr?.on('data', (d) => {
      this.log += d.toString();
      if (this.log.length > 200_000) this.log = this.log.slice(-100_000);
    });
    await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`instance ${this.id} did not start:\n${out}${this.log}`)), 20000);
      child.stdout?.on('data', (d) => {
        out += d.toString();
        if (out.includes('Matinee listening on')) { clearTimeout(timer); resolve(undefined); }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`instance ${this.id} exited (${code}):\n${out}${this.log}`)); });
    });
  }

  /** @param {'SIGKILL'|'SIGTERM'} signal */
  async stop(signal) {
    const c = this.child;
    this.child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  }
}

// ---------------------------------------------------------------- measurements

/** @param {number[]} v @param {number} p */
function pct(v, p) {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round((s.length - 1) * p))];
}

const stats = {
  kills: 0,
  killsSurvived: 0,
  redisRestarts: 0,
  roomsLost: new Set(),
  seatsLost: 0,
  divergences: 0,
  divergenceChecks: 0,
  unsettled: 0,
  /** @type {number[]} */ resumeMs: [],
  /** @type {number[]} */ fanoutMs: [],
  fanoutInFaults: 0,
  resumes: 0,
  errors: /** @type {Record<string, number>} */ ({}),
};

/** Fault windows: [start, end] in performance.now() ms; an open one has end = Infinity. */
const windows = /** @type {Array<[number, number]>} */ ([]);
const inFault = (/** @type {number} */ t) => windows.some(([a, b]) => t >= a && t <= b + 2000);

// ---------------------------------------------------------------- members

/** @type {string[]} */
let urls = [];

/** A "load balancer": each connection attempt goes to either instance at random.
 *  @param {{via: number}} member notes where the attempt went */
function createSocket(member) {
  member.via = Math.floor(Math.random() * urls.length);
  const ws = new WebSocket(urls[member.via]);
  const s = {
    readyState: 0,
    /** @type {any} */ onopen: null,
    /** @type {any} */ onmessage: null,
    /** @type {any} */ onclose: null,
    /** @type {any} */ onerror: null,
    /** @param {string} t */ send(t) { if (ws.readyState === WebSocket.OPEN) ws.send(t); },
    /** @param {number} [code] @param {string} [reason] */
    close(code, reason) { try { ws.close(code, reason); } catch { ws.terminate(); } },
  };
  ws.on('open', () => { s.readyState = 1; s.onopen?.({}); });
  ws.on('message', (d) => s.onmessage?.({ data: d.toString() }));
  ws.on('close', (code, reason) => { s.readyState = 3; s.onclose?.({ code, reason: reason.toString() }); });
  ws.on('error', () => { s.onerror?.({}); });
  return s;
}

class Member {
  /** @param {Room} room @param {number} index */
  constructor(room, index) {
    this.room = room;
    this.index = index;
    this.name = `r${room.index}m${index}`;
    /** @type {string|null} */ this.memberId = null;
    /** @type {any} */ this.state = null;
    this.connected = false;
    this.inRoom = false;
    /** When the current outage began (socket closed while seated). */
    /** @type {number|null} */ this.downSince = null;
    this.connectedAt = 0;
    /** The instance the current connection went to. */
    this.via = -1;
    this.conn = new Connection({
      url: 'ws://balancer/ws',
      createSocket: () => createSocket(this),
      timers: { setTimeout, clearTimeout },
      settings: DEFAULT_SETTINGS,
      credentials: async () => ({ name: this.name }),
      client: { name: 'soak', version: '1' },
    });
    /** @type {((m: any) => void)|null} */ this.waiter = null;
    this.conn.on('status', (st) => {
      if (st !== 'open' && this.connected) {
        this.connected = false;
        if (this.inRoom) this.downSince = now();
      }
    });
    this.conn.on('welcome', (m, { resumed }) => {
      this.connected = true;
      this.connectedAt = now();
      if (this.memberId && !resumed) {
        // The seat did not come back: a fresh session. Count it and sit down again.
        stats.seatsLost++;
        this.inRoom = false;
        this.memberId = null;
        this.conn.send({ type: 'join_room', code: this.room.code });
      }
      if (this.waiter) this.waiter(m);
    });
    this.conn.on('message', (m) => this.onMessage(m));
  }

  /** @param {any} m */
  onMessage(m) {
    switch (m.type) {
      case 'room': {
        if (this.room.code && m.code !== this.room.code) this.room.lost('a member landed in another room');
        if (this.memberId && m.you !== this.memberId) stats.seatsLost++;
        this.memberId = m.you;
        this.inRoom = true;
        this.conn.inRoom = true;
        this.state = m.state;
        this.room.saw(m.state);
        if (this.downSince !== null) {
          stats.resumeMs.push(now() - this.downSince);
          stats.resumes++;
          this.downSince = null;
        }
        break;
      }
      case 'state': {
        if (this.state && m.seq <= this.state.seq) break;
        this.state = m;
        this.room.saw(m);
        const sent = this.room.sent.get(m.seq);
        if (sent !== undefined && m.by === this.room.hostId) {
          if (inFault(sent)) stats.fanoutInFaults++;
          else stats.fanoutMs.push(now() - sent);
        }
        break;
      }
      case 'left':
        if (m.reason === 'room_closed') this.room.lost('left{room_closed}');
        this.inRoom = false;
        this.conn.inRoom = false;
        break;
      case 'error':
        stats.errors[`${m.code}: ${m.message}`] = (stats.errors[`${m.code}: ${m.message}`] || 0) + 1;
        // (While the room opens, a guest joining through the other instance may be told
        // room_not_found before the room's first write reaches Redis: `open` retries.)
        if (m.code === 'room_not_found' && !this.inRoom && this.room.opened) this.room.lost('room_not_found on rejoin');
        break;
      default:
        break;
    }
    if (this.waiter) this.waiter(m);
  }

  /** @param {(m: any) => boolean} pred @param {number} [timeoutMs] */
  next(pred, timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiter = null; reject(new Error(`${this.name}: timed out`)); }, timeoutMs);
      this.waiter = (m) => {
        if (pred(m)) { clearTimeout(timer); this.waiter = null; resolve(m); }
      };
    });
  }
}

class Room {
  /** @param {number} index */
  constructor(index) {
    this.index = index;
    /** @type {string} */ this.code = '';
    /** @type {string|null} */ this.hostId = null;
    /** @type {Member[]} */ this.members = [];
    /** The authority's state as last heard: the newest frame any member of the room
     *  accepted, or a `room` snapshot (after a `kill -9` a room restored from its last write
     *  may be a change older than what members had: the snapshot is the authority now). */
    /** @type {any} */ this.latest = null;
    /** seq → when the host sent the intent that produced it (matched on arrival). */
    this.sent = new Map();
    this.lastIntent = 0;
    this.intents = 0;
    this.opened = false;
  }

  /** @param {any} s */
  saw(s) {
    this.latest = s;
  }

  /** @param {string} why */
  lost(why) {
    if (!stats.roomsLost.has(this.code)) console.error(`room ${this.code} lost: ${why}`);
    stats.roomsLost.add(this.code);
  }

  async open() {
    for (let i = 0; i < opts.roomSize; i++) this.members.push(new Member(this, i));
    const host = this.members[0];
    host.conn.connect();
    await host.next((m) => m.type === 'welcome');
    host.conn.send({ type: 'create_room', media: { id: 'film-1', title: 'Soak', duration: 7200 } });
    const room = await host.next((m) => m.type === 'room');
    this.code = room.code;
    this.hostId = room.you;
    for (const g of this.members.slice(1)) {
      g.conn.connect();
      await g.next((m) => m.type === 'welcome');
      // Through the other instance the room may not be in Redis for a moment yet.
      for (let attempt = 0; ; attempt++) {
        g.conn.send({ type: 'join_room', code: this.code });
        const r = await g.next((m) => m.type === 'room' || m.type === 'error');
        if (r.type === 'room') break;
        if (attempt > 3) throw new Error(`${g.name} could not join ${this.code}: ${JSON.stringify(r)}`);
        await sleep(100);
      }
    }
    this.opened = true;
    this.play();
  }

  allBack() {
    return this.members.every((m) => m.connected && m.inRoom);
  }

  /** The host's next intent: play / seek / pause in turn, at a position from the state. */
  play() {
    const host = this.members[0];
    if (!host.connected || !host.inRoom) return;
    const s = this.latest;
    const t = Date.now();
    const pos = s ? s.position + (s.playing ? Math.max(0, t - s.at) / 1000 * s.rate : 0) : 0;
    const kind = ['play', 'seek', 'pause'][this.intents % 3];
    const position = Math.round((kind === 'seek' ? pos + 30 : pos) * 1000) / 1000;
    this.intents++;
    this.lastIntent = now();
    // The next seq is the one this intent makes (one state per intent here).
    if (s) this.sent.set(s.seq + 1, now());
    host.conn.send({ type: kind, position });
  }

  /** After a quiet, fully connected spell: members whose state differs from the latest. */
  diverged() {
    return this.offMembers().length;
  }

  /** Members off the authority's state, as `name@instance seq n` (for the log). */
  offMembers() {
    const keys = ['seq', 'playing', 'position', 'rate', 'at'];
    const b = this.latest;
    return this.members
      .filter((m) => {
        const a = m.state;
        return !(a && b && keys.every((k) => a[k] === b[k]) && (a.media?.id ?? null) === (b.media?.id ?? null));
      })
      .map((m) => `${m.name}@${'ab'[m.via] ?? '?'} seq ${m.state?.seq}`);
  }
}

// ---------------------------------------------------------------- the run

async function main() {
  const redis = new Redis(await freePort());
  await redis.start();
  const redisUrl = `redis://127.0.0.1:${redis.port}/0`;
  const a = new Instance('a', await freePort(), redisUrl);
  const b = new Instance('b', await freePort(), redisUrl);
  await a.start();
  await b.start();
  const instances = [a, b];
  urls = instances.map((i) => `ws://127.0.0.1:${i.port}/ws`);
  console.log(`soak: ${opts.rooms} rooms × ${opts.roomSize} members, two instances + redis, ${opts.minutes} min, a fault every ${opts.faultMinS}–${opts.faultMaxS} s, lease ${opts.leaseMs} ms`);

  const rooms = Array.from({ length: opts.rooms }, (_, i) => new Room(i));
  for (let i = 0; i < rooms.length; i += 10) await Promise.all(rooms.slice(i, i + 10).map((r) => r.open()));
  console.log(`soak: ${rooms.length} rooms open`);

  const members = rooms.flatMap((r) => r.members);
  // Members report status as the client does (every second or two), the host plays: an
  // intent every 4–8 s per room.
  const statusTimer = setInterval(() => {
    for (const m of members) {
      if (!m.connected || !m.inRoom || !m.state) continue;
      if (Math.random() < 0.5) continue;
      const s = m.state;
      const position = s.position + (s.playing ? Math.max(0, Date.now() - s.at) / 1000 * s.rate : 0);
      m.conn.send({ type: 'status', position, playing: s.playing, buffering: false, rtt_ms: 1, offset_ms: 0, error_ms: 0 });
    }
  }, 1000);
  let paused = false;
  const intentTimer = setInterval(() => {
    if (paused) return;
    const t = now();
    for (const r of rooms) {
      if (t - r.lastIntent > 4000 + Math.random() * 4000) r.play();
    }
  }, 500);

  /** With the hosts' intents paused: every room, once fully connected for 2 s and 2 s after
   *  its last intent, must have every member on the authority's state; a member still off it
   *  10 s later (not merely late) is a divergence. */
  async function checkDivergence() {
    paused = true;
    const t0 = now();
    const pending = new Set(rooms);
    /** @type {Map<Room, number>} */
    const since = new Map();
    while (pending.size > 0 && now() - t0 < 40000) {
      for (const r of [...pending]) {
        const t = now();
        if (!r.allBack() || t - r.lastIntent < 2000 || r.members.some((m) => t - m.connectedAt < 2000)) {
          since.delete(r);
          continue;
        }
        if (!since.has(r)) since.set(r, t);
        const off = r.diverged();
        if (off === 0 || t - (since.get(r) ?? t) > 10000) {
          stats.divergenceChecks++;
          stats.divergences += off;
          if (off > 0) {
            const host = r.members[0];
            console.error(`soak: room ${r.code} (host@${'ab'[host.via] ?? '?'}): off the authority's state (seq ${r.latest?.seq}): ${r.offMembers().join(', ')}`);
          }
          pending.delete(r);
        }
      }
      await sleep(100);
    }
    stats.unsettled += pending.size;
    if (pending.size > 0) console.error(`soak: ${pending.size} room(s) not settled within 40 s`);
    paused = false;
  }

  /** Wait until every member is back in its room (bounded). */
  async function allBack(timeoutMs = 60000) {
    const t0 = now();
    while (now() - t0 < timeoutMs) {
      if (rooms.every((r) => r.allBack())) return true;
      await sleep(50);
    }
    return false;
  }

  const end = now() + opts.minutes * 60000;
  const redisAt = now() + (opts.minutes * 60000) / 2;
  let redisDone = false;
  let fault = 0;
  while (true) {
    const gap = (opts.faultMinS + Math.random() * (opts.faultMaxS - opts.faultMinS)) * 1000;
    if (now() + gap > end) break;
    await sleep(gap);
    await checkDivergence();
    const window = /** @type {[number, number]} */ ([now(), Infinity]);
    windows.push(window);
    let isKill = false;
    if (!redisDone && now() >= redisAt) {
      redisDone = true;
      stats.redisRestarts++;
      console.log('soak: redis restarted');
      await redis.stop();
      await sleep(1000);
      await redis.start();
    } else {
      // Each instance in turn, the signal alternating per instance: a -9, b -9, a TERM, …
      const target = instances[fault % 2];
      const signal = Math.floor(fault / 2) % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
      fault++;
      isKill = true;
      stats.kills++;
      console.log(`soak: ${signal === 'SIGKILL' ? 'kill -9' : 'SIGTERM'} instance ${target.id}`);
      await target.stop(signal);
      await sleep(2000);
      await target.start();
    }
    const back = await allBack();
    window[1] = now();
    if (!back) console.error('soak: not every member came back within 60 s');
    else if (isKill) stats.killsSurvived++;
  }
  await sleep(Math.max(0, end - now()));
  await checkDivergence();
  clearInterval(statusTimer);
  clearInterval(intentTimer);
  for (const m of members) m.conn.close();
  await a.stop('SIGTERM');
  await b.stop('SIGTERM');
  await redis.stop();
  rmSync(work, { recursive: true, force: true });

  const r = (/** @type {number} */ x) => Math.round(x * 10) / 10;
  const report = {
    minutes: opts.minutes,
    rooms: opts.rooms,
    members: members.length,
    lease_ms: opts.leaseMs,
    kills: stats.kills,
    kills_survived: stats.killsSurvived,
    redis_restarts: stats.redisRestarts,
    rooms_lost: stats.roomsLost.size,
    seats_lost: stats.seatsLost,
    divergences: stats.divergences,
    divergence_checks: stats.divergenceChecks,
    rooms_unsettled: stats.unsettled,
    resumes: stats.resumes,
    resume_ms: { p50: r(pct(stats.resumeMs, 0.5)), p99: r(pct(stats.resumeMs, 0.99)), max: r(Math.max(0, ...stats.resumeMs)) },
    fanout_ms_outside_faults: { samples: stats.fanoutMs.length, p50: r(pct(stats.fanoutMs, 0.5)), p99: r(pct(stats.fanoutMs, 0.99)) },
    fanout_samples_in_faults: stats.fanoutInFaults,
    errors: stats.errors,
  };
  console.log(
    `soak: kills survived ${report.kills_survived}/${report.kills}, redis restarts ${report.redis_restarts}, rooms lost ${report.rooms_lost}, ` +
    `seats lost ${report.seats_lost}, divergences ${report.divergences} (of ${report.divergence_checks} room checks, ${report.rooms_unsettled} unsettled), ` +
    `resume ms p50 ${report.resume_ms.p50} p99 ${report.resume_ms.p99} max ${report.resume_ms.max} (${report.resumes} resumes), ` +
    `fan-out ms outside faults p50 ${report.fanout_ms_outside_faults.p50} p99 ${report.fanout_ms_outside_faults.p99} (${report.fanout_ms_outside_faults.samples} samples)`,
  );
  if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 2));
  process.exit(report.rooms_lost === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(`soak: ${e.stack || e}`);
  process.exit(2);
});
