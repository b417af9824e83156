// The remote seat's sync logic on a virtual clock: clock mapping from LastPlaybackCheckIn,
// scheduled unpause, backoff when seeks keep missing, and the small parsers it relies on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedPosition } from '../../src/core/protocol.js';
import { SessionsApi, parseJellyfinDate, sameId } from '../../src/remote/sessions-api.js';
import { makeRemoteSettings } from '../../src/remote/settings.js';
import { jellyfinDate, NEVER } from '../../bench/lib/sim-remote-device.mjs';
import { tokenFrom } from '../../bench/lib/sim-remote-jellyfin.mjs';
import { RemoteSync } from '../../src/remote/remote-sync.js';
import { ALICE, ITEM, apiFor, driven, jellyfin, state, tv, virtualClock } from './remote-helpers.js';

test('Jellyfin dates keep their sub-millisecond digits; MinValue means never', () => {
  assert.equal(parseJellyfinDate('2024-05-01T12:00:00.1234567Z'), Date.parse('2024-05-01T12:00:00.123Z') + 0.4567);
  assert.equal(parseJellyfinDate('2024-05-01T12:00:00Z'), Date.parse('2024-05-01T12:00:00Z'));
  assert.equal(parseJellyfinDate(NEVER), null);
  assert.equal(parseJellyfinDate('yesterday'), null);
  assert.equal(parseJellyfinDate(undefined), null);
  const t = 1_700_000_123_456.789;
  assert.ok(Math.abs(/** @type {number} */ (parseJellyfinDate(jellyfinDate(t))) - t) < 1e-3);
});

test('user ids compare across Jellyfin\'s Guid formats; empty ids never match', () => {
  assert.ok(sameId('a11ce000000000000000000000000001', 'A11CE000-0000-0000-0000-000000000001'));
  assert.ok(!sameId('a11ce000000000000000000000000001', 'b0b00000000000000000000000000002'));
  assert.ok(!sameId('', ''));
  assert.ok(!sameId(undefined, undefined));
});

test('the token travels in the MediaBrowser header, never in the URL', async () => {
  /** @type {{url: string, init: any}[]} */
  const calls = [];
  const fakeFetch = async (url, init) => {
    calls.push({ url, init });
    return new Response(JSON.stringify([{ Id: 's1', UserId: ALICE.id, SupportsRemoteControl: true }]), { status: 200 });
  };
  const api = new SessionsApi({ baseUrl: 'http://jf.example', userId: ALICE.id, token: () => 'sekrit"x', fetch: /** @type {any} */ (fakeFetch), client: { name: 'Jellyfin Web', deviceId: 'd1' } });
  await api.listOwn();
  await api.seek('s1', 12.5);
  assert.equal(calls.length, 3); // the listing, the check before the seek, the seek
  for (const c of calls) {
    assert.ok(!c.url.includes('sekrit'));
    assert.equal(tokenFrom(c.init.headers.Authorization), 'sekritx'); // a quote cannot break the header
    assert.match(c.init.headers.Authorization, /^MediaBrowser Client="Jellyfin Web", DeviceId="d1", Token="/);
  }
  assert.equal(calls[2].url, 'http://jf.example/Sessions/s1/Playing/Seek?seekPositionTicks=125000000');
  assert.equal(calls[2].init.method, 'POST');
});

test('positions are estimated through Jellyfin\'s own clock, however far off it is', async (t) => {
  const clock = virtualClock();
  // Jellyfin's clock is an hour behind ours and the TV reports every 5 s.
  const dev = tv(clock, { jfSkewMs: -3_600_000, reportPeriodMs: 5000, reportDelayMs: [10, 30] });
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock);
  sync.setState(state(clock, { at: clock.serverNow() + 500 }));
  /** @type {number[]} */
  const errs = [];
  await run(60_000, () => {
    const est = sync.estimate();
    if (clock.now() > clock.t - 1 && est !== null && dev.isAdvancing() && sync.sync.status !== 'loading') errs.push(Math.abs(est - dev.truePosition()) * 1000);
  });
  const late = errs.slice(-200);
  assert.ok(late.length > 100);
  assert.ok(Math.max(...late) < 100, `estimate − truth up to ${Math.max(...late).toFixed(1)} ms`);
  assert.ok(sync.sync.reportDelayMs !== null && sync.sync.reportDelayMs >= 0 && sync.sync.reportDelayMs < 300, `report delay ${sync.sync.reportDelayMs}`);
});

