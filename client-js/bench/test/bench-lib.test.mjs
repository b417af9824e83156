// Unit tests for the sync harness's own parts: the simulated player, the network shim's
// ordering and outages, and the statistics. Run with `node --test client-js/bench/test/`.

import test from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from 'ws';
import { SimPlayer } from '../lib/sim-player.mjs';
import { NetPath } from '../lib/net-shim.mjs';
import { convergenceMs, pairwise, percentile, spread, summarize } from '../lib/stats.mjs';
import { parseArgs, rngFrom } from '../sync-harness.mjs';
import { Budget } from '../lib/budget.mjs';

/** A manual clock with timers that fire only when the test advances time. */
function fakeTime() {
  let now = 1000;
  let seq = 0;
  /** @type {{at: number, seq: number, fn: Function, id: number}[]} */
  let pending = [];
  const timers = {
    setTimeout(fn, ms) {
      const id = ++seq;
      pending.push({ at: now + Math.max(0, ms), seq: id, fn, id });
      return id;
    },
    clearTimeout(id) {
      pending = pending.filter((p) => p.id !== id);
    },
  };
  return {
    god: () => now,
    timers,
    advance(ms) {
      const end = now + ms;
      for (;;) {
        pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = pending[0];
        if (!next || next.at > end) break;
        pending.shift();
        now = next.at;
        next.fn();
      }
      now = end;
    },
  };
}

test('sim player: starts after its start latency and advances at the effective rate', () => {
  const t = fakeTime();
  const p = new SimPlayer({ god: t.god, timers: t.timers, rng: () => 0.5, startLatencyMs: 40 });
  const events = [];
  p.on('play', () => events.push('play'));
  assert.equal(p.truePosition(), 0);
  p.play();
  assert.equal(p.isPaused(), false, 'paused flips at once, like the element attribute');
  t.advance(40); // start latency 40 ± 5 → with rng 0.5 exactly 40
  assert.equal(p.truePosition(), 0);
  assert.deepEqual(events, ['play']);
  t.advance(1000);
  assert.ok(Math.abs(p.truePosition() - 1.0) < 1e-9, String(p.truePosition()));
  // A rate change takes effect only after its delay (10–50 ms, rng 0.5 → 30 ms).
  p.setRate(1.1);
  assert.equal(p.getRate(), 1.1);
  t.advance(30);
  assert.ok(Math.abs(p.truePosition() - 1.03) < 1e-9);
  t.advance(1000);
  assert.ok(Math.abs(p.truePosition() - (1.03 + 1.1)) < 1e-9);
  assert.equal(p.effectiveRate(), 1.1);
});

test('sim player: seeks take their media-kind latency and read the target meanwhile', () => {
  for (const [kind, expected] of [['progressive', 100], ['hls', 900]]) {
    const t = fakeTime();
    const p = new SimPlayer({ god: t.god, timers: t.timers, rng: () => 0.5, kind, startLatencyMs: 0 });
    const seen = [];
    p.on('seeking', () => seen.push('seeking'));
    p.on('seeked', () => seen.push('seeked'));
    p.play();
    t.advance(500);
    p.seek(100);
    assert.equal(p.isSeeking(), true);
    assert.equal(p.getPosition(), 100);
    t.advance(expected - 1);
    assert.equal(p.isSeeking(), true, kind);
    assert.equal(p.truePosition(), 100, 'frozen while seeking');
    t.advance(1);
    assert.equal(p.isSeeking(), false);
    assert.deepEqual(seen, ['seeking', 'seeked']);
    t.advance(500);
    assert.ok(Math.abs(p.truePosition() - 100.5) < 1e-9, `${kind}: ${p.truePosition()}`);
    assert.equal(p.isStreaming(), kind === 'hls');
  }
});

test('sim player: a stall freezes the media and reports buffering; resolution coarsens currentTime', () => {
  const t = fakeTime();
  const p = new SimPlayer({ god: t.god, timers: t.timers, rng: () => 0.5, startLatencyMs: 0, resolutionMs: 10 });
  p.play();
  t.advance(1234);
  assert.ok(Math.abs(p.getPosition() - 1.23) < 1e-9, String(p.getPosition()));
  p.stall(300);
  assert.equal(p.isBuffering(), true);
  assert.equal(p.isAdvancing(), false);
  t.advance(300);
  assert.equal(p.isBuffering(), false);
  t.advance(100);
  assert.ok(Math.abs(p.truePosition() - 1.334) < 1e-9, String(p.truePosition()));
  p.pause();
  t.advance(1000);
  assert.ok(Math.abs(p.truePosition() - 1.334) < 1e-9);
});

