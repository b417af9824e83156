// @ts-check
// The core in Node, as the sync harness and the README use it: real Managers over the `ws`
// package against the real server, each client with its own skewed, drifting clock and a
// simulated player. Checks that the clients converge on one position despite their clocks,
// that pause holds everyone, and that a dropped connection resumes its seat.

import test from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Manager } from '../../src/core/manager.js';
import { expectedPosition } from '../../src/core/protocol.js';
import { startServer, sleep } from './harness.js';

/** A player with no latency at all: what is left is the core's own error. */
class SimPlayer {
  constructor(now) { this.now = now; this.pos = 0; this.rate = 1; this.paused = true; this.t = now(); this.handlers = {}; }
  _advance() { const t = this.now(); if (!this.paused) this.pos += (t - this.t) / 1000 * this.rate; this.t = t; }
  getPosition() { this._advance(); return this.pos; }
  isPaused() { return this.paused; }
  isSeeking() { return false; }
  isBuffering() { return false; }
  isStreaming() { return false; }
  getRate() { return this.rate; }
  setRate(r) { this._advance(); this.rate = r; }
  play() { this._advance(); this.paused = false; this.emit('play'); }
  pause() { this._advance(); this.paused = true; this.emit('pause'); }
  seek(s) { this._advance(); this.pos = s; this.emit('seeking'); this.emit('seeked'); }
  getMedia() { return { id: 'clip' }; }
  on(ev, fn) { (this.handlers[ev] ||= new Set()).add(fn); return () => this.handlers[ev].delete(fn); }
  emit(ev) { for (const fn of this.handlers[ev] || []) fn(); }
}

function client(base, name, skewMs, ppm) {
  const t0 = performance.now();
  // The client's clock: skewed and drifting. The god's-eye clock is performance.now().
  const now = () => performance.timeOrigin + performance.now() + skewMs + (performance.now() - t0) * ppm * 1e-6;
  const player = new SimPlayer(now);
  const sockets = [];
  const manager = new Manager({
    url: `${base.replace('http', 'ws')}/ws`,
    createSocket: (url) => { const s = new WebSocket(url); sockets.push(s); return s; },
    now,
    timers: { setTimeout, clearTimeout, setInterval, clearInterval },
    player,
    credentials: async () => ({ name }),
  });
  return { manager, player, sockets, skewMs };
}

test('core in Node: skewed clocks converge, pause holds, a dropped connection resumes', { timeout: 60_000 }, async (t) => {
  const server = await startServer();
  const clients = [client(server.base, 'a', 0, 0), client(server.base, 'b', 250, 150), client(server.base, 'c', -1800, -120)];
  t.after(async () => {
    for (const c of clients) c.manager.stop();
    await server.stop();
  });
  const open = (c) => new Promise((r) => { const off = c.manager.on('welcome', () => { off(); r(undefined); }); });
  for (const c of clients) c.manager.start();
  await Promise.all(clients.map(open));
  const [a, b, c] = clients;
  const room = await a.manager.createRoom();
  await b.manager.joinRoom(room.code);
  await c.manager.joinRoom(room.code);
  await sleep(800); // a few pongs
  a.manager.play();
  await sleep(3000);
  // The truth: all players at the same position at the same real instant.
  const spread = () => {
    const p = clients.map((x) => x.player.getPosition());
    return (Math.max(...p) - Math.min(...p)) * 1000;
  };
  const s1 = spread();
  console.log(`# node clients (skews 0 / +250 / −1800 ms, ±150 ppm): spread ${s1.toFixed(2)} ms while playing`);
  assert.ok(s1 < 20, `spread ${s1} ms`);
  for (const x of clients) assert.equal(x.player.paused, false);

  a.manager.pause();
  await sleep(800);
  for (const x of clients) assert.equal(x.player.paused, true);
  assert.ok(spread() < 20);

  // Drop b's socket: it reconnects with its resume secret and keeps its member id.
  const id = b.manager.room.you;
  b.sockets[b.sockets.length - 1].terminate();
  await new Promise((r) => { const off = b.manager.on('room', () => { off(); r(undefined); }); });
  assert.equal(b.manager.room.you, id);
  assert.equal(b.manager.room.code, room.code);
  a.manager.play();
  await sleep(2500);
  const s2 = spread();
  console.log(`# node clients after b's reconnect: spread ${s2.toFixed(2)} ms`);
  assert.ok(s2 < 20, `spread ${s2} ms`);
  const st = a.manager.room.state;
  assert.ok(Math.abs(a.player.getPosition() - expectedPosition(st, a.manager.timesync.serverNow())) < 0.02);
});
