// @ts-check
// The queue in the client: the manager's view of it and its requests, the end of an item
// reported once by whoever may drive playback, Jellyfin's next episode looked up and queued
// by default by the host (once per item), and the notices for queue changes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Manager } from '../../src/core/manager.js';
import { parseServerMessage } from '../../src/core/protocol.js';
import { NextUp, nextEpisode } from '../../src/next-up.js';
import { queueNotice, stateNotice } from '../../src/ui/notices.js';
import { translator } from '../../src/ui/i18n.js';
import { FakeClock, FakeSocketFactory, SimPlayer } from './fakes.js';

const SERVER_OFFSET = 1_700_000_000_000;
const flush = () => new Promise((r) => setImmediate(r));
const EP1 = { id: 'ep1', title: 'Tick 1', duration: 600 };
const EP2 = { id: 'ep2', title: 'Tick 2', duration: 600 };

/** A manager in a room as `you` (host `a`), its socket, player and clock. */
async function inRoom({ you = 'a', members = [{ id: 'a', name: 'Ann' }, { id: 'b', name: 'Bob' }], queue = [] } = {}) {
  const clock = new FakeClock(1000);
  const sockets = new FakeSocketFactory();
  const player = new SimPlayer(clock, { media: EP1 });
  const m = new Manager({
    url: 'ws://server.invalid/ws', createSocket: sockets.create, now: clock.now, timers: clock.timers,
    player, credentials: async () => ({ name: 'x' }), random: () => 0.5, client: { name: 'test', version: '0' },
  });
  const queueEvents = [];
  m.on('queue', (q) => queueEvents.push(q));
  m.start();
  const s = sockets.last;
  s.open();
  await flush();
  const serverNow = () => clock.now() + SERVER_OFFSET;
  s.serverSend({ type: 'welcome', protocol: 1, session: 's', resume: 'r', user: { id: 'u', name: 'x' }, server_time: serverNow(), limits: {}, resumed: false });
  const joining = m.joinRoom('ABCDEF');
  const state = { media: EP1, playing: true, position: 590, rate: 1, at: serverNow(), seq: 3, reason: 'play', by: 'a' };
  s.serverSend({
    type: 'room', id: s.sentOfType('join_room')[0].id, code: 'ABCDEF', you, host: 'a', settings: { control: 'host', wait_for_all: true },
    state, members: members.map((x) => ({ connected: true, rights: [], ...x })), server_time: serverNow(), queue,
  });
  await joining;
  return { m, s, player, clock, queueEvents, serverNow };
}

test('the manager keeps the queue from the snapshot and every `queue` message', async () => {
  const { m, s, queueEvents } = await inRoom({ queue: [EP2] });
  assert.deepEqual(m.queue, [EP2]);
  assert.deepEqual(queueEvents.at(-1), { items: [EP2], change: 'room', by: null });
  s.serverSend({ type: 'queue', items: [EP2, EP1], change: 'add', by: 'b' });
  assert.deepEqual(m.queue.map((x) => x.id), ['ep2', 'ep1']);
  assert.deepEqual(queueEvents.at(-1), { items: [EP2, EP1], change: 'add', by: 'b' });
  // A malformed queue is refused whole by the parser: the client keeps what it had.
  assert.throws(() => parseServerMessage(JSON.stringify({ type: 'queue', items: [{ title: 'no id' }] })));
  assert.throws(() => parseServerMessage(JSON.stringify({ type: 'room', code: 'A', you: 'a', members: [], state: { playing: false, position: 0, rate: 1, at: 0, seq: 1 }, queue: 'x' })));
  m.leaveRoom();
  assert.deepEqual(m.queue, []);
  m.stop();
});

