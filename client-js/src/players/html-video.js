// @ts-check
/**
 * HtmlVideoPlayer: the generic player over a plain `<video>` element (the demo page, and the
 * fallback inside jellyfin-web when its playbackManager is not available).
 *
 * Public API:
 *   new HtmlVideoPlayer(video, {hlsFactory?, media?})
 *     video        an HTMLVideoElement
 *     hlsFactory   () => an hls.js instance, or null; used for .m3u8 URLs like jellyfin-web
 *                  does (default: `new globalThis.Hls()` when hls.js is loaded and supported)
 *     media        {id, title?} of what is already loaded (id = URL)
 *   implements players/player.js, plus:
 *   .load(url, position?) → Promise   loads a URL (progressive or HLS)
 *   .destroy()
 *
 * @module players/html-video
 */

import { Emitter } from './player.js';

const HAVE_FUTURE_DATA = 3;

/** Only http(s) and same-origin paths may be loaded: a room host must not be able to make
 *  members' browsers open other schemes. */
function safeUrl(id, base) {
  try {
    const u = new URL(id, base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

export class HtmlVideoPlayer extends Emitter {
  /**
   * @param {HTMLVideoElement} video
   * @param {{hlsFactory?: () => any, media?: {id: string, title?: string}|null}} [opts]
   */
  constructor(video, opts = {}) {
    super();
    this.video = video;
    this.hlsFactory = opts.hlsFactory ?? defaultHlsFactory;
    /** @type {{id: string, title?: string, duration?: number}|null} */
    this.media = opts.media ?? null;
    this.hls = null;
    this.waiting = false;
    // The pitch is kept (DESIGN §4) except during small nudges (setRate, keepPitchAt).
    video.preservesPitch = true;
    /** @type {[string, EventListener][]} */
    this._listeners = [];
    const listen = (type, fn) => {
      video.addEventListener(type, fn);
      this._listeners.push([type, fn]);
    };
    listen('play', () => this.emit('play'));
    listen('pause', () => this.emit('pause'));
    listen('seeking', () => this.emit('seeking'));
    listen('seeked', () => this.emit('seeked'));
    listen('ended', () => this.emit('ended'));
    listen('waiting', () => { this.waiting = true; });
    listen('playing', () => { this.waiting = false; });
    listen('canplay', () => { this.waiting = false; });
    listen('emptied', () => { this.waiting = false; });
  }

  getPosition() { return this.video.currentTime; }
  isPaused() { return this.video.paused; }
  isSeeking() { return this.video.seeking; }
  isEnded() { return this.video.ended; }
  isBuffering() {
    if (this.video.paused || this.video.ended) return false;
    return this.waiting || this.video.readyState < HAVE_FUTURE_DATA;
  }
  isStreaming() {
    return Boolean(this.hls) || /\.m3u8(\?|$)/i.test(this.video.currentSrc || '');
  }
  getRate() { return this.video.playbackRate; }
  /** @param {number} rate @param {boolean} [keepPitch] */
  setRate(rate, keepPitch = true) {
    this.video.preservesPitch = keepPitch;
    this.video.playbackRate = rate;
  }
  play() { return this.video.play(); }
  pause() { this.video.pause(); }
  /** @param {number} seconds */
  seek(seconds) {
    // Exact seek, not fastSeek(): a keyframe-rounded seek is exactly the error we remove.
    this.video.currentTime = seconds;
  }
  getMedia() {
    if (!this.media) return null;
    const d = this.video.duration;
    return Number.isFinite(d) ? { ...this.media, duration: d } : { ...this.media };
  }

  /** @param {{id: string, title?: string}} media @param {number} [position] */
  setMedia(media, position = 0) {
    return this.load(media.id, position, media.title);
  }

  /**
   * @param {string} id URL (absolute or relative to the page)
   * @param {number} [position]
   * @param {string} [title]
   */
  async load(id, position = 0, title) {
    const base = globalThis.location ? globalThis.location.href : undefined;
    const url = safeUrl(id, base);
    if (!url) throw new Error(`not a loadable http(s) URL: ${id}`);
    this._detachHls();
    this.media = { id, ...(title ? { title } : {}) };
    const video = this.video;
    const loaded = new Promise((resolve, reject) => {
      const ok = () => { cleanup(); resolve(undefined); };
      const bad = () => { cleanup(); reject(new Error(`cannot play ${id}`)); };
      const cleanup = () => {
        video.removeEventListener('loadedmetadata', ok);
        video.removeEventListener('error', bad);
      };
      video.addEventListener('loadedmetadata', ok);
      video.addEventListener('error', bad);
    });
    const hls = /\.m3u8(\?|$)/i.test(url) ? this.hlsFactory() : null;
    if (hls) {
      this.hls = hls;
      hls.loadSource(url);
      hls.attachMedia(video);
    } else {
      video.src = url;
    }
    await loaded;
    if (position > 0) video.currentTime = position;
  }

  _detachHls() {
    if (this.hls) {
      try { this.hls.destroy(); } catch { /* already gone */ }
      this.hls = null;
    }
  }

  destroy() {
    for (const [type, fn] of this._listeners) this.video.removeEventListener(type, fn);
    this._listeners = [];
    this._detachHls();
  }
}

/** hls.js when the page loaded it and the browser supports MSE, as jellyfin-web prefers. */
function defaultHlsFactory() {
  const Hls = /** @type {any} */ (globalThis).Hls;
  if (Hls && typeof Hls.isSupported === 'function' && Hls.isSupported()) {
    // Start from the first segment: the core seeks where the room is once metadata is in.
    return new Hls({ startPosition: 0, maxBufferLength: 30 });
  }
  return null;
}