test('net shim: frames keep their order through jitter and spikes, and take at least the delay', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.on('listening', r));
  const received = [];
  wss.on('connection', (ws) => ws.on('message', (d) => {
    received.push(String(d));
    ws.send(`echo ${d}`);
  }));
  const god = () => performance.now();
  const timers = { setTimeout, clearTimeout };
  const net = new NetPath({ god, timers, rng: rngFrom(3), upMs: 20, downMs: 20, jitterMs: 15, spikeProb: 0.2, spikeMs: [30, 60] });
  const s = net.createSocket(`ws://127.0.0.1:${wss.address().port}`);
  const echoes = [];
  const opened = god();
  await new Promise((r) => { s.onopen = r; });
  assert.ok(god() - opened >= 8, 'open costs a round trip of simulated delay');
  const sent = god();
  let firstEcho = 0;
  s.onmessage = (ev) => {
    if (!echoes.length) firstEcho = god();
    echoes.push(ev.data);
  };
  for (let i = 0; i < 50; i++) s.send(String(i));
  const until = god() + 5000;
  while (echoes.length < 50 && god() < until) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(received, Array.from({ length: 50 }, (_, i) => String(i)));
  assert.deepEqual(echoes, Array.from({ length: 50 }, (_, i) => `echo ${i}`));
  assert.ok(firstEcho - sent >= 2 * 5 - 1, `round trip ${firstEcho - sent} ms`);
  assert.ok(net.stats.spikes > 0);

  // A cut kills the live socket at once and refuses new ones until it ends.
  const closed = new Promise((r) => { s.onclose = r; });
  net.cut(300);
  const ev = await closed;
  assert.equal(ev.code, 1006);
  const s2 = net.createSocket(`ws://127.0.0.1:${wss.address().port}`);
  const ev2 = await new Promise((r) => { s2.onclose = r; s2.onopen = () => r({ code: 'opened' }); });
  assert.equal(ev2.code, 1006, 'no route while the path is down');
  await new Promise((r) => setTimeout(r, 300));
  const s3 = net.createSocket(`ws://127.0.0.1:${wss.address().port}`);
  await new Promise((r, j) => { s3.onopen = r; s3.onclose = () => j(new Error('closed')); });
  s3.close();
  await new Promise((r) => { s3.onclose = r; });
  await new Promise((r) => wss.close(r));
});

test('stats: percentiles, pairwise offsets, spread', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 0.5), 50);
  assert.equal(percentile(xs, 0.99), 99);
  assert.equal(percentile(xs, 1), 100);
  assert.ok(Number.isNaN(percentile([], 0.5)));
  assert.deepEqual(summarize([3, 1, 2]), { n: 3, p50: 2, p95: 3, p99: 3, max: 3 });
  assert.deepEqual(summarize([]), { n: 0, p50: null, p95: null, p99: null, max: null });
  assert.deepEqual(pairwise([0, 10, 25], []), [10, 25, 15]);
  assert.equal(spread([5, -3, 2]), 8);
  assert.equal(spread([7]), 0);
});

test('stats: convergence is the start of the first run that holds long enough', () => {
  const s = (t, spreadMs, ok = true) => ({ t, spreadMs, ok });
  const samples = [s(0, 500), s(100, 40), s(200, 20), s(300, 50), s(400, 10), s(900, 12), s(1400, 5), s(1500, 5)];
  assert.equal(convergenceMs(samples, 0, { holdMs: 1000 }), 400);
  assert.equal(convergenceMs(samples, 0, { holdMs: 1000, untilT: 1400 }), null, 'cut short by the next event');
  // A room converged only on paper (a player not doing what the room does) is not converged.
  const notOk = samples.map((x) => ({ ...x, ok: x.t < 1000 }));
  assert.equal(convergenceMs(notOk, 0, { holdMs: 1000 }), null);
  assert.equal(convergenceMs(samples, 450, { holdMs: 500 }), 450);
});