test('a scheduled start unpauses one learned latency before `at`', async (t) => {
  const clock = virtualClock();
  const dev = tv(clock, { commandLatencyMs: 300, unpauseMs: 100, reportPeriodMs: 1000 });
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock);
  // Load and pause at 50 s.
  sync.setState(state(clock, { playing: false, position: 50, reason: 'pause' }));
  await run(15_000);
  assert.equal(dev.isAdvancing(), false);
  // Play twice (the first teaches the unpause latency), each scheduled 2 s ahead.
  for (const seq of [2, 4]) {
    const st = state(clock, { seq, playing: true, position: 50, at: clock.serverNow() + 2000, reason: 'play' });
    sync.setState(st);
    const from = dev.commands.length;
    await run(6_000);
    const unpause = dev.commands.slice(from).find((c) => c.kind === 'Unpause');
    assert.ok(unpause, 'unpaused');
    const leadMs = clock.localFromServer(st.at) - unpause.t;
    if (seq === 4) {
      // 300 ms to the device + ~100 ms to move: sent ~400 ms early, not at `at`.
      assert.ok(sync.sync.unpauseMs > 250 && sync.sync.unpauseMs < 600, `learned ${sync.sync.unpauseMs}`);
      assert.ok(Math.abs(leadMs - sync.sync.unpauseMs) <= 2 * sync.s.tickMs, `sent ${leadMs} ms before at`);
      const err = (dev.truePosition() - expectedPosition(st, clock.serverNow())) * 1000;
      assert.ok(Math.abs(err) < 250, `started ${err.toFixed(0)} ms off`);
    }
    sync.setState(state(clock, { seq: seq + 1, playing: false, position: 50, reason: 'pause' }));
    await run(8_000);
  }
});

test('a device that ignores seeks is not seeked in a loop: the retries back off to the cap', async (t) => {
  const clock = virtualClock();
  // It plays and reports, but does nothing on Seek (some apps implement no Seek command);
  // keyframe-snapped starts leave it up to 4 s off.
  const dev = tv(clock, { seekSnapS: 4, ignores: ['Seek'], reportPeriodMs: 1000 });
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock);
  const s = sync.s;
  sync.setState(state(clock, { position: 103, at: clock.serverNow() + 300 }));
  await run(600_000); // ten minutes
  const seeks = dev.commands.filter((c) => c.kind === 'Seek');
  // Every tick would be 6000 seeks; one per cooldown, 150.
  assert.ok(seeks.length >= 3, `it did try: ${seeks.length}`);
  assert.ok(seeks.length <= 16, `${seeks.length} seeks in ten minutes`);
  const gaps = seeks.slice(1).map((c, i) => c.t - seeks[i].t);
  assert.ok(gaps.at(-1) >= s.maxRetryMs - 2 * s.tickMs, `settles at the cap: ${gaps.map((g) => (g / 1000).toFixed(1)).join(', ')}`);
  for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] >= gaps[i - 1] - 2 * s.tickMs, `gaps never shrink: ${gaps.join(', ')}`);
  assert.equal(sync.sync.status, 'not_responding');

  // A person's pause still goes out at once, and is obeyed.
  const from = dev.commands.length;
  sync.setState(state(clock, { seq: 9, playing: false, position: 300.5, reason: 'pause' }));
  await run(1000);
  assert.equal(dev.commands[from]?.kind, 'Pause');
});

