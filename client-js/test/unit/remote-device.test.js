// The simulated TV session (bench/lib/sim-remote-device.mjs) that the remote-seat tests, the
// stand-in and the sync harness rely on: if it lied, every figure built on it would too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimRemoteDevice, jellyfinDate, NEVER } from '../../bench/lib/sim-remote-device.mjs';
import { parseJellyfinDate } from '../../src/remote/sessions-api.js';

const ITEM = '0123456789abcdef0123456789abcdef';

function device(o = {}) {
  const clock = { t: 1_000_000 };
  const d = new SimRemoteDevice({
    now: () => clock.t, rng: () => 0.5, id: 's1', userId: 'u1', jfSkewMs: 5000,
    commandLatencyMs: 100, loadMs: 2000, seekStallMs: 500, unpauseMs: 50, reportPeriodMs: 1000, reportJitterMs: 0, reportDelayMs: 20,
    items: { [ITEM]: { name: 'Film' } }, ...o,
  });
  return { d, clock, at: (ms) => { clock.t += ms; } };
}

test('PlayNow: nothing for the command latency plus the load, then plays from the start ticks', () => {
  const { d, clock, at } = device();
  d.command('PlayNow', { itemId: ITEM, startTicks: 600_000_000 });
  at(2099);
  assert.equal(d.trueItem(), null);
  at(1);
  assert.equal(d.trueItem(), ITEM);
  assert.equal(d.truePosition(), 60);
  at(1000);
  assert.ok(Math.abs(d.truePosition() - 61) < 1e-9);
  assert.deepEqual(d.commands.map((c) => [c.kind, c.t]), [['PlayNow', clock.t - 3100]]);
});

test('seek freezes for the rebuffer, pause holds, unpause moves after its latency', () => {
  const { d, at } = device();
  d.command('PlayNow', { itemId: ITEM, startTicks: 0 });
  at(2100 + 5000); // playing 5 s
  d.command('Seek', { seekTicks: 1_000_000_000 });
  at(100);
  assert.equal(d.truePosition(), 100);
  at(500);
  assert.equal(d.truePosition(), 100); // still rebuffering
  at(1000);
  assert.ok(Math.abs(d.truePosition() - 101) < 1e-9);
  d.command('Pause');
  at(100);
  const p = d.truePosition();
  at(5000);
  assert.equal(d.truePosition(), p);
  assert.equal(d.isAdvancing(), false);
  d.command('Unpause');
  at(149);
  assert.equal(d.truePosition(), p);
  at(1001); // moving since 150 ms after the command
  assert.ok(Math.abs(d.truePosition() - (p + 1)) < 1e-9);
});