test('harness options: defaults, overrides and clear errors', () => {
  const d = parseArgs([]);
  assert.equal(d.clients, 8);
  assert.equal(d.delayMs, 40);
  assert.equal(d.jitterMs, 15);
  assert.equal(d.scenarios.length, 8);
  assert.equal(d.scenarios.at(-1), 'remote'); // TV apps through the Sessions API (lib/sim-remote.mjs)
  const o = parseArgs(['--clients', '3', '--scenarios', 'steady,seek', '--spike-ms', '50-80', '--no-plot', '--set', 'deadBandMs=5']);
  assert.deepEqual([o.clients, o.scenarios, o.spikeMs, o.plot, o.set], [3, ['steady', 'seek'], [50, 80], false, { deadBandMs: 5 }]);
  for (const [argv, needle] of [
    [['--clients', 'x'], 'expected a number'],
    [['--clients', '1'], '≥ 2'],
    [['--scenarios', 'nap'], 'unknown nap'],
    [['--jitter-ms', '50'], 'must not exceed'],
    [['--url', 'http://x'], 'ws://'],
    [['--bogus'], 'unknown option'],
    [['--set', 'noSuchSetting=1'], 'unknown Matinee setting'],
    [['--set', 'deadBandMs'], 'KEY=VALUE'],
  ]) {
    assert.throws(() => parseArgs(argv), (e) => e.message.includes(needle), argv.join(' '));
  }
});

test('plot: one path per client, gaps where a client is absent, labels escaped', async () => {
  const { renderSvg } = await import('../lib/plot.mjs');
  const svg = renderSvg([{
    name: 'seek <1>', subtitle: 'x', durationS: 10,
    clients: [
      { label: 'host', points: [[0, 0], [1, 5], [2, null], [3, 500]] },
      { label: 'm1', points: [[0, -5], [1, -6]] },
    ],
    events: [{ t: 1, label: 'a&b' }, { t: 1.1, label: 'c' }],
  }], { title: 'T', clipMs: 100 });
  assert.match(svg, /^<svg /);
  assert.equal((svg.match(/<path /g) || []).length, 2);
  // The null point lifts the pen: the host's path has two move-tos.
  const hostPath = /<path d="([^"]*)"/.exec(svg)[1];
  assert.equal((hostPath.match(/M/g) || []).length, 2);
  assert.ok(svg.includes('seek &lt;1&gt;') && svg.includes('a&amp;b'));
  assert.ok(!svg.includes('seek <1>'));
});

test('budget: each part\'s pairwise spread alone, the total without it, and the split\'s residual', () => {
  const b = new Budget();
  // Two clients: one's clock estimate 3 ms ahead, the other's 3 ms behind, their controllers
  // leaving +1 and +1 (the same, so they cancel pairwise), readings 0.5 ms coarse each.
  for (let k = 0; k < 10; k++) {
    b.add([
      { e: 4.5, clock: 3, ctrl: 1, read: 0.5 },
      { e: -1.5, clock: -3, ctrl: 1, read: 0.5 },
      null, // a client not in the room counts nowhere
    ]);
  }
  const r = b.result();
  assert.equal(r.n, 10);
  assert.equal(r.pairwise.total.p99, 6);
  assert.equal(r.pairwise.clock.p99, 6);
  assert.equal(r.pairwise.ctrl.p99, 0);
  assert.equal(r.pairwise.no_clock.p99, 0, 'with perfect clocks these two would agree');
  assert.equal(r.pairwise.no_ctrl.p99, 6);
  assert.equal(r.residual_max_ms, 0);
  assert.deepEqual(r.clock_bias_ms, [3, -3]);
  assert.equal(r.abs.ctrl.p50, 1);
  // A sample whose parts do not add up (it straddled a state change) shows as a residual.
  b.add([{ e: 10, clock: 0, ctrl: 0, read: 0 }, { e: 0, clock: 0, ctrl: 0, read: 0 }]);
  assert.equal(b.result().residual_max_ms, 10);
  // Fewer than two clients in the room: no pair, nothing counted.
  b.add([{ e: 1, clock: 1, ctrl: 0, read: 0 }, null]);
  assert.equal(b.result().n, 11);
});
