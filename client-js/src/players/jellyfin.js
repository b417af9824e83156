// @ts-check
/**
 * JellyfinPlayer: the generic player over jellyfin-web's playbackManager, so that seeks go
 * through Jellyfin (which restarts a transcode when it has to) and the item id is Jellyfin's.
 *
 * Calls used, each checked against jellyfin-web v10.10.7 and v10.11.x
 * (src/components/playback/playbackmanager.js unless noted):
 *   getCurrentPlayer()                       → the active player object
 *   currentItem(player).Id / .Name / .RunTimeTicks
 *   getCurrentTicks(player)                  ticks incl. the transcoding offset (player time is
 *                                            relative to the transcode's start)
 *   paused(player), pause(player), unpause(player)  (unpause returns nothing: the <video>'s
                                            play() promise is dropped by htmlVideoPlayer)
 *   seek(ticks, player)                      10,000,000 ticks per second
 *   playMethod(player)                       'Transcode' | 'DirectStream' | 'DirectPlay'
 *   play({ids, serverId, startPositionTicks}) to follow the host's item (getIntros skips the
 *                                            intros only when startPositionTicks is truthy)
 *   player.setPlaybackRate(rate) / getPlaybackRate() (src/plugins/htmlVideoPlayer/plugin.js):
 *     called on the player, not through playbackManager.setPlaybackRate, which would also
 *     save every 1 % nudge as the user's preferred speed in sessionStorage.
 *   playbackManager.setPlaybackRate(rate, player) / getPlaybackRate(player): what the OSD's
 *     Settings → Playback Speed menu (src/components/playback/playersettingsmenu.js), the
 *     speed keys (increase/decreasePlaybackRate call `self.setPlaybackRate`) and a remote
 *     PlaybackRate command go through. While in a room (showRate(rate) was called) both are
 *     replaced on the playbackManager object: a speed chosen there is emitted as 'rate' (an
 *     intent for the room, DESIGN §8) instead of being set, and the menu reads the room's
 *     rate, not the momentary corrected one. showRate(null) puts jellyfin-web's own back.
 *     (The OSD's restore of the remembered speed on start calls player.setPlaybackRate
 *     directly; the core puts the room's rate back over it.)
 *   Events.on(player, 'pause' | 'unpause'), Events.on(playbackManager, 'playbackstart' |
 *     'playbackstop') (src/utils/events.ts); the player triggers no seek event, so seeks are
 *     read from the `<video class="htmlvideoplayer">` element's DOM events.
 *   Emits 'media' ({id, title?, duration?}) on every playbackstart, whoever started the item.
 *
 * Own tracks (issue 23): a member's audio and subtitle tracks are their own; only position,
 * play state and rate are shared. jellyfin-web's audio and subtitle menus (and its remote
 * commands) call playbackManager.setAudioStreamIndex(index, player) /
 * setSubtitleStreamIndex(index, player) (-1: subtitles off); both are wrapped (as long as this
 * player lives) to remember the choice with the stream's language, from
 * currentMediaSource(player).MediaStreams, in `trackStore` (across reloads). When the room
 * makes this player load an item (join, item switch, reload), playbackManager.play gets
 * `audioStreamIndex` / `subtitleStreamIndex` (playbackmanager.js passes them through
 * truncatePlayOptions to PlaybackInfo's AudioStreamIndex / SubtitleStreamIndex): the same
 * index on the same item, else the stream with the same language in the new item's
 * MediaStreams (`fetchItem`), else nothing (Jellyfin's defaults for this user). Without them,
 * playbackManager.play starts every item on the server's defaults. Quality needs nothing:
 * jellyfin-web keeps its own maximum bitrate per user, and nothing here passes one.
 *
 * Precision: the htmlVideoPlayer caches currentTime at each `timeupdate` (~4 Hz), far too
 * coarse to sync on; so the position is the `<video>` element's live currentTime plus the
 * transcoding offset, which is the difference between playbackManager's ticks and the
 * player's own (cached) time.
 *
 * Public API:
 *   new JellyfinPlayer({playbackManager, events, serverId?, document?, fetchItem?, trackStore?})
 *     fetchItem   async (id) => BaseItemDto with MediaStreams (the item a switch goes to)
 *     trackStore  {get() → string|null, set(string)}: where the track choice is kept
 *   implements players/player.js (with showRate and the 'rate' event); .destroy()
 *   .tracks       the member's choice: {audio?, subtitle?}, each {itemId, index, language}
 *   pickStreams(choice, mediaStreams, itemId) → {audioStreamIndex?, subtitleStreamIndex?}
 *
 * @module players/jellyfin
 */

