// A remote seat as a party member (protocol v1 over a fake socket, virtual clock, a TV behind
// Jellyfin's session endpoints over real HTTP), and the "Watch on…" controller the panel uses.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteSeat } from '../../src/remote/seat.js';
import { RemoteSeats, remoteSeatsFor } from '../../src/remote/remote-seats.js';
import { makeRemoteSettings } from '../../src/remote/settings.js';
import { Manager } from '../../src/core/manager.js';
import { FakeClock, FakeSocketFactory, SimPlayer } from './fakes.js';
import { ALICE, BOB, ITEM, apiFor, jellyfin, tv } from './remote-helpers.js';

const OFFSET = 1_700_000_000_000;
const flush = () => new Promise((r) => setImmediate(r));

async function setup(t) {
  const clock = new FakeClock(1000);
  const vclock = { now: () => clock.now() + OFFSET, serverNow: (l) => l };
  const dev = tv(/** @type {any} */ ({ now: vclock.now }), { now: vclock.now });
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  const api = apiFor(jf.url, ALICE, vclock);
  await api.listOwn();
  const sockets = new FakeSocketFactory();
  const seat = new RemoteSeat({
    url: 'ws://server.invalid/ws', createSocket: sockets.create, now: clock.now, timers: clock.timers,
    credentials: async () => ({ token: 'jwt-of-alice' }), api, sessionId: dev.id, code: 'ABCDEF', name: 'alice — Living room TV', device: 'Living room TV',
    random: () => 0.5, remoteSettings: makeRemoteSettings({}),
  });
  return { clock, sockets, seat, dev, jf };
}

const state = (o = {}) => ({ media: { id: ITEM }, playing: false, position: 0, rate: 1, at: 0, seq: 1, reason: 'pause', by: null, ...o });

test('a remote seat joins the member\'s room with the member\'s own token and reports its TV', async (t) => {
  const { clock, sockets, seat } = await setup(t);
  seat.start();
  const s = sockets.last;
  s.open();
  await flush();
  const hello = s.sent[0];
  assert.equal(hello.type, 'hello');
  assert.equal(hello.token, 'jwt-of-alice');
  assert.equal(hello.device, 'Living room TV', 'the server names the seat after the user and the TV');
  s.serverSend({ type: 'welcome', protocol: 1, session: 's', resume: 'r', user: { id: 'u', name: 'alice' }, server_time: clock.now(), limits: {}, resumed: false });
  assert.deepEqual(s.sentOfType('join_room'), [{ type: 'join_room', code: 'ABCDEF' }]);
  s.serverSend({ type: 'room', code: 'ABCDEF', you: 'tv1', host: 'a', settings: {}, state: state(), members: [{ id: 'a', name: 'alice', user_id: 'u' }, { id: 'tv1', name: 'alice', user_id: 'u' }] });
  assert.equal(seat.memberId, 'tv1');
  clock.advance(1200);
  const status = s.sentOfType('status');
  assert.ok(status.length >= 2, 'status reports');
  assert.equal(status[0].buffering, false, 'a remote seat never holds the room');
  assert.ok(!('seek_ms' in status[0]), 'nor stretches its seek lead');
  // Intents are never sent by a seat.
  assert.equal(s.sent.filter((m) => ['play', 'pause', 'seek', 'set_media'].includes(m.type)).length, 0);
  seat.stop();
  assert.equal(s.sentOfType('leave_room').length, 1);
});

test('a seat made host hands the role on at once, to the same user first', async (t) => {
  const { clock, sockets, seat } = await setup(t);
  seat.start();
  const s = sockets.last;
  s.open();
  await flush();
  s.serverSend({ type: 'welcome', protocol: 1, session: 's', resume: 'r', user: { id: 'u', name: 'alice' }, server_time: clock.now(), limits: {}, resumed: false });
  s.serverSend({ type: 'room', code: 'ABCDEF', you: 'tv1', host: 'b', settings: {}, state: state(), members: [] });
  s.serverSend({ type: 'members', host: 'tv1', list: [
    { id: 'b', name: 'bob', user_id: 'ub', connected: true },
    { id: 'a', name: 'alice', user_id: 'u', connected: true },
    { id: 'tv1', name: 'alice', user_id: 'u', connected: true },
  ] });
  assert.deepEqual(s.sentOfType('transfer_host'), [{ type: 'transfer_host', member_id: 'a' }]);
  seat.stop();
});

