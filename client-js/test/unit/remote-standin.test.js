// Remote seats against the Jellyfin stand-in (testdata/jellyfin-standin: real HTTP on
// loopback, Jellyfin's session endpoints and shapes) with simulated TV sessions plugged into
// its Sessions module, in real time with a fast device and short waits. The virtual-clock
// tests (remote-seat.test.js, remote-sync.test.js) cover the long timelines; these prove
// the same behaviour end to end through the stand-in.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { startStandin } from '../../../testdata/jellyfin-standin/server.js';
import { addRemoteSession } from '../../../testdata/jellyfin-standin/lib/remote-sessions.js';
import { expectedPosition } from '../../src/core/protocol.js';
import { SessionsApi } from '../../src/remote/sessions-api.js';
import { RemoteSync } from '../../src/remote/remote-sync.js';
import { makeRemoteSettings } from '../../src/remote/settings.js';
import { within } from './remote-helpers.js';

const AUTH = (device) => `MediaBrowser Client="Jellyfin Web", Device="Chrome", DeviceId="browser-${device}", Version="10.11.11"`;
const now = () => performance.timeOrigin + performance.now();
// The session server's clock is this machine's; the room formula runs on it.
const clock = { now, serverNow: (local = now()) => local, localFromServer: (t) => t };
const timers = { setTimeout, clearTimeout, setInterval, clearInterval };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** @param {() => boolean} pred @param {string} what */
async function until(pred, what, ms = 30_000) {
  const end = now() + ms;
  while (!pred()) {
    if (now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// Everything scaled down ~10× from the defaults, so a test takes seconds.
const FAST = makeRemoteSettings({
  pollMs: 200, fastPollMs: 50, fastPollForMs: 1500, ackTimeoutMs: 600, maxRetryMs: 2400,
  seekCooldownMs: 800, maxSeekBackoffMs: 4000, staleReportMs: 3000, pollBackoffMs: 200, maxPollBackoffMs: 1000,
  initialSeekLatencyMs: 300, initialLoadLatencyMs: 600,
});
const DEVICE = { commandLatencyMs: [15, 40], loadMs: [400, 700], seekStallMs: [100, 250], unpauseMs: [20, 60], reportPeriodMs: 400, reportJitterMs: 50, reportDelayMs: [1, 5] };

async function login(jf, name, password, device) {
  const r = await fetch(`${jf.url}/Users/AuthenticateByName`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: AUTH(device) }, body: JSON.stringify({ Username: name, Pw: password }),
  });
  assert.equal(r.status, 200);
  return r.json();
}

async function setup(t) {
  const jf = await startStandin({ quiet: true, matinee: null });
  t.after(() => jf.stop());
  const bob = await login(jf, 'Bob', 'bob-pw', 'bob');
  const ann = await login(jf, 'Ann', 'ann-pw', 'ann');
  const bobTv = addRemoteSession(jf.sessions, { user: jf.user('Bob'), deviceName: 'Living room TV', ...DEVICE });
  const annTv = addRemoteSession(jf.sessions, { user: jf.user('Ann'), deviceName: 'Ann\'s TV', ...DEVICE });
  t.after(() => { bobTv.stop(); annTv.stop(); });
  /** Every remote command the stand-in forwarded: [session id, data]. */
  const commands = [];
  jf.sessions.on('command', (s, data) => commands.push([s.id, data]));
  const api = (auth, device) => new SessionsApi({
    baseUrl: jf.url, userId: auth.User.Id, token: () => auth.AccessToken, now,
    client: { name: 'Jellyfin Web', device: 'Chrome', deviceId: `browser-${device}`, version: '10.11.11' },
  });
  return { jf, bob, ann, bobTv, annTv, commands, bobApi: api(bob, 'bob'), annApi: api(ann, 'ann') };
}

function seat(api, sessionId, t) {
  const sync = new RemoteSync({ api, sessionId, clock, timers, settings: FAST });
  sync.start();
  t.after(() => sync.stop());
  return sync;
}

const room = (o = {}) => ({ media: null, playing: true, position: 100, rate: 1, at: clock.serverNow() + 300, seq: 1, reason: 'play', by: null, ...o });

test('stand-in: only the user\'s own sessions are listed, even for an admin Jellyfin shows more', async (t) => {
  const { jf, bob, ann, bobTv, annTv, bobApi, annApi } = await setup(t);
  // Ann is an administrator: Jellyfin gives her Bob's TV and Bob's browser too.
  const raw = await (await fetch(`${jf.url}/Sessions?controllableByUserId=${ann.User.Id}`, { headers: { Authorization: `${AUTH('ann')}, Token="${ann.AccessToken}"` } })).json();
  assert.ok(raw.some((s) => s.Id === bobTv.session.id), 'Jellyfin lists Bob\'s TV to Ann');
  assert.deepEqual((await annApi.listOwn()).map((s) => s.id), [annTv.session.id]);
  const own = await bobApi.listOwn();
  assert.deepEqual(own.map((s) => s.id), [bobTv.session.id]);
  assert.equal(own[0].deviceName, 'Living room TV');
  assert.equal(own[0].client, 'Jellyfin Android TV');
  // Bob's own browser session is not a target (it is where the seat runs).
  assert.ok(!own.some((s) => s.id === bob.SessionInfo.Id));
});

test('stand-in: another user\'s session id is refused with a clear error, nothing sent', async (t) => {
  const { ann, annTv, bobApi, commands } = await setup(t);
  await assert.rejects(bobApi.pause(annTv.session.id), (e) => e.code === 'not_your_session' && /not one of yours/.test(e.message));
  const sync = seat(bobApi, annTv.session.id, t);
  sync.setState(room({ media: { id: 'f'.repeat(32) } }));
  await until(() => sync.sync.status === 'refused', 'the seat to refuse');
  await sleep(500);
  assert.equal(commands.length, 0, 'the stand-in forwarded nothing');
  assert.equal(annTv.device.commands.length, 0);
  assert.ok(ann); // (Ann's TV stays untouched)
});

test('stand-in: PlayNow at the right ticks; pause, seek and item change reach the TV', async (t) => {
  const { jf, bobTv, bobApi, commands } = await setup(t);
  const clockItem = jf.item('The Clock');
  const returns = jf.item('The Clock Returns');
  /** @type {{seconds: number, at: number}[]} */
  const plays = [];
  const playNow = bobApi.playNow.bind(bobApi);
  bobApi.playNow = (id, item, seconds) => { plays.push({ seconds, at: now() }); return playNow(id, item, seconds); };
  // The seat decides only once it has a listing: the first one's arrival is a lower bound of
  // the instant it aimed from (and the PlayNow call an upper one), however the machine
  // schedules the test (a busy machine may stall anywhere between two clock readings).
  let firstListing = null;
  const snapshot = bobApi.snapshot.bind(bobApi);
  bobApi.snapshot = (id) => snapshot(id).then((r) => { firstListing ??= now(); return r; });
  const sync = seat(bobApi, bobTv.session.id, t);
  let st = room({ media: { id: clockItem.id }, position: 10, at: clock.serverNow() - 1000 });
  sync.setState(st);
  const err = () => (bobTv.device.truePosition() - expectedPosition(st, clock.serverNow())) * 1000;

  await until(() => commands.some(([, d]) => d.PlayCommand === 'PlayNow'), 'PlayNow');
  const [, play] = commands.find(([, d]) => d.PlayCommand === 'PlayNow');
  assert.deepEqual(play.ItemIds, [clockItem.id]);
  assert.equal(play.StartPositionTicks, SessionsApi.ticks(plays[0].seconds));
  // Aimed where the room will be once the TV has loaded (the first guess of load latency),
  // from an instant between the first listing and the call.
  const aim = (local) => expectedPosition(st, clock.serverNow(local + FAST.initialLoadLatencyMs));
  const [lo, hi] = [aim(/** @type {number} */ (firstListing)) - 0.001, aim(plays[0].at) + 0.001];
  assert.ok(plays[0].seconds >= lo && plays[0].seconds <= hi, `${plays[0].seconds} not in [${lo}, ${hi}]`);
  await until(() => ['in_sync', 'limited'].includes(sync.sync.status) && bobTv.device.isAdvancing(), 'playing in sync');
  // (Plus how precisely the seat can place a report in time: its poll round trips bound
  // that, and a busy machine lengthens them.)
  assert.ok(Math.abs(err()) < within(sync) + (sync.sync.reportDelayMs ?? 0), `after start: ${err()} ms`);
  // The stand-in shows what the TV reported.
  const listed = (await bobApi.snapshot(bobTv.session.id)).session;
  assert.equal(listed?.itemId, clockItem.id);

  st = room({ media: { id: clockItem.id }, seq: 2, playing: false, position: 20, reason: 'pause' });
  sync.setState(st);
  await until(() => !bobTv.device.isAdvancing() && Math.abs(bobTv.device.truePosition() - 20) < 0.5 && sync.sync.status === 'in_sync', 'paused at 20 s');
  assert.ok(commands.some(([, d]) => d.Command === 'Pause'));

  st = room({ media: { id: clockItem.id }, seq: 3, position: 45, reason: 'seek' });
  sync.setState(st);
  await until(() => bobTv.device.isAdvancing() && Math.abs(err()) < within(sync) && ['in_sync', 'limited'].includes(sync.sync.status), 'playing again at 45 s');
  assert.ok(commands.some(([, d]) => d.Command === 'Seek' && Math.abs(d.SeekPositionTicks / 1e7 - 45) < 2));
  assert.ok(commands.some(([, d]) => d.Command === 'Unpause'));

  st = room({ media: { id: returns.id }, seq: 4, position: 5, reason: 'media' });
  sync.setState(st);
  await until(() => bobTv.device.trueItem() === returns.id && Math.abs(err()) < within(sync) && ['in_sync', 'limited'].includes(sync.sync.status), 'the other film, in sync');
  assert.ok(commands.filter(([, d]) => d.PlayCommand === 'PlayNow').length >= 2);
});

test('stand-in: a listing shows a TV\'s report stamped when it arrived, even after the event loop stalled', async (t) => {
  const { jf, bobTv } = await setup(t);
  const dev = bobTv.device;
  dev.localPlay(jf.item('The Clock').id, 10);
  // Busy for longer than the TV's report period: its reports arrive meanwhile, and no timer
  // of the stand-in runs. A listing right after must show the latest of them, stamped with
  // the instant it arrived (not when a timer got round to it: that would be a report lag
  // the model never had, and a seat measured against the truth would fail by luck).
  const end = now() + 2.5 * DEVICE.reportPeriodMs;
  while (now() < end) { /* stall */ }
  const [listed] = jf.sessions.list({ userId: jf.user('Bob').id }).filter((x) => x.id === bobTv.session.id).map((x) => jf.sessions.dto(x));
  dev.truePosition(); // the model up to now
  const checkIn = Date.parse(listed.LastPlaybackCheckIn);
  assert.ok(dev.heldAt !== null && dev.heldAt > end - 2 * DEVICE.reportPeriodMs, 'a report arrived during the stall');
  assert.ok(Math.abs(checkIn - /** @type {number} */ (dev.heldAt)) < 1.5, `check-in ${checkIn} vs arrival ${dev.heldAt}`);
  assert.equal(listed.PlayState.PositionTicks, dev.held.positionTicks);
});

test('stand-in: a TV that stops reporting is marked and retried with backoff, not spammed', async (t) => {
  const { jf, bobTv, bobApi, commands } = await setup(t);
  const sync = seat(bobApi, bobTv.session.id, t);
  sync.setState(room({ media: { id: jf.item('The Clock').id }, position: 10 }));
  await until(() => ['in_sync', 'limited'].includes(sync.sync.status) && bobTv.device.isAdvancing(), 'in sync');
  bobTv.device.stopResponding();
  const from = commands.length;
  const t0 = now();
  sync.setState(room({ media: { id: jf.item('The Clock').id }, seq: 2, playing: false, position: 30, reason: 'pause' }));
  await until(() => sync.sync.status === 'not_responding', 'not responding', 3000);
  await sleep(9000 - (now() - t0));
  const mine = commands.slice(from).filter(([id]) => id === bobTv.session.id);
  const sent = mine.filter(([, d]) => d.Name !== 'SetRepeatMode');
  // ack 600 ms, doubling to 2.4 s: 0, 0.6, 1.8, 4.2, 6.6, 9.0 s → at most 6 in 9 s (every
  // 100 ms tick would be 90).
  assert.ok(sent.length >= 3 && sent.length <= 6, `${sent.length} commands in 9 s`);
  // Asked to report a few times at most: it does not answer.
  assert.ok(mine.length - sent.length <= 3, `${mine.length - sent.length} report requests in 9 s`);
  assert.equal(sync.sync.status, 'not_responding');
  bobTv.device.resumeResponding();
  await until(() => sync.sync.status === 'in_sync' && !bobTv.device.isAdvancing(), 'back and paused', 6000);
});