import { Emitter } from './player.js';

const TICKS_PER_SECOND = 10_000_000;
const HAVE_FUTURE_DATA = 3;

/** @typedef {{itemId: string|null, index: number, language: string|null}} TrackChoice */

/** A stream's language as compared across items: lower case; none for "und" or missing. */
function languageOf(stream) {
  const l = typeof stream?.Language === 'string' ? stream.Language.trim().toLowerCase() : '';
  return l && l !== 'und' ? l : null;
}

/**
 * The play options that keep a member's own tracks on item `itemId`: the same index on the
 * same item, else the first stream with the chosen language; subtitles off stay off.
 * @param {{audio?: TrackChoice, subtitle?: TrackChoice}|null|undefined} choice
 * @param {any[]|null|undefined} streams the item's MediaStreams (null: not known)
 * @param {string} itemId
 * @returns {{audioStreamIndex?: number, subtitleStreamIndex?: number}}
 */
export function pickStreams(choice, streams, itemId) {
  /** @type {{audioStreamIndex?: number, subtitleStreamIndex?: number}} */
  const out = {};
  /** @type {[('audio'|'subtitle'), string, ('audioStreamIndex'|'subtitleStreamIndex')][]} */
  const kinds = [['audio', 'Audio', 'audioStreamIndex'], ['subtitle', 'Subtitle', 'subtitleStreamIndex']];
  for (const [kind, type, key] of kinds) {
    const c = choice?.[kind];
    if (!c || !Number.isInteger(c.index)) continue;
    if (kind === 'subtitle' && c.index === -1) {
      out[key] = -1;
      continue;
    }
    const list = Array.isArray(streams) ? streams.filter((x) => x && x.Type === type) : null;
    if (c.itemId === itemId && (!list || list.some((x) => x.Index === c.index))) {
      out[key] = c.index;
      continue;
    }
    const match = c.language && list ? list.find((x) => languageOf(x) === c.language) : null;
    if (match && Number.isInteger(match.Index)) out[key] = match.Index;
  }
  return out;
}

