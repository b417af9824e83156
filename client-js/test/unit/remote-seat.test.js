// Remote seats against Jellyfin's session endpoints over real HTTP on loopback (simulated TV
// sessions, bench/lib/sim-remote-*.mjs), on a virtual clock: what reaches the device, when,
// and what must never be sent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedPosition } from '../../src/core/protocol.js';
import { SessionsApi } from '../../src/remote/sessions-api.js';
import { ALICE, BOB, ITEM, ITEM2, apiFor, driven, jellyfin, state, tv, virtualClock, within } from './remote-helpers.js';

const posts = (jf) => jf.log.filter((r) => r.method === 'POST');

test('listOwn lists only the user\'s own controllable sessions, although Jellyfin returns more', async (t) => {
  const clock = virtualClock();
  const devices = [
    tv(clock),
    tv(clock, { id: 'sess-alice-phone', deviceName: 'Phone', client: 'Jellyfin Android', deviceId: 'dev-phone' }),
    tv(clock, { id: 'sess-bob-tv', userId: BOB.id, userName: BOB.name, deviceName: 'Bob TV' }),
    // A shared device (no user): Jellyfin lists it to users allowed shared device control.
    tv(clock, { id: 'sess-shared', userId: '00000000000000000000000000000000', deviceName: 'Lobby screen' }),
    // This very browser: jellyfin-web's own "Play on" menu leaves it out too.
    tv(clock, { id: 'sess-alice-browser', deviceName: 'Chrome', client: 'Jellyfin Web', deviceId: 'browser-1' }),
  ];
  const jf = await jellyfin(devices);
  t.after(() => jf.stop());
  const api = apiFor(jf.url, ALICE, clock, { client: { name: 'Jellyfin Web', device: 'Chrome', deviceId: 'browser-1', version: '10.11.11' } });

  // What Jellyfin itself answers alice (EnableRemoteControlOfOtherUsers): Bob's and the
  // shared session are in it, so the filtering below is ours.
  const raw = await (await fetch(`${jf.url}/Sessions?controllableByUserId=${ALICE.id}`, { headers: { Authorization: `MediaBrowser Token="${ALICE.token}"` } })).json();
  assert.deepEqual(raw.map((s) => s.Id).sort(), devices.map((d) => d.id).sort());

  const own = await api.listOwn();
  assert.deepEqual(own.map((s) => s.id), ['sess-alice-tv', 'sess-alice-phone']);
  assert.equal(own[0].deviceName, 'Living room TV');
  assert.equal(own[0].client, 'Jellyfin Android TV');
  // The token went in the header only.
  for (const r of jf.log) assert.ok(!JSON.stringify(r.query).includes(ALICE.token));
  assert.equal(posts(jf).length, 0);

  // Bob (no right to control others) sees only his own, through Jellyfin's filter.
  const bobApi = apiFor(jf.url, BOB, clock);
  assert.deepEqual((await bobApi.listOwn()).map((s) => s.id), ['sess-bob-tv']);
});

test('another user\'s session id is refused with a clear error and nothing is sent', async (t) => {
  const clock = virtualClock();
  const bobTv = tv(clock, { id: 'sess-bob-tv', userId: BOB.id, userName: BOB.name });
  const jf = await jellyfin([tv(clock), bobTv]);
  t.after(() => jf.stop());
  const api = apiFor(jf.url, ALICE, clock);

  // Directly: before any listing, and after one that shows the session as Bob's.
  await assert.rejects(api.seek('sess-bob-tv', 10), (e) => e.code === 'not_your_session' && /not one of yours/.test(e.message));
  await api.listOwn();
  for (const call of [() => api.seek('sess-bob-tv', 10), () => api.pause('sess-bob-tv'), () => api.unpause('sess-bob-tv'), () => api.playNow('sess-bob-tv', ITEM, 0)]) {
    await assert.rejects(call(), (e) => e.code === 'not_your_session');
  }
  // An id that does not exist at all is refused the same way.
  await assert.rejects(api.pause('no-such-session'), (e) => e.code === 'not_your_session');

  // Through a seat: the first listing shows the session is Bob's; the seat stops, sends nothing.
  const { sync, run } = driven(api, 'sess-bob-tv', clock);
  sync.setState(state(clock));
  await run(10_000);
  assert.equal(sync.sync.status, 'refused');
  assert.equal(sync.sync.error, 'not_your_session');
  assert.equal(posts(jf).length, 0, 'no command reached Jellyfin');
  assert.equal(bobTv.commands.length, 0, 'no command reached Bob\'s TV');
  // Jellyfin itself would have forwarded one (AssertCanControl checks only existence):
  const res = await fetch(`${jf.url}/Sessions/sess-bob-tv/Playing/Pause`, { method: 'POST', headers: { Authorization: `MediaBrowser Token="${ALICE.token}"` } });
  assert.equal(res.status, 204);
  assert.equal(bobTv.commands.length, 1);
});

