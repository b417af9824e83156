// @ts-check
import test from 'node:test';
import assert from 'node:assert/strict';
import { TimeSync } from '../../src/core/timesync.js';
import { makeSettings } from '../../src/core/settings.js';
import { FakeClock, rng, expo } from './fakes.js';

/**
 * Feeds `n` ping/pong exchanges through a network whose two directions have the same base
 * delay but different, independent exponential jitter (asymmetric jittered delays).
 */
function simulate(ts, { n, trueOffset, base, upJitter, downJitter, seed, start = 1e6 }) {
  const random = rng(seed);
  const errors = [];
  let t0 = start;
  for (let i = 0; i < n; i++) {
    const up = base + expo(random, upJitter);
    const down = base + expo(random, downJitter);
    const t1 = t0 + up + trueOffset;
    const t2 = t1 + 0.05;
    const t3 = t0 + up + 0.05 + down;
    ts.addSample(t0, t1, t2, t3);
    errors.push(ts.offsetMs - trueOffset);
    t0 += 2000;
  }
  return errors;
}

test('offset converges within 2 ms of the truth under asymmetric jittered delays', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const ts = new TimeSync({ now: () => 0 });
    const errors = simulate(ts, {
      n: 60, trueOffset: 1_732_000_000_000.25 - 1e6, base: 20, upJitter: 4, downJitter: 30, seed,
    });
    // A single naive sample is off by (up - down) / 2: show the jitter really is that large.
    const worstNaive = Math.max(...simulateNaive(seed));
    assert.ok(worstNaive > 10, `the simulated jitter should be hard (naive worst ${worstNaive})`);
    // Converged: the final estimate is within 2 ms, and so are 90 % of those after warm-up.
    const final = Math.abs(errors[errors.length - 1]);
    assert.ok(final < 2, `seed ${seed}: final error ${final.toFixed(3)} ms`);
    const late = errors.slice(20).map(Math.abs).sort((a, b) => a - b);
    const p90 = late[Math.floor(late.length * 0.9)];
    assert.ok(p90 < 2, `seed ${seed}: p90 error ${p90.toFixed(3)} ms`);
  }
});

function simulateNaive(seed) {
  const random = rng(seed);
  const out = [];
  for (let i = 0; i < 60; i++) {
    const up = 20 + expo(random, 4);
    const down = 20 + expo(random, 30);
    out.push(Math.abs(up - down) / 2);
  }
  return out;
}

test('rtt is the best of the window; the sample formula follows DESIGN §4', () => {
  const ts = new TimeSync({ now: () => 0 });
  const s = ts.addSample(100, 1150, 1151, 130);
  assert.ok(s);
  assert.equal(s.rtt, 29); // (130 - 100) - (1151 - 1150)
  assert.equal(s.offset, ((1150 - 100) + (1151 - 130)) / 2);
  ts.addSample(200, 1252, 1253, 260); // rtt 59: queued, must not move the offset
  assert.equal(ts.rttMs, 29);
  assert.equal(ts.lastRttMs, 59);
  assert.equal(ts.offsetMs, 1035.5);
  assert.equal(ts.serverNow(10), 1045.5);
  assert.equal(ts.localFromServer(1045.5), 10);
});

test('impossible samples are dropped and change nothing', () => {
  const ts = new TimeSync({ now: () => 0 });
  assert.equal(ts.addSample(100, 50, 40, 130), null); // t2 < t1
  assert.equal(ts.addSample(100, 50, 80, 90), null); // t3 < t0
  assert.equal(ts.addSample(NaN, 1, 2, 3), null);
  assert.equal(ts.offsetMs, null);
  assert.equal(ts.samples.length, 0);
});

test('a clock jump is absorbed at once, not over a minute', () => {
  const ts = new TimeSync({ now: () => 0 });
  simulate(ts, { n: 20, trueOffset: 5000, base: 10, upJitter: 1, downJitter: 1, seed: 9 });
  simulate(ts, { n: 2, trueOffset: 65000, base: 10, upJitter: 1, downJitter: 1, seed: 10, start: 2e6 });
  assert.ok(Math.abs(ts.offsetMs - 65000) < 2, `offset ${ts.offsetMs}`);
});

