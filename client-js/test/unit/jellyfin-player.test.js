// @ts-check
// JellyfinPlayer against a stand-in for the jellyfin-web calls it makes (playbackManager,
// Events, the htmlVideoPlayer and its <video class="htmlvideoplayer">), each shaped like the
// real one in jellyfin-web v10.10.7 / v10.11.x.
import test from 'node:test';
import assert from 'node:assert/strict';
import { JellyfinPlayer } from '../../src/players/jellyfin.js';

function setup({ allowPlay = true, transcodingOffsetTicks = 0 } = {}) {
  const handlers = new Map();
  const events = {
    on(obj, type, fn) { const k = handlers.get(obj) || {}; (k[type] ||= []).push(fn); handlers.set(obj, k); },
    off(obj, type, fn) { const l = handlers.get(obj)?.[type]; if (l) l.splice(l.indexOf(fn) >>> 0, 1); },
    trigger(obj, type) { for (const fn of [...(handlers.get(obj)?.[type] || [])]) fn({ type }); },
  };
  const video = {
    paused: true, ended: false, seeking: false, currentTime: 12.345, readyState: 4, currentSrc: 'http://jf/Videos/x/stream.mp4',
    playbackRate: 1, preservesPitch: false,
    /** @type {Record<string, Function[]>} */
    listeners: {},
    addEventListener(t, fn) { (this.listeners[t] ||= []).push(fn); },
    removeEventListener(t, fn) { const l = this.listeners[t]; if (l) l.splice(l.indexOf(fn) >>> 0, 1); },
    /** @param {string} t */
    fire(t) { for (const fn of [...(this.listeners[t] || [])]) fn({ type: t }); },
    // HTMLMediaElement.play(): refusal leaves `paused` true and rejects.
    play() {
      if (!allowPlay) return Promise.reject(Object.assign(new Error('no'), { name: 'NotAllowedError' }));
      this.paused = false;
      return Promise.resolve();
    },
  };
  // htmlVideoPlayer: unpause() calls play() and drops the promise; currentTime() is cached ms.
  const player = {
    id: 'htmlvideoplayer',
    currentTime: () => 12000,
    paused: () => video.paused,
    unpause() { video.play().catch(() => { /* dropped, as jellyfin-web does */ }); },
    pause() { video.paused = true; },
    setPlaybackRate(r) { video.playbackRate = r; },
    getPlaybackRate() { return video.playbackRate; },
  };
  const calls = [];
  const pm = {
    getCurrentPlayer: () => player,
    currentItem: (p) => { if (!p) throw new Error('player cannot be null'); return { Id: 'abc', Name: 'Film', RunTimeTicks: 72e9 }; },
    getCurrentTicks: (p) => Math.floor(10000 * p.currentTime()) + transcodingOffsetTicks,
    paused: (p) => p.paused(),
    pause: (p) => { calls.push('pause'); p.pause(); },
    unpause: (p) => { calls.push('unpause'); p.unpause(); },
    seek: (ticks, p) => { calls.push(['seek', ticks, p === player]); },
    playMethod: () => 'DirectPlay',
    play: async (options) => { calls.push(['play', options]); },
  };
  const document = { querySelector: (sel) => (sel === 'video.htmlvideoplayer' ? video : null) };
  const jp = new JellyfinPlayer({ playbackManager: pm, events, serverId: () => 'srv', document: /** @type {any} */ (document) });
  return { jp, pm, video, calls };
}

test('jellyfin: play() goes through playbackManager.unpause and reports a refused autoplay', async () => {
  const ok = setup();
  await ok.jp.play();
  assert.deepEqual(ok.calls, ['unpause']);
  assert.equal(ok.jp.isPaused(), false);

  const refused = setup({ allowPlay: false });
  await assert.rejects(async () => refused.jp.play(), (e) => /** @type {any} */ (e).name === 'NotAllowedError');
  assert.deepEqual(refused.calls, ['unpause']);
  assert.equal(refused.jp.isPaused(), true);
});

test('jellyfin: seeks in ticks through playbackManager.seek; live position includes the transcoding offset', () => {
  const { jp, video, calls } = setup({ transcodingOffsetTicks: 600 * 1e7 });
  jp.seek(90.5);
  assert.deepEqual(calls, [['seek', 905_000_000, true]]);
  // Live <video> time (12.345 s) + the transcode's start (600 s), not the cached 12 s.
  assert.ok(Math.abs(jp.getPosition() - 612.345) < 1e-6, String(jp.getPosition()));
  assert.deepEqual(jp.getMedia(), { id: 'abc', title: 'Film', duration: 7200 });
  jp.setRate(1.05);
  assert.equal(video.playbackRate, 1.05);
  assert.equal(video.preservesPitch, true);
});