test('corrections that keep missing make the device limited: they stop, it says so, a person\'s seek still goes out', async (t) => {
  const clock = virtualClock();
  const dev = tv(clock, { reportPeriodMs: 1000, seekStallMs: 500 });
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock);
  sync.setState(state(clock, { position: 100, at: clock.serverNow() + 300 }));
  await run(40_000);
  assert.equal(sync.sync.status, 'in_sync');
  assert.equal(sync.sync.limitMs, null);
  // From now on every seek lands 1.5 or 3 s short of where it was aimed (and no learning can
  // know that it will): each one is answered, none gets under the threshold.
  const realCommand = dev.command.bind(dev);
  dev.command = (kind, args = {}) => realCommand(kind, kind === 'Seek' ? { seekTicks: args.seekTicks - 15_000_000 * (1 + (dev.commands.length % 2)) } : args);
  const from = dev.commands.length;
  sync.setState(state(clock, { seq: 2, position: 500, at: clock.serverNow() + 300, reason: 'seek' }));
  await run(300_000);
  const seeks = dev.commands.slice(from).filter((c) => c.kind === 'Seek');
  // A correction every few seconds would be a hundred; it tries a few, then stops.
  assert.ok(seeks.length >= 2 && seeks.length <= 8, `${seeks.length} seeks in five minutes`);
  const last = seeks.at(-1);
  assert.ok(last && clock.now() - last.t > 200_000, 'none in the last 200 s');
  assert.equal(sync.sync.status, 'limited');
  assert.ok(sync.sync.limitMs >= 1500, `limited to ±${sync.sync.limitMs} ms`);
  // The room seeks: a seek goes out at once all the same.
  const before = dev.commands.length;
  sync.setState(state(clock, { seq: 3, position: 900, at: clock.serverNow() + 300, reason: 'seek' }));
  await run(500);
  assert.ok(dev.commands.slice(before).some((c) => c.kind === 'Seek'), 'seeked at once after the room seeked');
});

test('a position Jellyfin advanced by itself since the report is not taken for where the TV was', async (t) => {
  const clock = virtualClock();
  // A TV that reports every 10 s (jellyfin-web's throttle) and at once on every command; the
  // seat polls 1.5–2.5 s apart, so most reports are first seen after Jellyfin's own timer
  // added a second or two to the listed position (LastPlaybackCheckIn unchanged).
  const dev = tv(clock, { reportPeriodMs: 10_000, reportJitterMs: 0, eventReports: 'all', commandLatencyMs: [1, 5], loadMs: 100, seekStallMs: [0, 3], unpauseMs: [0, 3], reportDelayMs: [5, 20] });
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock, { pollMs: 2000, fastPollMs: 2000 });
  const st = state(clock, { position: 100, at: clock.serverNow() + 500 });
  sync.setState(st);
  await run(20_000);
  // What GET /Sessions shows is ahead of the last report by whole seconds, as on a real server.
  const listed = dev.toSessionInfoDto();
  assert.ok(listed.PlayState.PositionTicks > dev.held.positionTicks, 'Jellyfin advanced the listed position');
  assert.equal(listed.LastPlaybackCheckIn, jfDate(dev));
  /** @type {number[]} */
  const errs = [];
  /** @type {number[]} */
  const believed = [];
  await run(120_000, () => {
    errs.push(Math.abs(dev.truePosition() - expectedPosition(st, clock.serverNow())) * 1000);
    if (sync.sync.errorMs !== null) believed.push(Math.abs(sync.sync.errorMs));
  });
  // Taken for the TV's own, a listing a second or two ahead makes the seat believe the TV is
  // that far off and seek it back by as much.
  assert.ok(Math.max(...believed) < 300, `the seat believed the TV up to ${Math.max(...believed).toFixed(0)} ms off`);
  assert.ok(Math.max(...errs) < 300, `true error up to ${Math.max(...errs).toFixed(0)} ms`);
  // Reports first seen after Jellyfin had advanced them were read back to the report.
  assert.ok(sync.sync.autoSteps > 0, 'some listings came a second or more after their report');
});

/** The check-in Jellyfin shows for what it holds. @param {any} dev */
function jfDate(dev) {
  return jellyfinDate(dev.heldAt + dev.jfSkewMs);
}