export class JellyfinPlayer extends Emitter {
  /**
   * @param {{playbackManager: any, events: any, serverId?: () => string|null,
   *   document?: Document, fetchItem?: ((id: string) => Promise<any>)|null,
   *   trackStore?: {get: () => string|null, set: (v: string) => void}|null}} deps
   */
  constructor({ playbackManager, events, serverId = () => null, document = globalThis.document, fetchItem = null, trackStore = null }) {
    super();
    this.fetchItem = fetchItem;
    this.trackStore = trackStore;
    /** @type {{audio?: TrackChoice, subtitle?: TrackChoice}} */
    this.tracks = {};
    try {
      const saved = JSON.parse(trackStore?.get() || 'null');
      if (saved && typeof saved === 'object') this.tracks = saved;
    } catch { /* nothing usable kept */ }
    /** jellyfin-web's own track setters while ours wrap them. @type {Record<string, any>|null} */
    this._pmTracks = null;
    this.pm = playbackManager;
    this.events = events;
    this.serverId = serverId;
    this.doc = document;
    this.player = null;
    this.video = null;
    this.waiting = false;
    /** The <video>'s source was replaced and has not played since (see _bind). */
    this.restarting = false;
    /** @type {(() => void)[]} */
    this._unbind = [];
    // A new item started (the user picked one, or setMedia below): listeners learn its id.
    this._onStart = () => {
      this.between = false;
      this._bind();
      const media = this.getMedia();
      if (media) this.emit('media', media);
    };
    // Between playbackstop and the next playbackstart jellyfin-web keeps the same player
    // current while it fetches the next item's PlaybackInfo, but with no stream:
    // playbackManager.seek() then throws (canPlayerSeek reads `playerData.streamInfo.url`,
    // null after onPlaybackChanging, src/components/playback/playbackmanager.js 10.10.7 and
    // 10.11.x). Nothing is playing until the next start.
    this.between = false;
    this._onStop = () => {
      // At the end of an item jellyfin-web stops playback from the video's own `ended`
      // listener, before ours runs (we unbind here, so ours never does): say so now.
      if (this.video?.ended) this.emit('ended');
      this._unbindAll();
      this.between = true;
    };
    /** The rate jellyfin-web's speed menu shows (the room's), or null outside a room. */
    this.shownRate = null;
    /** jellyfin-web's own rate accessors while ours replace them. @type {{set: any, get: any}|null} */
    this._pmRate = null;
    events.on(playbackManager, 'playbackstart', this._onStart);
    events.on(playbackManager, 'playbackstop', this._onStop);
    this._wrapTrackSetters();
    this._bind();
  }

  /** Remembers the member's audio / subtitle picks as jellyfin-web's menus make them. */
  _wrapTrackSetters() {
    const pm = this.pm;
    /** @type {Record<string, any>} */
    const own = {};
    for (const [name, kind] of [['setAudioStreamIndex', 'audio'], ['setSubtitleStreamIndex', 'subtitle']]) {
      const orig = pm[name];
      if (typeof orig !== 'function') continue;
      own[name] = Object.prototype.hasOwnProperty.call(pm, name) ? orig : undefined;
      pm[name] = (/** @type {any} */ index, /** @type {any} */ player, /** @type {any[]} */ ...rest) => {
        const result = orig.call(pm, index, player, ...rest);
        this._remember(/** @type {'audio'|'subtitle'} */ (kind), index, player);
        return result;
      };
    }
    this._pmTracks = own;
  }

  /**
   * @param {'audio'|'subtitle'} kind
   * @param {any} index
   * @param {any} [player]
   */
  _remember(kind, index, player) {
    const i = Number(index);
    if (!Number.isInteger(i) || i < -1 || (kind === 'audio' && i < 0)) return;
    const p = player || this.player || this.pm.getCurrentPlayer?.();
    let itemId = null;
    let streams = [];
    try {
      itemId = p ? this.pm.currentItem(p)?.Id ?? null : null;
      streams = this.pm.currentMediaSource?.(p)?.MediaStreams || [];
    } catch { /* nothing playing: index only */ }
    const stream = streams.find((/** @type {any} */ x) => x && x.Index === i);
    this.tracks = { ...this.tracks, [kind]: { itemId: itemId === null ? null : String(itemId), index: i, language: i === -1 ? null : languageOf(stream) } };
    try { this.trackStore?.set(JSON.stringify(this.tracks)); } catch { /* storage full or off: this page still knows */ }
  }

  /** The play options keeping the member's own tracks on item `id`. @param {string} id */
  async _trackOptions(id) {
    if (!this.tracks.audio && !this.tracks.subtitle) return {};
    let streams = null;
    if (this.fetchItem) {
      try {
        const item = await this.fetchItem(id);
        streams = item?.MediaStreams || item?.MediaSources?.[0]?.MediaStreams || null;
      } catch { /* unknown: the same item keeps its indices, another gets the defaults */ }
    }
    return pickStreams(this.tracks, streams, id);
  }