test('the host sends queue requests; a guest without the media right sends none', async () => {
  const host = await inRoom();
  host.m.queueAdd({ id: 'ep2', title: 'Tick 2', duration: 600, extra: 'dropped' });
  host.m.queueAdd(EP1, 0);
  assert.deepEqual(host.s.sentOfType('queue_add'), [
    { type: 'queue_add', media: EP2 },
    { type: 'queue_add', media: EP1, index: 0 },
  ]);
  host.s.serverSend({ type: 'queue', items: [EP1, EP2], change: 'add', by: 'a' });
  host.m.queueMove('ep2', 0);
  host.m.queueRemove('ep1');
  host.m.queueClear();
  assert.deepEqual(host.s.sentOfType('queue_move'), [{ type: 'queue_move', media_id: 'ep2', index: 0 }]);
  assert.deepEqual(host.s.sentOfType('queue_remove'), [{ type: 'queue_remove', media_id: 'ep1' }]);
  assert.equal(host.s.sentOfType('queue_clear').length, 1);
  assert.throws(() => host.m.queueMove('ep2', 5), (e) => e.code === 'bad_request');
  host.m.stop();

  const guest = await inRoom({ you: 'b' });
  for (const f of [() => guest.m.queueAdd(EP2), () => guest.m.queueRemove('x'), () => guest.m.queueClear()]) {
    assert.throws(f, (e) => e.code === 'media_right');
  }
  assert.equal(guest.s.sent.filter((x) => String(x.type).startsWith('queue_')).length, 0);
  // Granted the media right: it may.
  guest.s.serverSend({ type: 'members', host: 'a', list: [{ id: 'a', name: 'Ann' }, { id: 'b', name: 'Bob', rights: ['media'] }] });
  guest.m.queueAdd(EP2);
  assert.equal(guest.s.sentOfType('queue_add').length, 1);
  guest.m.stop();
});

test('the end of the item is reported once, by whoever may drive playback, for the room\'s item', async () => {
  const host = await inRoom();
  host.player._emit('ended');
  host.player._emit('ended');
  assert.deepEqual(host.s.sentOfType('ended'), [{ type: 'ended', media_id: 'ep1' }]);
  // The next item (a new state): its end is reported again.
  host.s.serverSend({ type: 'state', media: EP2, playing: true, position: 0, rate: 1, at: host.serverNow(), seq: 5, reason: 'play', by: null, cause: 'queue' });
  host.player.media = EP2;
  host.player._emit('ended');
  assert.deepEqual(host.s.sentOfType('ended').at(-1), { type: 'ended', media_id: 'ep2' });
  // A player on another item than the room's says nothing.
  host.s.serverSend({ type: 'state', media: EP1, playing: true, position: 0, rate: 1, at: host.serverNow(), seq: 6, reason: 'media', by: 'a' });
  host.player._emit('ended');
  assert.equal(host.s.sentOfType('ended').length, 2);
  host.m.stop();

  const guest = await inRoom({ you: 'b' });
  guest.player._emit('ended');
  assert.equal(guest.s.sentOfType('ended').length, 0, 'a guest without the playback right does not');
  guest.m.stop();
});

/** A fake Jellyfin for nextEpisode: items by id, next up per series, episode lists. */
function fakeJellyfin({ nextUp }) {
  const eps = [1, 2, 3].map((n) => ({ Id: `e${n}`, Name: `Tick ${n}`, Type: 'Episode', SeriesId: 'ser', ParentIndexNumber: 1, IndexNumber: n, RunTimeTicks: 6e9 }));
  const calls = [];
  const getJSON = async (path) => {
    calls.push(path);
    const item = path.match(/^Users\/u1\/Items\/(\w+)$/);
    if (item) return item[1] === 'film' ? { Id: 'film', Type: 'Movie' } : eps.find((e) => e.Id === item[1]);
    if (path.startsWith('Shows/NextUp?SeriesId=ser&UserId=u1')) return { Items: nextUp ? [eps.find((e) => e.Id === nextUp)] : [], TotalRecordCount: nextUp ? 1 : 0, StartIndex: 0 };
    const list = path.match(/^Shows\/ser\/Episodes\?UserId=u1&StartItemId=(\w+)&Limit=2$/);
    if (list) return { Items: eps.slice(eps.findIndex((e) => e.Id === list[1])).slice(0, 2) };
    throw new Error(`unexpected ${path}`);
  };
  return { getJSON, calls };
}

