// @ts-check
import test from 'node:test';
import assert from 'node:assert/strict';
import { Manager, MatineeError } from '../../src/core/manager.js';
import { Connection } from '../../src/core/connection.js';
import { DEFAULT_SETTINGS } from '../../src/core/settings.js';
import { FakeClock, FakeSocketFactory, SimPlayer } from './fakes.js';

const SERVER_OFFSET = 1_700_000_000_000;
const flush = () => new Promise((r) => setImmediate(r));

function setup({ name = 'Ann' } = {}) {
  const clock = new FakeClock(1000);
  const sockets = new FakeSocketFactory();
  const player = new SimPlayer(clock);
  const m = new Manager({
    url: 'ws://server.invalid/ws', createSocket: sockets.create, now: clock.now, timers: clock.timers,
    player, credentials: async () => ({ name }), random: () => 0.5, client: { name: 'test', version: '0' },
  });
  const events = [];
  for (const e of ['connection', 'room', 'state', 'members', 'chat', 'left', 'error', 'notice']) {
    m.on(e, (...a) => events.push([e, ...a]));
  }
  const serverNow = () => clock.now() + SERVER_OFFSET;
  const welcome = (s, extra = {}) => s.serverSend({
    type: 'welcome', protocol: 1, session: 's1', resume: 'secret-1', user: { id: 'u', name }, server_time: serverNow(), limits: {}, resumed: false, ...extra,
  });
  const state = (o = {}) => ({ media: { id: 'm1' }, playing: false, position: 0, rate: 1, at: serverNow(), seq: 1, reason: 'pause', by: null, ...o });
  const roomMsg = (o = {}) => ({
    type: 'room', code: 'ABCDEF', you: 'a', host: 'a', settings: { control: 'host', wait_for_all: true },
    state: state(), members: [{ id: 'a', name, user_id: 'u', rtt_ms: 1, error_ms: 0, buffering: false, connected: true }],
    server_time: serverNow(), ...o,
  });
  return { clock, sockets, player, m, events, welcome, state, roomMsg, serverNow };
}

async function connected(ctx) {
  ctx.m.start();
  const s = ctx.sockets.last;
  s.open();
  await flush();
  ctx.welcome(s);
  return s;
}

test('hello is the first frame; welcome opens; pings burst', async () => {
  const ctx = setup();
  const s = await connected(ctx);
  assert.deepEqual(s.sent[0], { type: 'hello', protocol: 1, name: 'Ann', client: { name: 'test', version: '0' } });
  assert.equal(ctx.m.connection.status, 'open');
  ctx.clock.advance(450);
  assert.ok(s.sentOfType('ping').length >= 5);
  ctx.m.stop();
});

test('create and join resolve on the reply carrying their id; errors reject with the code', async () => {
  const ctx = setup();
  const s = await connected(ctx);
  const created = ctx.m.createRoom();
  const req = s.sentOfType('create_room')[0];
  assert.deepEqual(req.media, { id: 'm1' }, 'media defaults to the player\'s');
  s.serverSend({ ...ctx.roomMsg(), id: req.id });
  const room = await created;
  assert.equal(room.code, 'ABCDEF');
  assert.equal(ctx.m.isHost, true);

  ctx.m.leaveRoom();
  assert.equal(s.sentOfType('leave_room').length, 1);
  await assert.rejects(ctx.m.joinRoom('no!'), (e) => e instanceof MatineeError && e.code === 'invalid_code');
  assert.equal(s.sentOfType('join_room').length, 0, 'garbage is not sent');
  const joining = ctx.m.joinRoom(' xyz-abc ');
  const jr = s.sentOfType('join_room')[0];
  assert.equal(jr.code, 'XYZABC');
  s.serverSend({ type: 'error', code: 'room_not_found', message: 'no such room', id: jr.id });
  await assert.rejects(joining, (e) => e.code === 'room_not_found');
  assert.equal(ctx.m.room, null);
  ctx.m.stop();
});