  _bind() {
    this._unbindAll();
    const player = this.pm.getCurrentPlayer();
    if (!player) return;
    this.player = player;
    const onPause = () => this.emit('pause');
    const onUnpause = () => this.emit('play');
    this.events.on(player, 'pause', onPause);
    this.events.on(player, 'unpause', onUnpause);
    this._unbind.push(() => {
      this.events.off(player, 'pause', onPause);
      this.events.off(player, 'unpause', onUnpause);
    });
    const video = this.doc?.querySelector?.('video.htmlvideoplayer');
    if (video) {
      this.video = /** @type {HTMLVideoElement} */ (video);
      /** @type {[string, () => void][]} */
      const domEvents = [
        // A stream restarted by jellyfin-web itself (its recovery after a media error, a
        // transcode restart) is a new source that it then seeks to where the old one was
        // (htmlVideoPlayer's seekOnPlaybackStart): that seek is not a person's. Taken for the
        // host's, it sent the room back there (genuine 10.10.7: after Chromium's HLS player
        // failed on a rewind, the room went back to where the host had rewound from).
        // It ends with that seek, or with the new stream playing (the seek may come from
        // jellyfin-web's own `playing` listener: cleared after the events queued with it).
        ['emptied', () => { this.restarting = true; }],
        ['seeking', () => { if (!this.restarting) this.emit('seeking'); }],
        ['seeked', () => { this.restarting = false; this.emit('seeked'); }],
        ['ended', () => this.emit('ended')],
        ['waiting', () => { this.waiting = true; }],
        ['playing', () => {
          this.waiting = false;
          if (this.restarting) setTimeout(() => { this.restarting = false; }, 0);
        }],
      ];
      for (const [t, fn] of domEvents) video.addEventListener(t, fn);
      this._unbind.push(() => { for (const [t, fn] of domEvents) video.removeEventListener(t, fn); });
      this.video.preservesPitch = true;
    }
  }

  _unbindAll() {
    for (const off of this._unbind) off();
    this._unbind = [];
    this.player = null;
    this.video = null;
    this.waiting = false;
    this.restarting = false;
  }

  _p() {
    if (!this.player && !this.between) this._bind();
    if (!this.player) throw new Error('nothing is playing');
    return this.player;
  }

  getPosition() {
    const p = this._p();
    const ticks = this.pm.getCurrentTicks ? this.pm.getCurrentTicks(p) : this.pm.currentTime(p) * 10_000;
    if (this.video && typeof p.currentTime === 'function') {
      const offset = ticks / TICKS_PER_SECOND - p.currentTime() / 1000;
      return this.video.currentTime + offset;
    }
    return ticks / TICKS_PER_SECOND;
  }

  isPaused() {
    return this.player ? Boolean(this.pm.paused(this.player)) : true;
  }

  isSeeking() { return Boolean(this.video?.seeking); }
  isEnded() { return Boolean(this.video?.ended); }

  isBuffering() {
    if (!this.video || this.video.paused) return false;
    return this.waiting || this.video.readyState < HAVE_FUTURE_DATA;
  }

  isStreaming() {
    if (!this.player) return false;
    const method = this.pm.playMethod?.(this.player);
    return method === 'Transcode' || (this.video?.currentSrc || '').startsWith('blob:');
  }

  getRate() {
    return this.player?.getPlaybackRate?.() ?? 1;
  }