test('next episode: Jellyfin\'s next up when it comes after the current one, else the following episode', async () => {
  // E3 is next up (E1 and E2 played): watching E1 again, next up is E3 (Jellyfin's pick).
  let jf = fakeJellyfin({ nextUp: 'e3' });
  assert.deepEqual(await nextEpisode(jf.getJSON, 'u1', 'e1'), { id: 'e3', title: 'Tick 3', duration: 600 });
  assert.equal(jf.calls.length, 2, 'no episode list needed');
  // Nothing played: next up is the episode playing; the following one is taken instead.
  jf = fakeJellyfin({ nextUp: 'e1' });
  assert.deepEqual(await nextEpisode(jf.getJSON, 'u1', 'e1'), { id: 'e2', title: 'Tick 2', duration: 600 });
  // Next up before the current one (E2 started first): the following one too.
  jf = fakeJellyfin({ nextUp: 'e1' });
  assert.equal((await nextEpisode(jf.getJSON, 'u1', 'e2'))?.id, 'e3');
  // The last episode, and a film: nothing.
  assert.equal(await nextEpisode(fakeJellyfin({ nextUp: null }).getJSON, 'u1', 'e3'), null);
  jf = fakeJellyfin({ nextUp: null });
  assert.equal(await nextEpisode(jf.getJSON, 'u1', 'film'), null);
  assert.equal(jf.calls.length, 1, 'a film asks for nothing more');
});

test('next up: the host queues it by default once per item; removed, it is only offered', async () => {
  const host = await inRoom();
  const lookups = [];
  const nu = new NextUp({ manager: host.m, lookup: async (id) => { lookups.push(id); return id === 'ep1' ? EP2 : null; } });
  await flush();
  assert.deepEqual(lookups, ['ep1']);
  assert.deepEqual(nu.suggestion, EP2);
  assert.deepEqual(host.s.sentOfType('queue_add'), [{ type: 'queue_add', media: EP2 }]);
  host.s.serverSend({ type: 'queue', items: [EP2], change: 'add', by: 'a' });
  // The host removes it: not queued again for this item (the panel still offers it).
  host.s.serverSend({ type: 'queue', items: [], change: 'remove', by: 'a' });
  await flush();
  assert.equal(host.s.sentOfType('queue_add').length, 1);
  assert.deepEqual(nu.suggestion, EP2);
  assert.deepEqual(lookups, ['ep1'], 'looked up once per item');
  nu.destroy();
  host.m.stop();

  // With something queued already, nothing is added; a guest never adds.
  const busy = await inRoom({ queue: [EP1] });
  const nb = new NextUp({ manager: busy.m, lookup: async () => EP2 });
  await flush();
  assert.equal(busy.s.sentOfType('queue_add').length, 0);
  nb.destroy();
  busy.m.stop();
  const guest = await inRoom({ you: 'b', members: [{ id: 'a', name: 'Ann' }, { id: 'b', name: 'Bob', rights: ['media'] }] });
  const ng = new NextUp({ manager: guest.m, lookup: async () => EP2 });
  await flush();
  assert.deepEqual(ng.suggestion, EP2, 'offered to a member with the media right');
  assert.equal(guest.s.sentOfType('queue_add').length, 0, 'but only the host queues it by default');
  ng.destroy();
  guest.m.stop();
});

test('notices: "Next: …" when the queue moves on, and who changed the queue (en, fr)', () => {
  const room = { you: 'a', members: [{ id: 'a', name: 'Ann' }, { id: 'b', name: 'Bob' }] };
  const en = translator('en');
  const fr = translator('fr');
  const next = { media: EP2, playing: false, position: 0, rate: 1, at: 0, seq: 9, reason: 'media', by: null, cause: 'queue' };
  assert.equal(stateNotice(null, next, room, en)?.text, 'Next: Tick 2');
  assert.equal(stateNotice(null, next, room, fr)?.text, 'À suivre : Tick 2');
  assert.equal(queueNotice([], { items: [EP2], change: 'add', by: 'b' }, room, en)?.text, 'Bob queued Tick 2');
  assert.equal(queueNotice([EP1, EP2], { items: [EP1], change: 'remove', by: 'b' }, room, fr)?.text, 'Bob a retiré Tick 2 de la file');
  assert.equal(queueNotice([EP1, EP2], { items: [EP2, EP1], change: 'move', by: 'b' }, room, en)?.text, 'Bob reordered the queue');
  assert.equal(queueNotice([EP1], { items: [], change: 'clear', by: 'b' }, room, en)?.text, 'Bob cleared the queue');
  assert.equal(queueNotice([], { items: [EP2], change: 'add', by: 'a' }, room, en), null, 'one\'s own change');
  assert.equal(queueNotice([EP2], { items: [], change: 'next', by: null }, room, en), null, 'the state says it');
});