test('a session that is signed in as someone else mid-party stops the seat at once', async (t) => {
  const clock = virtualClock();
  const dev = tv(clock);
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock);
  sync.setState(state(clock));
  await run(15_000);
  assert.ok(posts(jf).length > 0);
  dev.userId = BOB.id; // the TV now belongs to Bob's session
  const before = posts(jf).length;
  sync.setState(state(clock, { seq: 2, playing: false, position: 50, reason: 'pause' }));
  await run(20_000);
  assert.equal(sync.sync.status, 'refused');
  assert.equal(posts(jf).length - before, 0);
});

test('PlayNow carries the room\'s item and its position at the expected start, in ticks', async (t) => {
  const clock = virtualClock();
  const dev = tv(clock);
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const api = apiFor(jf.url, ALICE, clock);
  const { sync, run } = driven(api, dev.id, clock);
  const st = state(clock, { position: 100, at: clock.serverNow() - 2000 }); // playing for 2 s
  sync.setState(st);
  await run(300);
  assert.equal(dev.commands.length, 1);
  const [cmd] = dev.commands;
  const sentAt = cmd.t; // (the virtual clock stands still while a request is in flight)
  assert.equal(cmd.kind, 'PlayNow');
  assert.equal(cmd.args.itemId, ITEM);
  // Aimed at where the room will be once the TV has loaded (the first guess of load time).
  const expected = expectedPosition(st, clock.serverNow(sentAt + sync.s.initialLoadLatencyMs));
  assert.equal(cmd.args.startTicks, SessionsApi.ticks(expected));
  const post = posts(jf)[0];
  assert.equal(post.path, `/Sessions/${dev.id}/Playing`);
  assert.equal(post.query.playCommand, 'PlayNow');
  assert.equal(post.query.itemIds, ITEM);
  assert.equal(post.query.startPositionTicks, String(SessionsApi.ticks(expected)));
});

test('play, pause, seek and item change reach the device; it ends up where the room is', async (t) => {
  const clock = virtualClock();
  const dev = tv(clock, { loadMs: [2500, 3500], seekStallMs: [400, 900], reportPeriodMs: 2000 });
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock);
  let st = state(clock, { position: 100, at: clock.serverNow() + 500 });
  sync.setState(st);
  const trueErrMs = () => (dev.truePosition() - expectedPosition(st, clock.serverNow())) * 1000;

  await run(20_000);
  assert.equal(dev.trueItem(), ITEM);
  assert.ok(dev.isAdvancing());
  assert.ok(Math.abs(trueErrMs()) < within(sync), `after play: ${trueErrMs()} ms`);
  assert.ok(['in_sync', 'limited'].includes(sync.sync.status), sync.sync.status);
  assert.ok(Math.abs(sync.sync.errorMs - trueErrMs()) < 150, `estimate ${sync.sync.errorMs} vs truth ${trueErrMs()}`);

  // Pause at 130 s.
  st = state(clock, { seq: 2, playing: false, position: 130, reason: 'pause' });
  sync.setState(st);
  await run(8_000);
  assert.ok(dev.commands.some((c) => c.kind === 'Pause'));
  assert.equal(dev.isAdvancing(), false);
  assert.ok(Math.abs(dev.truePosition() - 130) <= within(sync) / 1000, `paused at ${dev.truePosition()}`);

  // Play again, scheduled 300 ms ahead.
  st = state(clock, { seq: 3, playing: true, position: 130, at: clock.serverNow() + 300, reason: 'play' });
  sync.setState(st);
  await run(10_000);
  assert.ok(dev.commands.some((c) => c.kind === 'Unpause'));
  assert.ok(dev.isAdvancing());
  assert.ok(Math.abs(trueErrMs()) < within(sync), `after resume: ${trueErrMs()} ms`);

  // The room seeks to 600 s.
  st = state(clock, { seq: 4, playing: true, position: 600, at: clock.serverNow() + 200, reason: 'seek' });
  sync.setState(st);
  await run(12_000);
  const seek = dev.commands.filter((c) => c.kind === 'Seek').at(-1);
  assert.ok(seek && Math.abs(seek.args.seekTicks / 1e7 - 600) < 5, 'a seek near 600 s reached the TV');
  assert.ok(Math.abs(trueErrMs()) < within(sync), `after seek: ${trueErrMs()} ms`);

  // The host switches to another item.
  st = state(clock, { seq: 5, media: { id: ITEM2 }, playing: true, position: 0, at: clock.serverNow() + 200, reason: 'media' });
  sync.setState(st);
  await run(15_000);
  assert.equal(dev.trueItem(), ITEM2);
  assert.ok(Math.abs(trueErrMs()) < within(sync), `after item change: ${trueErrMs()} ms`);
  // Learned from what the device did, not the first guesses.
  assert.notEqual(sync.sync.loadMs, sync.s.initialLoadLatencyMs);
  assert.notEqual(sync.sync.seekMs, sync.s.initialSeekLatencyMs);
  assert.ok(sync.sync.loadMs > 2000 && sync.sync.loadMs < 4500, `load latency ${sync.sync.loadMs}`);
});

