// @ts-check
import test from 'node:test';
import assert from 'node:assert/strict';
import { NoticeBoard, formatTime, memberNotices, stateNotice } from '../../src/ui/notices.js';
import { translator } from '../../src/ui/i18n.js';
import { FakeClock } from './fakes.js';

const en = translator('en');
const fr = translator('fr');
const members = [
  { id: 'm1', name: 'Ann' }, { id: 'm2', name: 'Bob' }, { id: 'm3', name: 'Cleo' },
];
const room = { you: 'm1', host: 'm1', members };
/** @param {Record<string, any>} o */
const st = (o) => ({ media: { id: 'x', title: 'The Clock' }, playing: false, position: 0, rate: 1, at: 0, seq: 1, reason: 'pause', by: 'm2', ...o });

test('formatTime: m:ss below an hour, h:mm:ss from it', () => {
  assert.equal(formatTime(7.9), '0:07');
  assert.equal(formatTime(125), '2:05');
  assert.equal(formatTime(3735.4), '1:02:15');
  assert.equal(formatTime(-3), '0:00');
  assert.equal(formatTime(NaN), '0:00');
});

test('stateNotice: every reason, with the member\'s name from the list', () => {
  const prev = st({ seq: 1, reason: 'pause' });
  assert.deepEqual(stateNotice(prev, st({ seq: 2, reason: 'pause' }), room, en), { key: 'playback', text: 'Bob paused' });
  assert.equal(stateNotice(prev, st({ reason: 'play', playing: true }), room, en)?.text, 'Bob resumed');
  assert.equal(stateNotice(prev, st({ reason: 'seek', position: 3735 }), room, en)?.text, 'Bob seeked to 1:02:15');
  assert.equal(stateNotice(prev, st({ reason: 'play', playing: true, rate: 1.5 }), room, en)?.text, 'Bob set the speed to 1.5×');
  assert.equal(stateNotice(prev, st({ reason: 'media', media: { id: 'y', title: 'The Clock Returns' } }), room, en)?.text, 'Bob started The Clock Returns');
  assert.equal(stateNotice(prev, st({ reason: 'media', media: { id: 'y' } }), room, en)?.text, 'Bob started another video');
  assert.equal(stateNotice(prev, st({ reason: 'waiting', by: null, waiting_for: ['m3', 'm2'] }), room, en)?.text, 'Waiting for Cleo, Bob (buffering)');
  assert.equal(stateNotice(prev, st({ reason: 'waiting', by: null, waiting_for: ['m1'] }), room, en)?.text, 'Waiting for you (buffering)');
  assert.equal(stateNotice(prev, st({ reason: 'resume', by: null, playing: true }), room, en)?.text, 'Everyone is ready: playing');
  assert.equal(stateNotice(prev, st({ reason: 'host_left', by: null }), room, en)?.text, 'The host left');
});

test('stateNotice: French', () => {
  const prev = st({});
  assert.equal(stateNotice(prev, st({ reason: 'pause' }), room, fr)?.text, 'Bob a mis en pause');
  assert.equal(stateNotice(prev, st({ reason: 'seek', position: 62 }), room, fr)?.text, 'Bob est allé à 1:02');
  assert.equal(stateNotice(prev, st({ reason: 'waiting', waiting_for: ['m3'] }), room, fr)?.text, 'En attente de Cleo (chargement)');
});

test('stateNotice: one\'s own actions say nothing; no author or an unknown one still reads', () => {
  assert.equal(stateNotice(null, st({ by: 'm1' }), room, en), null, 'Ann paused herself');
  assert.equal(stateNotice(null, st({ by: null, reason: 'pause' }), room, en)?.text, 'Playback paused');
  assert.equal(stateNotice(null, st({ by: 'gone', reason: 'seek', position: 5 }), room, en)?.text, 'Moved to 0:05');
  assert.equal(stateNotice(null, st({ reason: 'waiting', waiting_for: ['gone'] }), room, en)?.text, 'Waiting for ? (buffering)');
  assert.equal(stateNotice(null, st({ reason: 'a_reason_from_the_future' }), room, en), null);
  assert.equal(stateNotice(null, st({ reason: 'play', playing: true }), room, en)?.text, 'Bob resumed', 'no previous state: not a rate change');
});

test('stateNotice: a name is text, kept as written, and a very long one is cut', () => {
  const html = '<img src=x onerror=alert(1)>';
  const r = { you: 'm1', members: [{ id: 'm9', name: html }, { id: 'm8', name: 'N'.repeat(300) }] };
  assert.equal(stateNotice(null, st({ by: 'm9' }), r, en)?.text, `${html} paused`);
  const long = stateNotice(null, st({ by: 'm8' }), r, en)?.text || '';
  assert.equal(long, `${'N'.repeat(31)}… paused`);
});

