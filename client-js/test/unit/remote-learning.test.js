// What a remote seat learns from its TV and how it aims with it (remote/remote-sync.js):
// latencies from the first command on, stale reports told apart, a threshold that follows
// the device's proven precision, and asking for a report instead of waiting for one. Virtual
// clock, simulated TVs behind the Sessions endpoints over real HTTP (remote-helpers.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedPosition } from '../../src/core/protocol.js';
import { ALICE, ITEM2, apiFor, driven, jellyfin, state, tv, virtualClock } from './remote-helpers.js';

/** The native cast-target client of the sync harness's `tv-cmd` profile. */
const NATIVE = {
  commandLatencyMs: /** @type {[number, number]} */ ([1, 5]), loadMs: /** @type {[number, number]} */ ([100, 140]),
  seekStallMs: /** @type {[number, number]} */ ([0, 3]), unpauseMs: /** @type {[number, number]} */ ([0, 3]),
  reportPeriodMs: 5000, reportJitterMs: 100, eventReports: /** @type {'all'} */ ('all'),
  reportTrailMs: /** @type {[number, number]} */ ([1, 45]), reportDelayMs: /** @type {[number, number]} */ ([5, 40]),
};

/** Runs until |true error| stays under `bandMs` for `holdMs`; the time that took, or null. */
async function settle(run, trueErrMs, bandMs, limitMs, holdMs = 2000) {
  let t = 0;
  let since = null;
  while (t < limitMs) {
    await run(100);
    t += 100;
    const e = trueErrMs();
    if (e !== null && Math.abs(e) < bandMs) {
      if (since === null) since = t;
      if (t - since >= holdMs) return since;
    } else {
      since = null;
    }
  }
  return null;
}

test('a native TV joins a playing room within a second or so: every latency learned from its first command', async (t) => {
  const clock = virtualClock();
  const dev = tv(clock, NATIVE);
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock);
  let st = state(clock, { position: 600, at: clock.serverNow() - 5000 });
  sync.setState(st);
  const err = () => (dev.trueItem() === st.media.id && dev.isAdvancing() ? (dev.truePosition() - expectedPosition(st, clock.serverNow())) * 1000 : null);
  const joined = await settle(run, err, 100, 10_000);
  // The first PlayNow is aimed with the 3 s guess and starts ~2.9 s ahead; the second command
  // is already aimed with what the first taught.
  assert.ok(joined !== null && joined <= 3000, `joined within 100 ms after ${joined} ms`);
  assert.ok(sync.sync.loadMs > 90 && sync.sync.loadMs < 200, `load ${sync.sync.loadMs}`);
  assert.ok(sync.sync.seekMs < 120, `seek ${sync.sync.seekMs}`);
  const commands = dev.commands.filter((c) => !c.kind.startsWith('General:')).length;
  assert.ok(commands <= 4, `${commands} commands to join`);

  // Pause, then play scheduled 400 ms ahead: the unpause goes out one learned latency early.
  st = state(clock, { seq: 2, playing: false, position: 700, reason: 'pause' });
  sync.setState(st);
  await run(3000);
  st = state(clock, { seq: 3, playing: true, position: 700, at: clock.serverNow() + 400, reason: 'play' });
  sync.setState(st);
  const settled = await settle(run, err, 100, 5000, 1000);
  assert.ok(settled !== null && settled <= 1000, `settled after play in ${settled} ms`);
  assert.ok(sync.sync.unpauseMs < 80, `unpause ${sync.sync.unpauseMs}`);

  // A new item: PlayNow aimed with the learned load latency lands close at once.
  st = state(clock, { seq: 4, media: { id: ITEM2 }, position: 0, at: clock.serverNow() + 200, reason: 'media' });
  sync.setState(st);
  const loaded = await settle(run, err, 100, 5000, 1000);
  assert.ok(loaded !== null && loaded <= 1000, `settled after the item change in ${loaded} ms`);
});

test('a seek reported with its pre-seek position is stale: counted, never learned from, a fresh report asked for', async (t) => {
  const clock = virtualClock();
  // Every seek's own report carries the position from before the seek.
  const dev = tv(clock, { ...NATIVE, staleSeekReportProb: 1 });
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock);
  let st = state(clock, { position: 100, at: clock.serverNow() - 1000 });
  sync.setState(st);
  await run(5000);
  for (const [seq, pos] of [[2, 400], [3, 900], [4, 1500]]) {
    st = state(clock, { seq, position: pos, at: clock.serverNow() + 300, reason: 'seek' });
    sync.setState(st);
    await run(4000);
    const e = (dev.truePosition() - expectedPosition(st, clock.serverNow())) * 1000;
    assert.ok(Math.abs(e) < 100, `after the seek to ${pos}: ${e.toFixed(0)} ms`);
  }
  assert.ok(sync.sync.stale >= 3, `stale reports seen: ${sync.sync.stale}`);
  assert.ok(sync.sync.requests >= 3, `fresh reports asked for: ${sync.sync.requests}`);
  // Learned from the real reports: a few ms (plus the reports' own lag behind the picture),
  // not the seconds a pre-seek position would teach; and the threshold follows.
  assert.ok(sync.sync.seekMs < 120, `seek ${sync.sync.seekMs}`);
  assert.ok(sync.sync.spreadMs.seek !== null && sync.sync.thresholdMs < 100, `threshold ${sync.sync.thresholdMs} ms for a precise TV`);
});