test('reconnect: jittered backoff, then hello{resume} gets the same room back without rejoining', async () => {
  const ctx = setup();
  const s1 = await connected(ctx);
  const created = ctx.m.createRoom();
  s1.serverSend({ ...ctx.roomMsg(), id: s1.sentOfType('create_room')[0].id });
  await created;
  ctx.clock.advance(1000);

  s1.drop(1006);
  assert.equal(ctx.m.connection.status, 'reconnecting');
  assert.equal(ctx.sockets.sockets.length, 1);
  // Backoff: base 500 ms with jitter 0.5 and random() = 0.5 → 375 ms.
  ctx.clock.advance(374);
  assert.equal(ctx.sockets.sockets.length, 1);
  ctx.clock.advance(2);
  assert.equal(ctx.sockets.sockets.length, 2);
  const s2 = ctx.sockets.last;
  // An intent while reconnecting is queued (bounded) and delivered after welcome.
  ctx.m.pause();
  s2.open();
  await flush();
  assert.equal(s2.sent[0].type, 'hello');
  assert.equal(s2.sent[0].resume, 'secret-1');
  ctx.welcome(s2, { resumed: true, resume: 'secret-2' });
  s2.serverSend(ctx.roomMsg({ state: ctx.state({ seq: 3, position: 12 }) }));
  assert.equal(ctx.m.room.code, 'ABCDEF');
  assert.equal(ctx.m.core.lastSeq, 3);
  assert.equal(s2.sentOfType('join_room').length, 0);
  assert.equal(s2.sentOfType('pause').length, 1, 'queued intent delivered');
  assert.equal(ctx.m.connection.resumeToken, 'secret-2');
  ctx.clock.advance(450);
  assert.ok(s2.sentOfType('ping').length >= 5, 'burst again after a reconnect');
  ctx.m.stop();
});

test('reconnect after the seat expired: rejoins the room by its code', async () => {
  const ctx = setup();
  const s1 = await connected(ctx);
  const created = ctx.m.createRoom();
  s1.serverSend({ ...ctx.roomMsg(), id: s1.sentOfType('create_room')[0].id });
  await created;
  s1.drop(1006);
  ctx.clock.advance(400);
  const s2 = ctx.sockets.last;
  s2.open();
  await flush();
  ctx.welcome(s2, { resumed: false });
  const jr = s2.sentOfType('join_room');
  assert.equal(jr.length, 1);
  assert.equal(jr[0].code, 'ABCDEF');
  ctx.m.stop();
});

test('backoff doubles per failure up to the cap, with jitter', () => {
  const timers = new FakeClock().timers;
  for (const r of [0, 0.999]) {
    const c = new Connection({ url: 'x', createSocket: () => ({}), timers, random: () => r, credentials: async () => ({}) });
    const d = [0, 1, 2, 3, 10].map((n) => c.backoffMs(n));
    const full = [500, 1000, 2000, 4000, DEFAULT_SETTINGS.reconnectMaxMs];
    d.forEach((x, i) => {
      assert.ok(x <= full[i] + 1e-9 && x >= full[i] * 0.5 - 1e-9, `${i}: ${x}`);
    });
  }
});

test('a guest\'s intent in a host-controlled room is not sent; the player is put back', async () => {
  const ctx = setup({ name: 'Bob' });
  const s = await connected(ctx);
  const joining = ctx.m.joinRoom('ABCDEF');
  s.serverSend({ ...ctx.roomMsg({ you: 'b', host: 'a', state: ctx.state({ playing: false, position: 5 }) }), id: s.sentOfType('join_room')[0].id });
  await joining;
  ctx.clock.advance(300);
  assert.equal(ctx.player.paused, true);
  ctx.player.userPlay();
  assert.equal(s.sentOfType('play').length, 0);
  assert.ok(ctx.events.some(([e, err]) => e === 'notice' && err.code === 'host_only'));
  ctx.clock.advance(200);
  assert.equal(ctx.player.paused, true, 'the core paused it again');
  ctx.m.stop();
});