  /**
   * The room's rate (null: not in a room): what jellyfin-web's speed menu shows, and whether a
   * speed chosen in it is a room intent ('rate' event) or jellyfin-web's own business.
   * @param {number|null} rate
   */
  showRate(rate) {
    this.shownRate = rate;
    const pm = this.pm;
    if (rate !== null && !this._pmRate) {
      const own = (/** @type {string} */ k) => (Object.prototype.hasOwnProperty.call(pm, k) ? pm[k] : undefined);
      this._pmRate = { set: own('setPlaybackRate'), get: own('getPlaybackRate') };
      const origGet = pm.getPlaybackRate;
      pm.setPlaybackRate = (/** @type {any} */ value) => {
        const r = Number(value);
        if (Number.isFinite(r) && r > 0) this.emit('rate', r);
      };
      pm.getPlaybackRate = (/** @type {any[]} */ ...args) => this.shownRate ?? origGet?.apply(pm, args) ?? 1;
    } else if (rate === null && this._pmRate) {
      for (const [k, v] of [['setPlaybackRate', this._pmRate.set], ['getPlaybackRate', this._pmRate.get]]) {
        if (v === undefined) delete pm[k];
        else pm[k] = v;
      }
      this._pmRate = null;
    }
  }

  /** @param {number} rate @param {boolean} [keepPitch] */
  setRate(rate, keepPitch = true) {
    // Before the rate: Chromium applies both on its next audio render.
    if (this.video) this.video.preservesPitch = keepPitch;
    if (this.player?.setPlaybackRate) this.player.setPlaybackRate(rate);
    else if (this.video) this.video.playbackRate = rate;
  }

  play() {
    const p = this._p();
    this.pm.unpause(p);
    // htmlVideoPlayer.unpause() calls mediaElement.play() and drops the promise it returns, so
    // an autoplay refusal would go unseen and the core would keep seeking for a start that
    // cannot happen. The browser decides synchronously (HTML play() steps: `paused` turns
    // false before play() returns, or the promise is rejected), so a <video> still paused
    // right after the call is the refusal.
    if (this.video && this.video.paused) {
      const e = new Error('the browser refused to start playback');
      e.name = 'NotAllowedError';
      return Promise.reject(e);
    }
    return Promise.resolve();
  }
  pause() { this.pm.pause(this._p()); }

  /** @param {number} seconds */
  seek(seconds) {
    this.pm.seek(Math.round(seconds * TICKS_PER_SECOND), this._p());
  }

  getMedia() {
    if (!this.player && !this.between) this._bind();
    if (!this.player) return null;
    const item = this.pm.currentItem(this.player);
    if (!item || !item.Id) return null;
    /** @type {{id: string, title?: string, duration?: number}} */
    const media = { id: String(item.Id) };
    if (item.Name) media.title = String(item.Name);
    if (item.RunTimeTicks) media.duration = item.RunTimeTicks / TICKS_PER_SECOND;
    return media;
  }

  /** @param {{id: string}} media @param {number} [position] */
  setMedia(media, position = 0) {
    // A state that comes while the item is still loading names the same item again (the
    // host's play right after set_media): one playbackManager.play, not a second load.
    if (this._loading?.id === media.id) return this._loading.promise;
    const promise = this._play(media, position).finally(() => {
      if (this._loading?.promise === promise) this._loading = null;
    });
    this._loading = { id: media.id, promise };
    return promise;
  }

  /** @param {{id: string}} media @param {number} position */
  async _play(media, position) {
    const options = {
      ids: [media.id],
      // Never 0: playbackManager plays the item's intros (trailers, cinema mode, on by default)
      // unless startPositionTicks is truthy, and the guest would then sit in a trailer while
      // the room plays the film. One tick is 100 ns.
      startPositionTicks: Math.max(1, Math.round(position * TICKS_PER_SECOND)),
    };
    const serverId = this.serverId();
    if (serverId) options.serverId = serverId;
    Object.assign(options, await this._trackOptions(media.id));
    await this.pm.play(options);
    // Bound on playbackstart; binding before it would reach a player with no stream yet.
    if (!this.between) this._bind();
  }

  destroy() {
    this.showRate(null);
    for (const [k, v] of Object.entries(this._pmTracks || {})) {
      if (v === undefined) delete this.pm[k];
      else this.pm[k] = v;
    }
    this._pmTracks = null;
    this._unbindAll();
    this.events.off(this.pm, 'playbackstart', this._onStart);
    this.events.off(this.pm, 'playbackstop', this._onStop);
  }
}