test('start() bursts 5 pings 100 ms apart, then one per pingIntervalMs (set to 2 s here); handlePong uses now() as t3', () => {
  const clock = new FakeClock(0);
  const sent = [];
  // The mechanism with a period other than the default, so that the test shows the setting
  // is what sets it (the default period is the harness's to choose; see the next test).
  const settings = makeSettings({ pingIntervalMs: 2000 });
  const ts = new TimeSync({ now: clock.now, timers: clock.timers, settings, send: (m) => { sent.push({ ...m, at: clock.now() }); } });
  ts.start();
  clock.advance(450);
  assert.deepEqual(sent.map((m) => m.at), [0, 100, 200, 300, 400]);
  clock.advance(2000);
  assert.deepEqual(sent.map((m) => m.at), [0, 100, 200, 300, 400, 2400]);
  clock.advance(1000);
  ts.handlePong({ t0: sent[5].t0, t1: 50_000, t2: 50_001 });
  assert.equal(ts.lastRttMs, 3450 - 2400 - 1);
  ts.restartBurst();
  clock.advance(450);
  assert.equal(sent.length, 11);
  ts.stop();
  clock.advance(10_000);
  assert.equal(sent.length, 11);
});

test('with the default settings, the steady pings come once per second after the burst', () => {
  const clock = new FakeClock(0);
  const sent = [];
  const ts = new TimeSync({ now: clock.now, timers: clock.timers, send: (m) => { sent.push(clock.now()); } });
  ts.start();
  clock.advance(3450);
  assert.deepEqual(sent, [0, 100, 200, 300, 400, 1400, 2400, 3400]);
  ts.stop();
});

test('one good sample corrects an estimate built from slow early ones at once', () => {
  // A page still loading answers pongs late: the first samples have long, lopsided delays.
  const ts = new TimeSync({ now: () => 0 });
  const trueOffset = 500;
  const send = (t0, up, down) => ts.addSample(t0, t0 + up + trueOffset, t0 + up + trueOffset, t0 + up + down);
  send(0, 2, 70);
  send(100, 1, 50);
  send(200, 3, 30);
  assert.ok(Math.abs(ts.offsetMs - trueOffset) > 10, `bad start ${ts.offsetMs}`);
  send(2200, 0.5, 0.7); // one quick round trip
  // Both the truth and the estimate lie within ±rtt/2 of that sample: at most one RTT apart.
  assert.ok(Math.abs(ts.offsetMs - trueOffset) <= 1.2, `after a good sample: ${ts.offsetMs}`);
});

test('after a reconnect, a slower new path and a clock that jumped while asleep are taken at once', () => {
  const ts = new TimeSync({ now: () => 0 });
  simulate(ts, { n: 16, trueOffset: 5000, base: 2, upJitter: 0.3, downJitter: 0.3, seed: 21 });
  assert.ok(Math.abs(ts.offsetMs - 5000) < 1);
  assert.ok(ts.rttMs < 6);
  // The laptop slept: the local clock lost 3 s against the server, and the new connection
  // goes over a slower path (~30 ms round trip).
  ts.restartBurst();
  const random = rng(22);
  let t0 = 2e6;
  for (let i = 0; i < 5; i++, t0 += 100) {
    const up = 15 + expo(random, 2);
    const down = 15 + expo(random, 2);
    ts.addSample(t0, t0 + up + 8000, t0 + up + 8000.05, t0 + up + 0.05 + down);
  }
  assert.ok(Math.abs(ts.offsetMs - 8000) < 15, `offset ${ts.offsetMs} (truth 8000)`);
  assert.ok(ts.rttMs > 25, `rtt ${ts.rttMs} is the new path's`);
});