test('memberNotices: joins, departures, a new host; not oneself joining', () => {
  const before = { host: 'm1', you: 'm2', members: members.slice(0, 2) };
  const after = { host: 'm3', you: 'm2', members: [members[1], members[2], { id: 'm4', name: 'Dan' }] };
  assert.deepEqual(memberNotices(before, after, en), [
    { key: 'member:m3', text: 'Cleo joined' },
    { key: 'member:m4', text: 'Dan joined' },
    { key: 'member:m1', text: 'Ann left' },
    { key: 'host', text: 'Cleo is now the host' },
  ]);
  assert.deepEqual(memberNotices({ ...after }, { ...after, host: 'm2' }, en), [{ key: 'host', text: 'You are now the host' }]);
  assert.deepEqual(memberNotices(null, after, en), [], 'the first list (the room snapshot) is the baseline');
  assert.deepEqual(memberNotices(after, after, en), [], 'a members update with only RTTs changed says nothing');
});

/** A board on a virtual clock, recording what is on screen. */
function board(opts = {}) {
  const clock = new FakeClock(0);
  /** @type {(string|null)[]} */
  const shown = [];
  const b = new NoticeBoard({ timers: clock.timers, now: clock.now, show: (n) => shown.push(n ? n.text : null), minMs: 1500, holdMs: 4000, maxPending: 3, ...opts });
  return { clock, shown, b };
}

test('NoticeBoard: one at a time, each at least minMs, the last one gone after holdMs', () => {
  const { clock, shown, b } = board();
  b.push({ key: 'member:a', text: 'Ann joined' });
  b.push({ key: 'member:b', text: 'Bob joined' });
  assert.deepEqual(shown, ['Ann joined'], 'the second waits');
  clock.advance(1499);
  assert.deepEqual(shown, ['Ann joined']);
  clock.advance(1);
  assert.deepEqual(shown, ['Ann joined', 'Bob joined']);
  clock.advance(3999);
  assert.equal(b.current?.text, 'Bob joined');
  clock.advance(1);
  assert.deepEqual(shown, ['Ann joined', 'Bob joined', null]);
  assert.equal(b.current, null);
});

test('NoticeBoard: a burst with one key reads as its last event, at once', () => {
  const { clock, shown, b } = board();
  b.push({ key: 'playback', text: 'Bob seeked to 0:10' });
  clock.advance(200);
  b.push({ key: 'playback', text: 'Bob seeked to 0:20' });
  clock.advance(200);
  b.push({ key: 'playback', text: 'Bob seeked to 0:30' });
  assert.deepEqual(shown, ['Bob seeked to 0:10', 'Bob seeked to 0:20', 'Bob seeked to 0:30']);
  assert.equal(b.pending.length, 0);
  clock.advance(3999);
  assert.equal(b.current?.text, 'Bob seeked to 0:30', 'the hold restarts with the newest');
  clock.advance(1);
  assert.equal(b.current, null);
});

test('NoticeBoard: a flood of events never shows two at once and drains in bounded time', () => {
  const { clock, shown, b } = board();
  let onScreen = 0;
  let maxOnScreen = 0;
  const b2 = new NoticeBoard({ timers: clock.timers, now: clock.now, minMs: 1500, holdMs: 4000, maxPending: 3,
    show: (n) => { onScreen = n ? 1 : 0; maxOnScreen = Math.max(maxOnScreen, onScreen); shown.push(n ? n.text : null); } });
  for (let i = 0; i < 1000; i++) {
    b2.push({ key: i % 2 ? 'playback' : `member:${i}`, text: `event ${i}` });
    assert.ok(b2.pending.length <= 3, 'the line never grows past maxPending');
    clock.advance(1);
  }
  assert.equal(maxOnScreen, 1);
  assert.equal(b2.current?.text, 'event 0', 'what is on screen stays its minimum time');
  clock.advance(10_000);
  assert.equal(b2.current, null, 'all gone within 3 × minMs + holdMs of the flood');
  assert.ok(shown.includes('event 999'), 'the newest event is among those shown');
  b.clear();
});

test('NoticeBoard: clear empties the screen and the line', () => {
  const { clock, shown, b } = board();
  b.push({ key: 'a', text: 'A' });
  b.push({ key: 'b', text: 'B' });
  b.clear();
  assert.deepEqual(shown, ['A', null]);
  clock.advance(10_000);
  assert.deepEqual(shown, ['A', null], 'nothing comes back after clear');
  b.push(null);
  b.push({ key: 'c', text: '' });
  assert.equal(b.current, null, 'empty notices are ignored');
});