test('the host\'s click is an intent: sent, but the player waits for the state', async () => {
  const ctx = setup();
  const s = await connected(ctx);
  const created = ctx.m.createRoom();
  s.serverSend({ ...ctx.roomMsg({ state: ctx.state({ position: 7 }) }), id: s.sentOfType('create_room')[0].id });
  await created;
  ctx.clock.advance(200);
  ctx.m.play();
  assert.deepEqual(s.sentOfType('play')[0], { type: 'play', position: 7 });
  ctx.clock.advance(200);
  assert.equal(ctx.player.paused, true, 'nothing happens before the state');
  s.serverSend({ type: 'state', ...ctx.state({ seq: 2, playing: true, position: 7, at: ctx.serverNow() + 100, reason: 'play', by: 'a' }) });
  ctx.clock.advance(300);
  assert.equal(ctx.player.paused, false);
  // A stale state (seq 2 again, or older) changes nothing.
  s.serverSend({ type: 'state', ...ctx.state({ seq: 2, playing: false, position: 1 }) });
  s.serverSend({ type: 'state', ...ctx.state({ seq: 1, playing: false, position: 1 }) });
  ctx.clock.advance(300);
  assert.equal(ctx.player.paused, false);
  assert.equal(ctx.m.room.state.seq, 2);
  ctx.m.stop();
});

test('the host\'s seek then play on the player reach the server as seek, then play from the seek\'s position', async () => {
  // Genuine jellyfin-web 10.11: the host paused, then `v.currentTime = 60; v.play()`. The play
  // used to carry the room's old position (the seek's answer not back yet): the server then
  // played the room from 30.6 and the host's seek was lost.
  const ctx = setup();
  ctx.player.seekLatencyMs = 30;
  ctx.player.eventLagMs = 1;
  const s = await connected(ctx);
  const created = ctx.m.createRoom();
  s.serverSend({ ...ctx.roomMsg({ state: ctx.state({ position: 30.6 }) }), id: s.sentOfType('create_room')[0].id });
  await created;
  ctx.clock.advance(300);
  ctx.player.userSeekAndPlay(60);
  ctx.clock.advance(10);
  const intents = s.sent.filter((m) => m.type === 'seek' || m.type === 'play');
  assert.deepEqual(intents, [{ type: 'seek', position: 60 }, { type: 'play', position: 60 }]);
  ctx.m.stop();
});

test('status reports go out at most twice a second and carry rtt/offset/error', async () => {
  const ctx = setup();
  const s = await connected(ctx);
  const created = ctx.m.createRoom();
  s.serverSend({ ...ctx.roomMsg(), id: s.sentOfType('create_room')[0].id });
  await created;
  // Answer pings like a server 3 ms away.
  const answered = new Set();
  for (let i = 0; i < 100; i++) {
    ctx.clock.advance(100);
    for (const p of s.sentOfType('ping')) {
      if (answered.has(p.t0)) continue;
      answered.add(p.t0);
      const t1 = p.t0 + 1.5 + SERVER_OFFSET;
      s.serverSend({ type: 'pong', t0: p.t0, t1, t2: t1 });
    }
  }
  const statuses = s.sentOfType('status');
  assert.ok(statuses.length >= 15 && statuses.length <= 20, `${statuses.length} in 10 s`);
  const last = statuses[statuses.length - 1];
  for (const k of ['position', 'playing', 'buffering', 'rtt_ms', 'offset_ms', 'error_ms']) assert.ok(k in last, k);
  assert.equal(typeof last.offset_ms, 'number');
  ctx.m.stop();
});

test('a bad frame from the server is ignored and changes nothing', async () => {
  const ctx = setup();
  const s = await connected(ctx);
  s.onmessage({ data: 'not json' });
  s.onmessage({ data: '{"type":"state","playing":"yes"}' });
  s.onmessage({ data: '{"no":"type"}' });
  assert.equal(ctx.m.connection.status, 'open');
  assert.equal(ctx.m.room, null);
  ctx.m.stop();
});

test('kicked: the room is gone and the UI is told why', async () => {
  const ctx = setup();
  const s = await connected(ctx);
  const created = ctx.m.createRoom();
  s.serverSend({ ...ctx.roomMsg(), id: s.sentOfType('create_room')[0].id });
  await created;
  s.serverSend({ type: 'left', reason: 'kicked' });
  assert.equal(ctx.m.room, null);
  assert.ok(ctx.events.some(([e, r]) => e === 'left' && r === 'kicked'));
  ctx.m.stop();
});