test('when listings are slow to come back, Jellyfin\'s activity date tells how far it advanced a position', async (t) => {
  const clock = virtualClock();
  // As on a loaded machine: every GET /Sessions takes 400 ms, so the clock mapping's bounds
  // are wide and cannot tell a listing's age to the second by themselves.
  const dev = tv(clock, { reportPeriodMs: 10_000, reportJitterMs: 0, eventReports: 'all', commandLatencyMs: [1, 5], loadMs: 100, seekStallMs: [0, 3], unpauseMs: [0, 3], reportDelayMs: [5, 20] });
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const slowFetch = async (url, init) => {
    const slow = init?.method !== 'POST';
    if (slow) clock.advance(200);
    const r = await fetch(url, init);
    if (slow) clock.advance(200);
    return r;
  };
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock, { fetch: slowFetch }), dev.id, clock, { pollMs: 2000, fastPollMs: 2000 });
  const st = state(clock, { position: 100, at: clock.serverNow() + 500 });
  sync.setState(st);
  await run(20_000);
  /** @type {number[]} */
  const believed = [];
  const from = sync.sync.autoSteps;
  await run(120_000, () => { if (sync.sync.errorMs !== null) believed.push(Math.abs(sync.sync.errorMs)); });
  assert.ok(Math.max(...believed) < 300, `the seat believed the TV up to ${Math.max(...believed).toFixed(0)} ms off`);
  assert.ok(sync.sync.autoSteps - from >= 5, `periodic reports read back to the report: ${sync.sync.autoSteps - from}`);
  assert.equal(sync.sync.status, 'in_sync');
});

test('a busy Jellyfin stamps reports late: a report that answers a request is placed by the request, and the lag it shows places the others', async () => {
  // Local clock = virtualClock; Jellyfin's clock 5 s behind. The TV plays at 1 s per second;
  // every report of it reaches Jellyfin's stamp 300 ms after it was made, and Jellyfin takes
  // 300 ms to handle the seat's POST before it pushes the request to the TV (and answers).
  const clock = virtualClock(0);
  const jf = (local) => local - 5000;
  const truth = (local) => 10 + (local + 2300) / 1000;
  /** @type {() => void} */
  let answer = () => {};
  const api = {
    isOwn: () => true,
    requestReport: (_id, _mode, onSent) => { onSent?.(clock.now()); return new Promise((r) => { answer = () => r(undefined); }); },
  };
  const timers = { setTimeout: () => 0, clearTimeout: () => {}, setInterval: () => 0, clearInterval: () => {} };
  const sync = new RemoteSync({ api, sessionId: 's1', clock, timers });
  const listing = (made, checkIn) => ({
    id: 's1', userId: ALICE.id, deviceId: 'd', deviceName: 'Chrome', itemId: ITEM, positionS: truth(made), paused: false,
    checkInMs: jf(checkIn), activityMs: jf(checkIn), repeatMode: 'RepeatNone', canRequestReport: true,
  });
  const poll = (at, made, checkIn) => { clock.t = at; sync.ingest(listing(made, checkIn), at, at + 1); };
  poll(0, -2300, -2000); // a periodic report
  poll(100, -2300, -2000);
  clock.t = 200;
  sync._wantReport();
  sync._maybeRequest(clock.now()); // SetRepeatMode leaves at 200
  clock.t = 500; // Jellyfin pushed it to the TV, which reported at once, and answered us
  answer();
  await new Promise((r) => setImmediate(r));
  poll(795, -2300, -2000);
  poll(801, 500, 800); // the answer, stamped 300 ms after it was made
  const at1 = /** @type {number} */ (sync.estimate(1000));
  assert.ok(Math.abs(at1 - truth(1000)) * 1000 < 5, `estimate − truth ${((at1 - truth(1000)) * 1000).toFixed(1)} ms`);
  assert.ok(Math.abs(/** @type {number} */ (sync.sync.lagMs) - 300) < 5, `lag ${sync.sync.lagMs}`);
  // A periodic report (answers nothing), stamped 300 ms late too: placed with the lag learned.
  poll(2795, 500, 800);
  poll(2801, 2500, 2800);
  const at2 = /** @type {number} */ (sync.estimate(3000));
  assert.ok(Math.abs(at2 - truth(3000)) * 1000 < 5, `estimate − truth ${((at2 - truth(3000)) * 1000).toFixed(1)} ms`);
});

