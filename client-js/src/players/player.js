// @ts-check
/**
 * The generic player interface the playback core drives, and the event emitter adapters
 * extend (core/emitter.js). Every adapter (HtmlVideoPlayer, JellyfinPlayer, the simulated
 * players of tests and benchmarks) implements exactly this:
 *
 *   getPosition(): number          media time in seconds, as precise as the player allows
 *   isPaused(): boolean
 *   isSeeking(): boolean           a seek is in progress
 *   isBuffering(): boolean         should be playing but is starved of data
 *   isStreaming(): boolean         HLS or transcoded: seeks are expensive (bigger thresholds)
 *   isEnded?(): boolean            reached the end (a pause that is nobody's intent)
 *   getRate(): number / setRate(rate, keepPitch = true): void
 *                                  keepPitch: preservesPitch for this rate (the core releases
 *                                  it for small nudges, core/playback.js keepPitchAt)
 *   play(): void|Promise<void>  pause(): void  seek(seconds): void
 *   getMedia(): {id, title?, duration?} | null   what is loaded (id: Jellyfin item id, or URL)
 *   setMedia?(media, positionSeconds): Promise<void>   load another item (follow the host)
 *   on(event, fn): () => void      events: 'play', 'pause', 'seeking', 'seeked'
 *                                  (any cause; the core tells its own apart), 'ended' (the
 *                                  item played to its end; the manager reports it)
 *
 * @module players/player
 */

// Adapters extend the client's one emitter; re-exported here so that an adapter needs only
// this module.
export { Emitter } from '../core/emitter.js';