test('jellyfin: following the host\'s item from the start does not play its intros first', async () => {
  const { jp, calls } = setup();
  await jp.setMedia({ id: 'film' }, 0);
  await jp.setMedia({ id: 'film' }, 42.5);
  const plays = calls.filter((c) => c[0] === 'play').map((c) => c[1]);
  // playbackManager's getIntros: intros unless `options.startPositionTicks` is truthy.
  assert.ok(plays[0].startPositionTicks, 'a truthy start position');
  assert.ok(plays[0].startPositionTicks < 1000, 'well under a millisecond');
  assert.deepEqual(plays[0].ids, ['film']);
  assert.equal(plays[0].serverId, 'srv');
  assert.equal(plays[1].startPositionTicks, 425_000_000);
});

test('in a room the speed menu (playbackManager.set/getPlaybackRate, on its prototype as in jellyfin-web) is the room\'s; out of it, jellyfin-web\'s own again', () => {
  const video = { playbackRate: 1, preservesPitch: true, addEventListener() {}, removeEventListener() {} };
  const player = { setPlaybackRate(r) { video.playbackRate = r; }, getPlaybackRate() { return video.playbackRate; }, pause() {}, paused: () => false };
  const saved = [];
  // PlaybackManager is a class: setPlaybackRate / getPlaybackRate live on its prototype.
  class PlaybackManager {
    getCurrentPlayer() { return player; }
    setPlaybackRate(value, p = player) { p.setPlaybackRate(value); saved.push(value); }
    getPlaybackRate(p = player) { return p.getPlaybackRate(); }
  }
  const pm = new PlaybackManager();
  const events = { on() {}, off() {} };
  const jp = new JellyfinPlayer({ playbackManager: pm, events, document: /** @type {any} */ ({ querySelector: () => video }) });
  const picked = [];
  jp.on('rate', (r) => picked.push(r));
  jp.showRate(1.5);
  jp.setRate(1.53); // a nudge
  assert.equal(pm.getPlaybackRate(player), 1.5, 'the menu shows the room\'s rate, not the nudge');
  pm.setPlaybackRate('2', player); // the menu's pick
  assert.deepEqual(picked, [2]);
  assert.equal(video.playbackRate, 1.53, 'not applied: the room decides');
  assert.deepEqual(saved, [], 'not saved as the user\'s own speed');
  jp.showRate(null);
  assert.equal(Object.hasOwn(pm, 'setPlaybackRate'), false, 'the prototype\'s methods are back');
  pm.setPlaybackRate(1.25, player);
  assert.equal(video.playbackRate, 1.25);
  assert.deepEqual(saved, [1.25]);
  assert.deepEqual(picked, [2]);
  jp.destroy();
});

// ---- own audio and subtitles (issue 23) ----

const STREAMS_AB = [
  { Index: 0, Type: 'Video' }, { Index: 1, Type: 'Audio', Language: 'eng' }, { Index: 2, Type: 'Audio', Language: 'fra' },
  { Index: 3, Type: 'Subtitle', Language: 'eng' }, { Index: 4, Type: 'Subtitle', Language: 'fra' },
];
const STREAMS_C = [
  { Index: 0, Type: 'Video' }, { Index: 1, Type: 'Audio', Language: 'eng' }, { Index: 2, Type: 'Audio', Language: 'deu' },
  { Index: 3, Type: 'Audio', Language: 'FRA' }, { Index: 4, Type: 'Subtitle', Language: 'deu' }, { Index: 5, Type: 'Subtitle', Language: 'fra' },
];

test('pickStreams: same item keeps the index; another item gets the same language; none: defaults', async () => {
  const { pickStreams } = await import('../../src/players/jellyfin.js');
  const choice = { audio: { itemId: 'a', index: 2, language: 'fra' }, subtitle: { itemId: 'a', index: 4, language: 'fra' } };
  assert.deepEqual(pickStreams(choice, STREAMS_AB, 'a'), { audioStreamIndex: 2, subtitleStreamIndex: 4 });
  assert.deepEqual(pickStreams(choice, STREAMS_C, 'c'), { audioStreamIndex: 3, subtitleStreamIndex: 5 }, 'by language, case aside');
  assert.deepEqual(pickStreams(choice, STREAMS_AB.slice(0, 2), 'b'), {}, 'no French in it: Jellyfin\'s defaults');
  assert.deepEqual(pickStreams(choice, null, 'a'), { audioStreamIndex: 2, subtitleStreamIndex: 4 }, 'streams unknown: same item still');
  assert.deepEqual(pickStreams(choice, null, 'b'), {}, 'streams unknown, another item: defaults');
  assert.deepEqual(pickStreams({ subtitle: { itemId: 'a', index: -1, language: null } }, STREAMS_C, 'c'), { subtitleStreamIndex: -1 }, 'subtitles off stay off');
  assert.deepEqual(pickStreams({ audio: { itemId: 'a', index: 1.5, language: null } }, STREAMS_AB, 'a'), {}, 'a bad index is ignored');
  assert.deepEqual(pickStreams(null, STREAMS_AB, 'a'), {});
});