test('hello answered `unavailable` (Jellyfin down) keeps retrying with backoff and keeps the seat; `unauthorized` gives up', async () => {
  const ctx = setup();
  const s1 = await connected(ctx);
  const created = ctx.m.createRoom();
  s1.serverSend({ ...ctx.roomMsg(), id: s1.sentOfType('create_room')[0].id });
  await created;
  s1.drop(1006);
  let fatal = 0;
  ctx.m.connection.on('fatal', () => { fatal += 1; });
  // Five refusals in a row while the server cannot reach Jellyfin.
  for (let i = 0; i < 5; i++) {
    ctx.clock.advance(DEFAULT_SETTINGS.reconnectMaxMs);
    const s = ctx.sockets.last;
    s.open();
    await flush();
    assert.equal(s.sent[0].resume, 'secret-1', `attempt ${i}: the seat's secret is still offered`);
    s.serverSend({ type: 'error', code: 'unavailable', message: 'authentication failed: jwks' });
    s.drop(4001);
  }
  assert.equal(fatal, 0);
  assert.equal(ctx.m.connection.status, 'reconnecting');
  assert.ok(ctx.sockets.sockets.length >= 6, 'a new attempt after each refusal');
  // Jellyfin is back: the seat is resumed.
  ctx.clock.advance(DEFAULT_SETTINGS.reconnectMaxMs);
  const s7 = ctx.sockets.last;
  s7.open();
  await flush();
  ctx.welcome(s7, { resumed: true });
  assert.equal(ctx.m.connection.status, 'open');
  ctx.m.stop();

  // A real refusal, again and again, stops the retries (a fresh token was tried each time).
  const c2 = setup();
  c2.m.start();
  let fatal2 = 0;
  c2.m.connection.on('fatal', () => { fatal2 += 1; });
  for (let i = 0; i < 3; i++) {
    const s = c2.sockets.last;
    s.open();
    await flush();
    s.serverSend({ type: 'error', code: 'unauthorized', message: 'bad token' });
    s.drop(4001);
    c2.clock.advance(DEFAULT_SETTINGS.reconnectMaxMs);
  }
  assert.equal(fatal2, 1);
  assert.equal(c2.m.connection.status, 'closed');
  c2.m.stop();
});

test('every hello asks for a fresh token: a reconnect after the 5-minute token expired still gets in', async () => {
  const ctx = setup();
  let n = 0;
  ctx.m.connection.credentials = async () => ({ token: `jwt-${++n}` });
  const s1 = await connected(ctx);
  assert.equal(s1.sent[0].token, 'jwt-1');
  ctx.clock.advance(6 * 60_000); // a long party: the first token is long expired
  s1.drop(1006);
  ctx.clock.advance(1000);
  const s2 = ctx.sockets.last;
  assert.notEqual(s2, s1);
  s2.open();
  await flush();
  assert.equal(s2.sent[0].type, 'hello');
  assert.equal(s2.sent[0].token, 'jwt-2');
  assert.equal(s2.sent[0].resume, 'secret-1');
  assert.ok(!s2.url.includes('jwt') && !s2.url.includes('secret'), 'no credential in the URL');
  ctx.m.stop();
});

test('a member list with a malformed entry is refused whole: the room and its listeners see nothing', async () => {
  const ctx = setup();
  const s = await connected(ctx);
  const created = ctx.m.createRoom();
  s.serverSend({ ...ctx.roomMsg(), id: s.sentOfType('create_room')[0].id });
  await created;
  const before = ctx.m.room.members;
  const seen = [];
  ctx.m.on('members', (list) => seen.push(list.map((x) => x.id)));
  for (const list of [[null], [{ name: 'no id' }], [{ id: 7 }], 'x']) {
    s.serverSend({ type: 'members', host: 'a', list });
  }
  assert.equal(ctx.m.room.members, before);
  assert.deepEqual(seen, []);
  s.serverSend({ type: 'members', host: 'a', list: [{ id: 'a', name: 'Ann' }, { id: 'b', name: 'Bob' }] });
  assert.deepEqual(seen, [['a', 'b']]);
  ctx.m.stop();
});