test('an unpause reported before the picture moves: the latency comes from the next report, not that one', async (t) => {
  const clock = virtualClock();
  // 100 ms to the TV, then 300 ms before the picture moves; the unpause is reported at once.
  const dev = tv(clock, { commandLatencyMs: 100, unpauseMs: 300, reportPeriodMs: 2000, reportDelayMs: 10 });
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock);
  sync.setState(state(clock, { playing: false, position: 50, reason: 'pause' }));
  await run(10_000);
  for (const seq of [2, 4, 6]) {
    sync.setState(state(clock, { seq, position: 50, at: clock.serverNow() + 1000, reason: 'play' }));
    await run(6000);
    sync.setState(state(clock, { seq: seq + 1, playing: false, position: 50, reason: 'pause' }));
    await run(6000);
  }
  // ~400 ms (the old seat learned ~100 from the report made at the command, or dropped it).
  assert.ok(Math.abs(sync.sync.unpauseMs - 400) < 60, `unpause ${sync.sync.unpauseMs}`);
  // And the third start, aimed with it, began on time.
  const st = state(clock, { seq: 20, position: 50, at: clock.serverNow() + 1000, reason: 'play' });
  sync.setState(st);
  await run(3000);
  const e = (dev.truePosition() - expectedPosition(st, clock.serverNow())) * 1000;
  assert.ok(Math.abs(e) < 60, `started ${e.toFixed(0)} ms off`);
});

test('a TV whose seeks land loosely is corrected by pause, seek and a timed unpause, to a threshold it can keep', async (t) => {
  const clock = virtualClock();
  // Seeks rebuffer 0.3–1.2 s (they land anywhere within ±0.45 s); unpause within 60–200 ms.
  const dev = tv(clock, { commandLatencyMs: [40, 80], seekStallMs: [300, 1200], unpauseMs: [20, 120], reportPeriodMs: 2000 });
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock);
  let st = state(clock, { position: 100, at: clock.serverNow() + 300 });
  sync.setState(st);
  await run(20_000);
  // The room seeks now and then: each seek teaches how loosely this TV lands.
  for (let seq = 2; seq <= 7; seq++) {
    st = state(clock, { seq, position: 300 * seq, at: clock.serverNow() + 300, reason: 'seek' });
    sync.setState(st);
    await run(20_000);
  }
  assert.equal(sync.sync.method, 'pause_seek_unpause');
  // Its seeks take 0.4–1.3 s (a rebuffer): they are taken to land within ± half that at best,
  // and the threshold follows the tighter unpause instead.
  assert.ok(sync.sync.seekMs > 300, `seek ${sync.sync.seekMs}`);
  assert.ok(sync.sync.thresholdMs < sync.sync.seekMs / 2, `threshold ${sync.sync.thresholdMs} under half the seek latency ${sync.sync.seekMs}`);
  st = state(clock, { seq: 8, position: 3000, at: clock.serverNow() + 300, reason: 'seek' });
  sync.setState(st);
  await run(30_000);
  const e = (dev.truePosition() - expectedPosition(st, clock.serverNow())) * 1000;
  assert.ok(Math.abs(e) < 250, `${e.toFixed(0)} ms off 30 s after the last seek`);
  // And it settled: no correction in the last 15 s.
  const late = dev.commands.filter((c) => c.t > clock.now() - 15_000 && !c.kind.startsWith('General:'));
  assert.deepEqual(late.map((c) => c.kind), []);
});

test('report requests: a TV that answers is asked when a decision needs it; one that does not is soon left alone', async (t) => {
  const clock = virtualClock();
  const answers = tv(clock, { ...NATIVE, id: 'sess-answers', reportPeriodMs: 10_000 });
  const silent = tv(clock, { ...NATIVE, id: 'sess-silent', reportPeriodMs: 10_000, eventReports: 'none' });
  const jf = await jellyfin([answers, silent]);
  t.after(() => jf.stop());
  const a = driven(apiFor(jf.url, ALICE, clock), answers.id, clock);
  const b = driven(apiFor(jf.url, ALICE, clock), silent.id, clock);
  for (let seq = 1; seq <= 6; seq++) {
    const st = state(clock, { seq, position: 200 * seq, at: clock.serverNow() + 300, reason: 'seek' });
    a.sync.setState(st);
    b.sync.setState(st);
    for (let i = 0; i < 200; i++) {
      await a.run(100);
      await b.run(100);
    }
  }
  const asked = (d) => d.commands.filter((c) => c.kind === 'General:SetRepeatMode');
  assert.ok(asked(answers).length >= 3, `asked the answering TV ${asked(answers).length} times`);
  // It answered (a report within a LAN round trip or two) nearly every time.
  assert.ok(a.sync._requests.answered >= asked(answers).length - 1, `${a.sync._requests.answered} answered of ${asked(answers).length}`);
  assert.ok(asked(silent).length <= 3, `asked the silent TV ${asked(silent).length} times in two minutes`);
  // Both are where the room is.
  for (const [d, s] of [[answers, a.sync], [silent, b.sync]]) {
    const e = (d.truePosition() - expectedPosition(/** @type {any} */ (s.state), clock.serverNow())) * 1000;
    assert.ok(Math.abs(e) < 250, `${d.id}: ${e.toFixed(0)} ms`);
  }
});