test('"Watch on…" runs one seat in the member\'s room and stops it when the member leaves', async () => {
  const clock = new FakeClock(1000);
  const sockets = new FakeSocketFactory();
  const m = new Manager({
    url: 'ws://server.invalid/ws', createSocket: sockets.create, now: clock.now, timers: clock.timers,
    player: new SimPlayer(clock), credentials: async () => ({ name: 'alice' }), random: () => 0.5,
  });
  const made = [];
  const fakeSeat = (o) => {
    const seat = { ...o, started: false, stopped: false, memberId: 'tv1', sync: { status: 'in_sync', errorMs: 120 },
      on: () => () => {}, start() { this.started = true; }, stop() { this.stopped = true; } };
    made.push(seat);
    return /** @type {any} */ (seat);
  };
  const api = /** @type {any} */ ({ listOwn: async () => [{ id: 'sess-tv', deviceName: 'Living room TV', client: 'Jellyfin Android TV' }] });
  const remote = new RemoteSeats({ manager: m, api, makeSeat: fakeSeat });
  const [target] = await remote.listTargets();
  assert.throws(() => remote.watchOn(target), /room first/);
  m.start();
  sockets.last.open();
  await flush();
  sockets.last.serverSend({ type: 'welcome', protocol: 1, session: 's', resume: 'r', user: { id: 'u', name: 'alice' }, server_time: clock.now(), limits: {}, resumed: false });
  sockets.last.serverSend({ type: 'room', code: 'ABCDEF', you: 'a', host: 'a', settings: {}, state: state(), members: [] });
  remote.watchOn(target);
  assert.equal(made.length, 1);
  assert.deepEqual([made[0].sessionId, made[0].code, made[0].name, made[0].started], ['sess-tv', 'ABCDEF', 'alice — Living room TV', true]);
  assert.deepEqual(remote.describe('tv1'), { label: 'Living room TV', status: 'in_sync', errorMs: 120, limitMs: null });
  assert.equal(remote.describe('a'), null);
  // A second choice replaces the first.
  remote.watchOn(target);
  assert.equal(made[0].stopped, true);
  assert.equal(made.length, 2);
  m.leaveRoom();
  assert.equal(made[1].stopped, true);
  assert.equal(remote.seat, null);
  m.stop();
});

test('inside jellyfin-web, "Watch on…" reads who is signed in when it lists, not when the page started', async (t) => {
  // Genuine jellyfin-web 10.11.11 signs its ApiClient in after Matinee has started on an
  // invite link or a reload: getCurrentUserId() and accessToken() are null at first.
  const clock = new FakeClock(1000);
  const dev = tv(/** @type {any} */ ({ now: () => Date.now() }), { now: () => Date.now() });
  const jf = await jellyfin([dev]);
  t.after(() => jf.stop());
  let user = /** @type {{id: string, token: string}|null} */ (null);
  const apiClient = {
    serverAddress: () => jf.url,
    getCurrentUserId: () => user?.id ?? null,
    accessToken: () => user?.token ?? null,
    appName: () => 'Jellyfin Web', deviceName: () => 'Chrome', deviceId: () => 'browser-1', appVersion: () => '10.11.11',
  };
  const m = new Manager({
    url: 'ws://server.invalid/ws', createSocket: new FakeSocketFactory().create, now: clock.now, timers: clock.timers,
    player: new SimPlayer(clock), credentials: async () => ({ name: 'alice' }), random: () => 0.5,
  });
  const remote = remoteSeatsFor({ manager: m, apiClient, version: '1' });
  assert.ok(remote, 'offered while jellyfin-web is still signing in');
  await assert.rejects(remote.listTargets(), (e) => /** @type {any} */ (e).code === 'remote_signed_out');
  user = ALICE;
  assert.deepEqual((await remote.listTargets()).map((x) => x.deviceName), ['Living room TV']);
  // Signed in as someone else: that user's devices (Bob has none), never Alice's.
  user = BOB;
  assert.deepEqual(await remote.listTargets(), []);
  assert.equal(remoteSeatsFor({ manager: m, apiClient: {}, version: '1' }), null, 'no ApiClient, no "Watch on…"');
});