test('a listing that shows the previous report stepped by Jellyfin\'s timer under a new check-in is not taken for the new report', () => {
  // Jellyfin 10.11's automatic-progress tick can land while a new report is being handled
  // and write the OLD report's position + k s over it, after the new check-in (and after it
  // in LastActivityDate); jellyfin-web reports exactly on the old timer's 10th tick.
  const clock = virtualClock(0);
  const timers = { setTimeout: () => 0, clearTimeout: () => {}, setInterval: () => 0, clearInterval: () => {} };
  const sync = new RemoteSync({ api: { isOwn: () => true }, sessionId: 's1', clock, timers });
  const listing = (pos, checkIn, activity) => ({
    id: 's1', userId: ALICE.id, deviceId: 'd', deviceName: 'Chrome', itemId: ITEM, positionS: pos, paused: false,
    checkInMs: checkIn, activityMs: activity, repeatMode: 'RepeatNone', canRequestReport: true,
  });
  const poll = (at, l) => { clock.t = at; sync.ingest(l, at, at + 1); };
  poll(0, listing(10.058, -20, -20)); // a report: 10.058 s
  poll(10_000, listing(20.058, 9_990, 9_995)); // new check-in, the old report + 10 s on it
  assert.equal(sync.lastReport?.p, 10.058, 'the overwritten position is not the new report\'s');
  assert.equal(sync.sync.overwritten, 1);
  // Once Jellyfin's timer runs from the new report, a listing shows it (+1 s, one step).
  poll(11_100, listing(21.214, 9_990, 11_030));
  assert.ok(Math.abs(/** @type {number} */ (sync.lastReport?.p) - 20.214) < 1e-9, `${sync.lastReport?.p}`);
  assert.equal(sync.lastReport?.checkInMs, 9_990);
});

test('a report after a small seek and a report request answers both: the request counts as answered, the report is timed by it', async () => {
  // jellyfin-web reports a seek under 5 s only when asked; the report the request makes
  // also shows the seek's target.
  const clock = virtualClock(0);
  /** @type {(() => void)[]} */
  const answers = [];
  const api = {
    isOwn: () => true,
    seek: (_id, _s, onSent) => cmd(onSent),
    pause: (_id, onSent) => cmd(onSent),
    unpause: (_id, onSent) => cmd(onSent),
    requestReport: (_id, _mode, onSent) => cmd(onSent),
  };
  /** @param {((t: number) => void)|undefined} onSent */
  function cmd(onSent) {
    onSent?.(clock.now());
    return new Promise((r) => answers.push(() => r(undefined)));
  }
  const timers = { setTimeout: () => 0, clearTimeout: () => {}, setInterval: () => 0, clearInterval: () => {} };
  const sync = new RemoteSync({ api, sessionId: 's1', clock, timers });
  const listing = (pos, checkIn) => ({
    id: 's1', userId: ALICE.id, deviceId: 'd', deviceName: 'Chrome', itemId: ITEM, positionS: pos, paused: false,
    checkInMs: checkIn, activityMs: checkIn, repeatMode: 'RepeatNone', canRequestReport: true,
  });
  const poll = (at, l) => { clock.t = at; sync.ingest(l, at, at + 1); };
  poll(0, listing(10, -100));
  sync.setState(state(clock, { position: 12, at: clock.serverNow() }));
  poll(100, listing(10, -100));
  // The seat corrects with a seek (2 s off).
  assert.equal(sync.sync.seeks, 1, 'a correction seek');
  clock.t = 160;
  answers.shift()?.();
  await new Promise((r) => setImmediate(r));
  clock.t = 200;
  sync._wantReport();
  sync._maybeRequest(clock.now());
  assert.equal(sync.sync.requests, 1);
  clock.t = 210;
  answers.shift()?.();
  await new Promise((r) => setImmediate(r));
  const target = sync._acts[0].target;
  poll(212, listing(10, -100)); // (pins Jellyfin's clock: the report below came after this)
  poll(220, listing(target + 0.2, 215));
  poll(240, listing(target + 0.2, 215));
  assert.equal(sync._requests.answered, 1, 'the request is answered');
  assert.equal(sync.lastReport?.act?.kind, 'request');
});