test('a server that closes right after welcome is not hammered: the backoff keeps growing until a connection lasts', async () => {
  const ctx = setup();
  const s1 = await connected(ctx);
  const opened = [];
  let last = s1;
  for (let i = 0; i < 6; i++) {
    last.drop(1011);
    const t0 = ctx.clock.now();
    while (ctx.sockets.last === last) ctx.clock.advance(10);
    opened.push(ctx.clock.now() - t0);
    last = ctx.sockets.last;
    last.open();
    await flush();
    ctx.welcome(last);
  }
  // random() = 0.5: 75 % of 500, 1000, 2000, 4000, 8000, 15000 ms.
  assert.ok(opened[5] >= 0.75 * 15000 - 20, `delays ${opened.join(', ')}`);
  assert.ok(opened.every((d, i) => i === 0 || d > opened[i - 1]), `delays ${opened.join(', ')}`);
  // A connection that lasts resets it: the next drop is retried quickly again.
  ctx.clock.advance(DEFAULT_SETTINGS.reconnectStableMs + 10);
  last.drop(1006);
  const t0 = ctx.clock.now();
  while (ctx.sockets.last === last) ctx.clock.advance(10);
  assert.ok(ctx.clock.now() - t0 <= 500, `${ctx.clock.now() - t0} ms`);
  ctx.m.stop();
});

test('a token fetch slower than the server\'s hello timeout is retried, never taken for a refusal', async () => {
  const ctx = setup();
  let fatal = 0;
  ctx.m.connection.on('fatal', () => { fatal += 1; });
  /** @type {((v: any) => void)[]} */
  const waiting = [];
  ctx.m.connection.credentials = () => new Promise((resolve) => waiting.push(resolve));
  ctx.m.start();
  for (let i = 0; i < 4; i++) {
    const s = ctx.sockets.last;
    s.open();
    await flush();
    assert.equal(s.sent.length, 0, 'no hello yet: the token is still on its way');
    // The server's hello timeout: `error unauthorized` then close 4001.
    s.serverSend({ type: 'error', code: 'unauthorized', message: 'no hello in time' });
    s.drop(4001);
    ctx.clock.advance(DEFAULT_SETTINGS.reconnectMaxMs);
  }
  assert.equal(fatal, 0);
  assert.notEqual(ctx.m.connection.status, 'closed');
  // Jellyfin answers in time at last.
  ctx.m.connection.credentials = async () => ({ token: 'jwt' });
  for (const r of waiting) r({ token: 'late' }); // late answers for dead sockets change nothing
  const s = ctx.sockets.last;
  s.open();
  await flush();
  assert.deepEqual(s.sent.map((m) => m.type), ['hello']);
  assert.equal(s.sent[0].token, 'jwt');
  ctx.welcome(s);
  assert.equal(ctx.m.connection.status, 'open');
  ctx.m.stop();
});

test('while in a room, reconnects back off at most reconnectMaxInRoomMs; out of a room, up to reconnectMaxMs', async () => {
  const ctx = setup();
  const s1 = await connected(ctx);
  const conn = ctx.m.connection;
  // Not in a room: the long cap applies (a laptop waking up, a server down for long).
  assert.ok(conn.backoffMs(10) > DEFAULT_SETTINGS.reconnectMaxInRoomMs * 2);
  const created = ctx.m.createRoom();
  s1.serverSend({ ...ctx.roomMsg(), id: s1.sentOfType('create_room')[0].id });
  await created;
  // In a room, after many failed attempts (a 10 s outage): still retried within ~2 s.
  for (const n of [3, 5, 10]) assert.ok(conn.backoffMs(n) <= DEFAULT_SETTINGS.reconnectMaxInRoomMs, `n=${n}: ${conn.backoffMs(n)}`);
  conn.failures = 8;
  s1.drop(1006);
  const before = ctx.sockets.sockets.length;
  ctx.clock.advance(DEFAULT_SETTINGS.reconnectMaxInRoomMs + 1);
  assert.equal(ctx.sockets.sockets.length, before + 1, 'a new attempt within the in-room cap');
  // Leaving the room restores the long cap.
  const s2 = ctx.sockets.last;
  s2.open();
  await flush();
  ctx.welcome(s2, { resumed: true, resume: 'secret-2' });
  s2.serverSend(ctx.roomMsg());
  s2.serverSend({ type: 'left', reason: 'kicked' });
  assert.ok(conn.backoffMs(10) > DEFAULT_SETTINGS.reconnectMaxInRoomMs * 2);
  ctx.m.stop();
});

