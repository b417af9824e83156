// @ts-check
/**
 * The generic player interface the playback core drives, and a small event helper for
 * adapters. Every adapter (HtmlVideoPlayer, JellyfinPlayer, the simulated players of tests and
 * benchmarks) implements exactly this:
 *
 *   getPosition(): number          media time in seconds, as precise as the player allows
 *   isPaused(): boolean
 *   isSeeking(): boolean           a seek is in progress
 *   isBuffering(): boolean         should be playing but is starved of data
 *   isStreaming(): boolean         HLS or transcoded: seeks are expensive (bigger thresholds)
 *   isEnded?(): boolean            reached the end (a pause that is nobody's intent)
 *   getRate(): number / setRate(rate): void      pitch preserved
 *   play(): void|Promise<void>  pause(): void  seek(seconds): void
 *   getMedia(): {id, title?, duration?} | null   what is loaded (id: Jellyfin item id, or URL)
 *   setMedia?(media, positionSeconds): Promise<void>   load another item (follow the host)
 *   on(event, fn): () => void      events: 'play', 'pause', 'seeking', 'seeked'
 *                                  (any cause; the core tells its own apart)
 *
 * @module players/player
 */

/** Minimal event emitter for adapters. */
export class Emitter {
  constructor() {
    /** @type {Record<string, Set<Function>>} */
    this._handlers = {};
  }

  /** @param {string} event @param {Function} fn @returns {() => void} */
  on(event, fn) {
    (this._handlers[event] ||= new Set()).add(fn);
    return () => this._handlers[event]?.delete(fn);
  }

  /** @param {string} event */
  emit(event, ...args) {
    for (const fn of [...(this._handlers[event] || [])]) {
      try {
        fn(...args);
      } catch (e) {
        console.error('matinee: player listener failed', e);
      }
    }
  }
}