test('the quickest trip each way bounds the offset, whichever samples they come from', () => {
  // Every sample has the same 20 ms round trip; three went out at once and came back slowly,
  // one went out slowly and came back at once. Each alone is 10 ms off; averaged by RTT they
  // are 5 ms off; the bound of the quick trip out and that of the quick trip back meet at
  // the truth.
  const ts = new TimeSync({ now: () => 0 });
  const trueOffset = 7000;
  const send = (t0, up, down) => ts.addSample(t0, t0 + up + trueOffset, t0 + up + trueOffset, t0 + up + down);
  send(0, 0, 20);
  send(1000, 0, 20);
  send(2000, 0, 20);
  assert.ok(Math.abs(ts.offsetMs - (trueOffset - 10)) < 1e-6, `three out-quick samples: ${ts.offsetMs}`);
  send(3000, 20, 0);
  // (to within the drift allowed for since the oldest sample: 50 ppm of 3 s)
  assert.ok(Math.abs(ts.offsetMs - trueOffset) < 0.1, `with one back-quick sample: ${ts.offsetMs}`);
  assert.equal(ts.rttMs, 20);
});

/**
 * The sync harness's network (client-js/bench/lib/net-shim.mjs): each direction 40 ± 15 ms,
 * uniform, a frame never overtaking the one before it; a clock `driftPpm` fast; the real ping
 * schedule (5 pings 100 ms apart, then one a second). Returns the estimate's error every
 * 100 ms from 5 s to 30 s after the first ping, the harness's steady window.
 */
function harnessErrors(seed, driftPpm) {
  const random = rng(seed);
  const k = 1 + driftPpm * 1e-6;
  const local = (g) => 3_000 + g * k; // server time is g
  const ts = new TimeSync({ now: () => 0 });
  const sends = [0, 100, 200, 300, 400];
  for (let g = 1400; g < 30_000; g += 1000) sends.push(g);
  let lastUp = -Infinity;
  let lastDown = -Infinity;
  const arrivals = sends.map((g0) => {
    const g1 = Math.max(g0 + 40 + (random() * 2 - 1) * 15, lastUp);
    const g3 = Math.max(g1 + 40 + (random() * 2 - 1) * 15, lastDown);
    lastUp = g1;
    lastDown = g3;
    return { g3, sample: [local(g0), g1, g1, local(g3)] };
  });
  const errors = [];
  let i = 0;
  for (let g = 0; g <= 30_000; g += 100) {
    while (i < arrivals.length && arrivals[i].g3 <= g) ts.addSample(...arrivals[i++].sample);
    if (g >= 5000) errors.push(ts.offsetMs - (g - local(g)));
  }
  return errors;
}

test('under the sync harness\'s network, two clients\' clock errors differ by under 7.5 ms (p99) from 5 s on', () => {
  // The part of the harness's steady pairwise offset that the clock filter causes: each pair
  // of clients (one drifting +80 ppm, one −80 ppm) aligns to clocks off by the difference of
  // their errors. The window's RTT-weighted mean of low-RTT samples, which this filter
  // replaced, left 10.2 ms here (p99 over these 100 pairs; this one 6.0).
  const diffs = [];
  for (let pair = 0; pair < 100; pair++) {
    const a = harnessErrors(100 + 2 * pair, 80);
    const b = harnessErrors(101 + 2 * pair, -80);
    for (let j = 0; j < a.length; j++) diffs.push(Math.abs(a[j] - b[j]));
  }
  diffs.sort((x, y) => x - y);
  const p99 = diffs[Math.floor(diffs.length * 0.99)];
  assert.ok(p99 < 7.5, `pairwise p99 ${p99.toFixed(2)} ms`);
});

test('a small clock step (40 ms, below any reset threshold) is followed within a few samples', () => {
  const ts = new TimeSync({ now: () => 0 });
  simulate(ts, { n: 20, trueOffset: 5000, base: 10, upJitter: 1, downJitter: 1, seed: 31 });
  assert.ok(Math.abs(ts.offsetMs - 5000) < 1);
  // The local clock steps back 40 ms (an NTP step): the old samples now contradict new ones.
  const errors = simulate(ts, { n: 4, trueOffset: 5040, base: 10, upJitter: 1, downJitter: 1, seed: 32, start: 2e6 });
  assert.ok(Math.abs(errors[errors.length - 1]) < 2, `after 4 samples: ${errors.map((e) => e.toFixed(1)).join(', ')}`);
});