test('a speed picked in the player\'s menu is the room\'s rate: play{rate} while playing, with the next play while paused; refused to a guest', async () => {
  const ctx = setup();
  const s = await connected(ctx);
  s.serverSend(ctx.roomMsg({ state: ctx.state({ playing: true, position: 10, reason: 'play' }) }));
  assert.equal(ctx.player.shownRate, 1, 'the menu shows the room\'s rate');
  ctx.player.userPicksRate(1.5);
  const [play] = s.sentOfType('play');
  assert.equal(play.rate, 1.5);
  assert.ok(Math.abs(play.position - 10) < 0.1, `from where the room is (${play.position})`);
  ctx.player.userPicksRate(1); // the room's rate still: nothing to ask
  assert.equal(s.sentOfType('play').length, 1);

  s.serverSend({ type: 'state', ...ctx.state({ playing: false, position: 12, seq: 2, rate: 1.5 }) });
  assert.equal(ctx.player.shownRate, 1.5);
  ctx.player.userPicksRate(2);
  assert.equal(s.sentOfType('play').length, 1, 'a pause carries no rate: nothing sent yet');
  assert.equal(ctx.player.shownRate, 2, 'the menu shows the pick meanwhile');
  s.serverSend({ type: 'state', ...ctx.state({ playing: false, position: 20, seq: 3, rate: 1.5, reason: 'seek' }) });
  assert.equal(ctx.player.shownRate, 2, 'a seek while paused keeps the pick');
  ctx.m.play();
  assert.equal(s.sentOfType('play')[1].rate, 2);
  ctx.m.play();
  assert.equal(s.sentOfType('play')[2].rate, undefined, 'once');

  s.serverSend({ type: 'state', ...ctx.state({ playing: false, position: 20, seq: 4, rate: 1.5, reason: 'waiting', waiting_for: ['b'] }) });
  ctx.player.userPicksRate(1.75);
  assert.equal(s.sentOfType('play')[3].rate, 1.75, 'a room waiting for a member means to play: sent now');

  s.serverSend({ type: 'state', ...ctx.state({ playing: true, position: 12, seq: 5, rate: 2 }) });
  s.serverSend({ type: 'members', host: 'b', list: [] });
  ctx.player.userPicksRate(1.25);
  assert.equal(s.sentOfType('play').length, 4, 'a guest in a host-controlled room cannot');
  assert.ok(ctx.events.some(([e, err]) => e === 'notice' && err.code === 'host_only'));
  assert.equal(ctx.player.shownRate, 2);
  ctx.m.leaveRoom();
  assert.equal(ctx.player.shownRate, null, 'out of the room the menu is the player\'s own');
  ctx.m.stop();
});

test('rights: a guest granted playback sends its intents, not the item; the grant taken back stops them', async () => {
  const ctx = setup({ name: 'Bob' });
  const s = await connected(ctx);
  const bob = { id: 'b', name: 'Bob', connected: true, rights: [] };
  const ann = { id: 'a', name: 'Ann', connected: true, rights: [] };
  const joining = ctx.m.joinRoom('ABCDEF');
  s.serverSend({ ...ctx.roomMsg({ you: 'b', host: 'a', members: [ann, bob] }), id: s.sentOfType('join_room')[0].id });
  await joining;
  assert.equal(ctx.m.can('playback'), false);
  assert.equal(ctx.m.pause(), false);
  // The host grants playback (an added `members` field).
  s.serverSend({ type: 'members', host: 'a', list: [ann, { ...bob, rights: ['playback'] }] });
  assert.deepEqual(ctx.m.rightsOf('b'), ['playback']);
  assert.equal(ctx.m.canControl, true);
  assert.equal(ctx.m.can('media'), false, 'playback is not the item');
  ctx.m.seek(30);
  assert.deepEqual(s.sentOfType('seek').at(-1), { type: 'seek', position: 30 });
  assert.equal(ctx.m.setMedia({ id: 'other' }), false);
  assert.equal(s.sentOfType('set_media').length, 0);
  assert.ok(ctx.events.some(([e, err]) => e === 'notice' && err.code === 'media_right'));
  // Media too; then both taken back.
  s.serverSend({ type: 'members', host: 'a', list: [ann, { ...bob, rights: ['media', 'playback', 'teleport'] }] });
  assert.deepEqual(ctx.m.rightsOf('b'), ['playback', 'media'], 'wire order, unknown rights ignored');
  assert.ok(ctx.m.setMedia({ id: 'other' }));
  assert.equal(s.sentOfType('set_media').length, 1);
  s.serverSend({ type: 'members', host: 'a', list: [ann, bob] });
  assert.equal(ctx.m.play(), false);
  assert.equal(s.sentOfType('play').length, 0);
  // Only the host grants.
  assert.throws(() => ctx.m.setRights('a', ['playback']), (e) => e.code === 'forbidden');
  assert.equal(s.sentOfType('set_rights').length, 0);
  ctx.m.stop();
});