test('jellyfin: the member\'s picks in jellyfin-web\'s menus are remembered and passed on the next item', async () => {
  const { pm, calls } = setup();
  /** @type {string|null} */
  let stored = null;
  const own = [];
  pm.setAudioStreamIndex = (i) => own.push(['audio', i]);
  pm.setSubtitleStreamIndex = (i) => own.push(['subtitle', i]);
  pm.currentMediaSource = () => ({ MediaStreams: STREAMS_AB });
  const events = { on() {}, off() {} };
  const fetched = [];
  const jp = new JellyfinPlayer({
    playbackManager: pm, events, serverId: () => 'srv', document: /** @type {any} */ ({ querySelector: () => null }),
    fetchItem: async (id) => { fetched.push(id); return { Id: id, MediaStreams: STREAMS_C }; },
    trackStore: { get: () => stored, set: (v) => { stored = v; } },
  });
  // Before any pick: no extra request, no track options (jellyfin-web's defaults).
  await jp.setMedia({ id: 'c' }, 5);
  assert.deepEqual(fetched, []);
  assert.equal(calls.at(-1)[1].audioStreamIndex, undefined);
  // jellyfin-web's menus call playbackManager's setters: they still do their job.
  pm.setAudioStreamIndex(2, pm.getCurrentPlayer());
  pm.setSubtitleStreamIndex(4, pm.getCurrentPlayer());
  assert.deepEqual(own, [['audio', 2], ['subtitle', 4]]);
  assert.deepEqual(JSON.parse(stored || ''), { audio: { itemId: 'abc', index: 2, language: 'fra' }, subtitle: { itemId: 'abc', index: 4, language: 'fra' } });
  await jp.setMedia({ id: 'c' }, 5);
  assert.deepEqual(fetched, ['c']);
  const opts = calls.at(-1)[1];
  assert.equal(opts.audioStreamIndex, 3);
  assert.equal(opts.subtitleStreamIndex, 5);
  // A reload: a new player reads the kept choice.
  const again = new JellyfinPlayer({ playbackManager: pm, events, document: /** @type {any} */ ({ querySelector: () => null }), trackStore: { get: () => stored, set() {} } });
  assert.equal(again.tracks.audio?.language, 'fra');
  // Bad indices from elsewhere change nothing.
  pm.setAudioStreamIndex('x', pm.getCurrentPlayer());
  pm.setAudioStreamIndex(-1, pm.getCurrentPlayer());
  assert.equal(jp.tracks.audio?.index, 2);
  // destroy() gives jellyfin-web its own setters back.
  again.destroy();
  jp.destroy();
  pm.setAudioStreamIndex(1);
  assert.equal(jp.tracks.audio?.index, 2);
});

test('jellyfin: the seek jellyfin-web makes on a stream it restarted itself is not reported; a person\'s seek is', () => {
  const { jp, video } = setup();
  const seen = [];
  jp.on('seeking', () => seen.push('seeking'));
  video.fire('seeking'); // a person's seek on the playing stream
  assert.deepEqual(seen, ['seeking']);
  // htmlVideoPlayer's recovery after a media error: a new source (`emptied`), then its
  // seekOnPlaybackStart to where the old one was.
  video.fire('emptied');
  video.fire('seeking');
  video.fire('seeked');
  assert.deepEqual(seen, ['seeking'], 'the restart\'s own seek is not a person\'s');
  video.fire('seeking'); // after it: a person's again
  assert.deepEqual(seen, ['seeking', 'seeking']);
});

test('jellyfin: a restarted stream that plays without seeking first hands seeks back to people once it plays', async () => {
  const { jp, video } = setup();
  const seen = [];
  jp.on('seeking', () => seen.push('seeking'));
  video.fire('emptied');
  video.fire('playing');
  video.fire('seeking'); // jellyfin-web's start seek from its own `playing` listener
  assert.deepEqual(seen, []);
  await new Promise((r) => setTimeout(r, 0));
  video.fire('seeking');
  assert.deepEqual(seen, ['seeking']);
});