test('in steady play, no seek is spent on errors below the threshold', async (t) => {
  const clock = virtualClock();
  const dev = tv(clock, { reportPeriodMs: 10_000, reportJitterMs: 500 });
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock);
  sync.setState(state(clock, { position: 10, at: clock.serverNow() + 300 }));
  // A report every 10 s: a few of them to load, correct and learn how corrections land.
  await run(90_000);
  const seeks = dev.commands.filter((c) => c.kind === 'Seek').length;
  await run(300_000); // five minutes
  assert.equal(dev.commands.filter((c) => c.kind === 'Seek').length, seeks, 'no seek in steady state');
  assert.ok(['in_sync', 'limited'].includes(sync.sync.status));
  assert.ok(sync.sync.reportPeriodMs > 9000 && sync.sync.reportPeriodMs < 11_000, `period ${sync.sync.reportPeriodMs}`);
});

test('a device that stops reporting is marked, and retried with backoff, not spammed', async (t) => {
  const clock = virtualClock();
  const dev = tv(clock);
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock);
  sync.setState(state(clock, { at: clock.serverNow() + 300 }));
  await run(20_000);
  assert.ok(['in_sync', 'limited'].includes(sync.sync.status));

  dev.stopResponding();
  const from = dev.commands.length;
  const t0 = clock.now();
  sync.setState(state(clock, { seq: 2, playing: false, position: 140, reason: 'pause' }));
  await run(150_000);
  assert.equal(sync.sync.status, 'not_responding');
  const sent = dev.commands.slice(from);
  assert.ok(sent.length >= 3, `retried: ${sent.length}`);
  assert.ok(sent.length <= 6, `not spammed: ${sent.length} commands in 150 s`);
  const gaps = sent.slice(1).map((c, i) => c.t - sent[i].t);
  for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] >= gaps[i - 1], `gaps grow: ${gaps.join(', ')}`);
  assert.ok(gaps.at(-1) <= sync.s.maxRetryMs + 2 * sync.s.tickMs);
  assert.ok(sent[0].t - t0 < 1000, 'the first attempt is immediate');

  // It comes back: the next attempt lands, the seat is in sync again.
  dev.resumeResponding();
  await run(70_000);
  assert.equal(dev.isAdvancing(), false);
  assert.equal(sync.sync.status, 'in_sync');
});

test('a session that disappears is marked gone and polled with backoff, never commanded', async (t) => {
  const clock = virtualClock();
  const dev = tv(clock);
  const devices = [dev];
  const jf = await jellyfin(devices);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock);
  sync.setState(state(clock, { at: clock.serverNow() + 300 }));
  await run(15_000);
  devices.length = 0; // the TV app was closed
  const posted = posts(jf).length;
  const listed = jf.log.length;
  sync.setState(state(clock, { seq: 2, position: 400, reason: 'seek' }));
  await run(120_000);
  assert.equal(sync.sync.status, 'gone');
  assert.equal(posts(jf).length, posted);
  const polls = jf.log.length - listed;
  assert.ok(polls < 15, `${polls} polls in 2 minutes (1 s polling would be 120)`);
  devices.push(dev);
  await run(40_000);
  assert.notEqual(sync.sync.status, 'gone');
});

test('a room on something that is not a Jellyfin item sends the TV nothing, and says so', async (t) => {
  const clock = virtualClock();
  const dev = tv(clock);
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const { sync, run } = driven(apiFor(jf.url, ALICE, clock), dev.id, clock);
  sync.setState(state(clock, { media: { id: 'https://example.invalid/clip.mp4' } }));
  await run(30_000);
  assert.equal(sync.sync.status, 'bad_item');
  assert.equal(posts(jf).length, 0);
  // The host switches to a Jellyfin item: the TV follows.
  sync.setState(state(clock, { seq: 2, media: { id: ITEM2 }, at: clock.serverNow() + 300 }));
  await run(15_000);
  assert.equal(dev.trueItem(), ITEM2);
});