test('rights: the host sends a member\'s whole set, checked; shared control needs no grant', async () => {
  const ctx = setup();
  const s = await connected(ctx);
  const created = ctx.m.createRoom();
  const members = [{ id: 'a', name: 'Ann', rights: [] }, { id: 'b', name: 'Bob', rights: [] }];
  s.serverSend({ ...ctx.roomMsg({ members }), id: s.sentOfType('create_room')[0].id });
  await created;
  assert.deepEqual(ctx.m.rightsOf('a'), [], 'the host role is not a grant');
  assert.equal(ctx.m.can('media'), true);
  ctx.m.setRights('b', ['media', 'playback', 'media']);
  assert.deepEqual(s.sentOfType('set_rights')[0], { type: 'set_rights', member_id: 'b', rights: ['playback', 'media'] });
  ctx.m.setRights('b', []);
  assert.deepEqual(s.sentOfType('set_rights')[1].rights, []);
  assert.throws(() => ctx.m.setRights('b', /** @type {any} */ (['teleport'])), (e) => e.code === 'bad_request');
  assert.throws(() => ctx.m.setRights('zz', ['media']), (e) => e.code === 'bad_request');
  assert.throws(() => ctx.m.setRights('a', ['media']), (e) => e.code === 'bad_request', 'not oneself');
  assert.equal(s.sentOfType('set_rights').length, 2);
  // A guest of a shared room may everything without a grant.
  const g = setup({ name: 'Cy' });
  const gs = await connected(g);
  const joining = g.m.joinRoom('ABCDEF');
  gs.serverSend({ ...g.roomMsg({ you: 'c', host: 'a', settings: { control: 'shared', wait_for_all: true } }), id: gs.sentOfType('join_room')[0].id });
  await joining;
  assert.equal(g.m.can('playback') && g.m.can('media'), true);
  ctx.m.stop();
  g.m.stop();
});

test('ready check: asked by whoever drives playback, answered while in progress, ended by the result', async () => {
  const ctx = setup({ name: 'Bob' });
  const s = await connected(ctx);
  const ann = { id: 'a', name: 'Ann', rights: [] };
  const joining = ctx.m.joinRoom('ABCDEF');
  s.serverSend({ ...ctx.roomMsg({ you: 'b', host: 'a', members: [ann, { id: 'b', name: 'Bob', rights: [] }] }), id: s.sentOfType('join_room')[0].id });
  await joining;
  const seen = [];
  ctx.m.on('ready_check', (c) => seen.push(['check', c]));
  ctx.m.on('ready_result', (r) => seen.push(['result', r]));
  assert.throws(() => ctx.m.readyCheck(), (e) => e.code === 'host_only');
  assert.throws(() => ctx.m.ready(true), (e) => e.code === 'bad_request', 'no check in progress');
  s.serverSend({ type: 'ready_check', by: 'a', until: ctx.serverNow() + 30000, start: true });
  s.serverSend({ type: 'ready_check', by: 'a' }); // malformed: ignored
  assert.deepEqual(ctx.m.readyState, { by: 'a', until: ctx.serverNow() + 30000, start: true });
  ctx.m.ready(true);
  assert.deepEqual(s.sentOfType('ready').at(-1), { type: 'ready', ready: true });
  s.serverSend({ type: 'ready_result', by: 'a', result: 'timeout', ready: ['a', 'b'], not_ready: [], no_answer: ['c'] });
  assert.equal(ctx.m.readyState, null);
  assert.deepEqual(seen.map(([k]) => k), ['check', 'result']);
  assert.deepEqual(seen[1][1].no_answer, ['c']);
  // Granted playback: it may ask.
  s.serverSend({ type: 'members', host: 'a', list: [ann, { id: 'b', name: 'Bob', rights: ['playback'] }] });
  ctx.m.readyCheck({ start: false });
  assert.deepEqual(s.sentOfType('ready_check').at(-1), { type: 'ready_check', start: false });
  ctx.m.stop();
});