test('Jellyfin holds the latest report, stamped on arrival in its own clock; positions in whole ms', () => {
  const { d, clock, at } = device({ reportPeriodMs: 10_000 });
  assert.equal(d.toSessionInfoDto().LastPlaybackCheckIn, NEVER);
  d.command('PlayNow', { itemId: ITEM, startTicks: 12_345_678 });
  at(2100);
  // The start report was made now and is 20 ms away from Jellyfin.
  assert.equal(d.toSessionInfoDto().NowPlayingItem, undefined);
  at(20);
  const dto = d.toSessionInfoDto();
  assert.equal(dto.NowPlayingItem.Id, ITEM);
  assert.equal(dto.PlayState.PositionTicks, 12_340_000); // 1.2345678 s → 1234 ms
  assert.equal(dto.PlayState.IsPaused, false);
  assert.equal(parseJellyfinDate(dto.LastPlaybackCheckIn), clock.t + 5000);
  // The SessionInfoDto members a client reads, with Jellyfin's names and value shapes.
  for (const k of ['Id', 'UserId', 'UserName', 'Client', 'DeviceName', 'DeviceId', 'DeviceType', 'SupportsRemoteControl', 'SupportsMediaControl', 'PlayableMediaTypes', 'LastActivityDate', 'Capabilities', 'ServerId']) {
    assert.ok(k in dto, k);
  }
  assert.match(dto.LastPlaybackCheckIn, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
  assert.equal(dto.PlayState.RepeatMode, 'RepeatNone');
});

test('a jellyfin-web-like client reports small seeks only with its next periodic report', () => {
  const { d, at } = device({ reportPeriodMs: 10_000, seekReportJumpS: 5 });
  d.command('PlayNow', { itemId: ITEM, startTicks: 0 });
  at(3000);
  const before = d.toSessionInfoDto().LastPlaybackCheckIn;
  d.command('Seek', { seekTicks: 40_000_000 }); // 4 s: not a jump
  at(1000);
  assert.equal(d.toSessionInfoDto().LastPlaybackCheckIn, before);
  d.command('Seek', { seekTicks: 900_000_000 }); // 90 s: reported when it plays again
  at(1000);
  assert.notEqual(d.toSessionInfoDto().LastPlaybackCheckIn, before);
});

test('a device that stops responding neither reports nor obeys, but stays listed', () => {
  const { d, at } = device();
  d.command('PlayNow', { itemId: ITEM, startTicks: 0 });
  at(5000);
  d.stopResponding();
  const dto = d.toSessionInfoDto();
  d.command('Pause');
  at(10_000);
  assert.equal(d.isAdvancing(), true);
  assert.deepEqual(d.toSessionInfoDto().LastPlaybackCheckIn, dto.LastPlaybackCheckIn);
  assert.equal(d.commands.at(-1).kind, 'Pause');
});

test('jellyfinDate writes seven fractional digits and reads back', () => {
  assert.equal(jellyfinDate(Date.UTC(2024, 0, 2, 3, 4, 5, 678) + 0.5), '2024-01-02T03:04:05.6785000Z');
});

test('a native client reports after every command, SetRepeatMode included; a periodic one never does', () => {
  for (const eventReports of /** @type {const} */ (['all', 'none'])) {
    const { d, at } = device({ reportPeriodMs: 60_000, eventReports });
    d.command('PlayNow', { itemId: ITEM, startTicks: 0 });
    at(3000);
    const checkIn = () => d.toSessionInfoDto().LastPlaybackCheckIn;
    const start = checkIn(); // PlaybackStart: every client sends it
    assert.notEqual(start, NEVER);
    d.generalCommand('SetRepeatMode', { RepeatMode: 'RepeatNone' });
    at(200);
    const afterRequest = checkIn();
    d.command('Seek', { seekTicks: 10_000_000 }); // 1 s: a small seek
    at(1000);
    const afterSeek = checkIn();
    d.command('Pause');
    at(200);
    if (eventReports === 'all') {
      assert.notEqual(afterRequest, start, 'answers SetRepeatMode');
      assert.notEqual(afterSeek, afterRequest, 'reports a small seek');
      assert.notEqual(checkIn(), afterSeek, 'reports the pause');
    } else {
      assert.deepEqual([afterRequest, afterSeek, checkIn()], [start, start, start]);
    }
    assert.equal(d.commands.find((c) => c.kind === 'General:SetRepeatMode')?.args.RepeatMode, 'RepeatNone');
  }
});

test('reports trail the picture, and a seek may be reported with its pre-seek position', () => {
  const { d, at } = device({ reportPeriodMs: 1000, reportTrailMs: 30, eventReports: 'all', staleSeekReportProb: 1, seekStallMs: 0 });
  d.command('PlayNow', { itemId: ITEM, startTicks: 0 });
  at(2100 + 5000);
  // The latest periodic report (made 20 ms before Jellyfin stamped it): 30 ms behind the
  // truth of the moment it was made. Playing from 0 at 2100 ms, the truth is the elapsed time.
  const dto = d.toSessionInfoDto();
  assert.equal(dto.PlayState.IsPaused, false);
  const truth = (d.heldAt - 20 - (1_000_000 + 2100)) / 1000;
  assert.ok(Math.abs(dto.PlayState.PositionTicks / 1e7 - (truth - 0.03)) < 0.002, `${dto.PlayState.PositionTicks / 1e7} vs ${truth}`);
  const before = d.truePosition();
  d.command('Seek', { seekTicks: 600_000_000 });
  at(150);
  assert.ok(Math.abs(d.truePosition() - 60.05) < 0.002);
  // …but the report it made says where it was before the seek.
  assert.ok(Math.abs(d.toSessionInfoDto().PlayState.PositionTicks / 1e7 - (before + 0.1)) < 0.002);
});

test('jellyfin-web as the TV: the apiclient\'s throttle, an unpause reported before it moves, a request answered only once playing', () => {
  const { d, clock, at } = device({ eventReports: 'web', reportPeriodMs: 10_000, reportTrailMs: 200, seekReportJumpS: 5, reportDelayMs: 20 });
  const listed = () => {
    const dto = d.toSessionInfoDto();
    return { checkIn: /** @type {number} */ (parseJellyfinDate(dto.LastPlaybackCheckIn)) - 5000, pos: dto.PlayState.PositionTicks / 1e7, paused: dto.PlayState.IsPaused };
  };
  d.command('PlayNow', { itemId: ITEM, startTicks: 0 });
  at(1000);
  // Loading: a report request is not answered (playbackmanager reports once the stream started).
  d.generalCommand('SetRepeatMode', { RepeatMode: 'RepeatNone' });
  at(1100 + 20);
  const start = listed(); // PlaybackStart
  assert.equal(start.pos, 0);
  // Periodic: 10 s after the previous report, the position read at the last timeupdate (200 ms before).
  at(9990);
  assert.equal(listed().checkIn, start.checkIn);
  at(20);
  const periodic = listed();
  assert.equal(periodic.checkIn, start.checkIn + 10_000);
  // (Made at 10 s of play, read 200 ms before.)
  assert.ok(Math.abs(periodic.pos - (10 - 0.2)) < 0.002, `${periodic.pos}`);
  // A request while playing: answered at once, with the position of that moment.
  at(3000);
  const asked = clock.t;
  d.generalCommand('SetRepeatMode', { RepeatMode: 'RepeatNone' });
  at(100 + 20);
  const answer = listed();
  assert.equal(answer.checkIn, asked + 100 + 20);
  assert.ok(Math.abs(answer.pos - (asked + 100 - 1_002_100) / 1000) < 0.002, `${answer.pos}`);
  // …and it restarts the 10 s wait: the next periodic report comes 10 s after it.
  at(9990);
  assert.equal(listed().checkIn, answer.checkIn);
  at(20);
  const next = listed();
  assert.equal(next.checkIn, answer.checkIn + 10_000);
  // A seek under 5 s from where the last report says: not reported.
  d.command('Seek', { seekTicks: Math.round((d.truePosition() + 2) * 1e7) });
  at(2000);
  assert.equal(listed().checkIn, next.checkIn);
  // A 60 s seek: reported at once, at its target, while the picture is still frozen.
  const seekAt = clock.t;
  d.command('Seek', { seekTicks: 1_000_000_000 });
  at(100 + 20);
  const seek = listed();
  assert.equal(seek.checkIn, seekAt + 100 + 20);
  assert.equal(seek.pos, 100);
  assert.equal(d.truePosition(), 100);
  assert.equal(d.isAdvancing(), false);
  at(1000);
  // Pause: at once and exact. Unpause: at once, with the paused position, before it moves.
  d.command('Pause');
  at(100 + 20);
  const paused = listed();
  assert.equal(paused.paused, true);
  const held = d.truePosition();
  assert.ok(Math.abs(paused.pos - held) < 0.002);
  at(1000);
  const unpauseAt = clock.t;
  d.command('Unpause');
  at(100 + 20);
  const unpaused = listed();
  assert.equal(unpaused.paused, false);
  assert.equal(unpaused.checkIn, unpauseAt + 100 + 20);
  assert.ok(Math.abs(unpaused.pos - held) < 0.002, 'the old position');
  assert.ok(Math.abs(d.truePosition() - held) < 0.002, 'not moving yet (unpauseMs 50 > report delay 20)');
  at(100);
  assert.ok(d.truePosition() > held + 0.05);
});
