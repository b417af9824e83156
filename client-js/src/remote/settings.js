// @ts-check
/**
 * The constants of remote seats (a TV app driven through Jellyfin's Sessions API), each with
 * the reason for its value. Kept apart from core/settings.js: a remote device is a different
 * control problem (positions seconds old, no rate control, every command costs a visible
 * glitch), so none of the browser player's constants apply to it.
 *
 * Public API:
 *   REMOTE_SETTINGS                 frozen defaults
 *   makeRemoteSettings(overrides?)  a frozen copy with some keys replaced; unknown keys throw
 *
 * @module remote/settings
 */

/** @typedef {typeof REMOTE_SETTINGS} RemoteSettings */

export const REMOTE_SETTINGS = Object.freeze({
  /** Decision loop period: commands are decided from the latest report, no HTTP involved. */
  tickMs: 100,
  /** GET /Sessions period in steady state. One small request a second is nothing for
   *  Jellyfin, and a report (LastPlaybackCheckIn) is then seen at most ~1 s after it was
   *  made; the reporting delay is learned from the fastest sightings anyway. */
  pollMs: 1000,
  /** Poll period for a while after each command: the device usually reports right after a
   *  pause, unpause or seek (jellyfin-web's playbackmanager sends progress on `pause`,
   *  `unpause`, and on a `timeupdate` that jumps), and an early sighting of that report is
   *  what measures the command latency. */
  fastPollMs: 250,
  /** How long fast polling lasts after a command. */
  fastPollForMs: 4000,
  /** |error| from which the seat corrects by a seek. A seek on a TV app freezes its picture
   *  while it rebuffers, and lands only within the spread of the TV's seek latency (about
   *  ±0.5 s in the sync harness's TVs), so a threshold below that spread buys each lower
   *  error with more seeks. Sync harness `remote` scenario (docs/performance.md, "Remote
   *  seats"): 750 ms — about one seek per event, 1 correction seek in 14 steady minutes,
   *  steady p50 250–390 ms, p95 510–730 ms, convergence in seconds; 500 ms — 18 % more seeks,
   *  slower and sometimes no convergence; 350 ms — half the error for twice the seeks. */
  seekThresholdMs: 750,
  /** While the room is paused, a device further than this from the paused position is
   *  re-seeked (once, with the same backoff): it will start from there. */
  pausedToleranceMs: 750,
  /** First guess of a seek's latency on the device (command sent → media moving again at
   *  the new position): HTTP to Jellyfin, Jellyfin's WebSocket to the device, the device's
   *  own seek and rebuffer. Learned from the first seek on. */
  initialSeekLatencyMs: 1000,
  /** First guess of Unpause latency (command sent → media moving). */
  initialUnpauseLatencyMs: 400,
  /** First guess of PlayNow latency (command sent → the item playing at the start position):
   *  a TV app loads the item, fetches a stream, maybe starts a transcode: seconds. */
  initialLoadLatencyMs: 3000,
  /** EMA weight of a new latency sample (the first replaces the guess whole). */
  latencyAlpha: 0.5,
  /** Largest accepted latency sample: anything slower is a device that did something else. */
  maxLatencyMs: 15000,
  /** Correction seeks in a row that did not bring the error under the threshold before the
   *  seat backs off: a device whose seeks land badly must not be seeked every few seconds. */
  backoffAfterSeeks: 2,
  /** Wait after a correction seek before the next one may be sent; doubled per correction
   *  seek in a row beyond `backoffAfterSeeks`, up to `maxSeekBackoffMs`. */
  seekCooldownMs: 4000,
  maxSeekBackoffMs: 60000,
  /** A command no report has answered within this long (or 1.5 reporting periods, if
   *  longer) is resent, with the wait doubled each time: jellyfin-apiclient throttles
   *  `timeupdate` progress to one per 10 s, so a device may legitimately be silent 10 s. */
  ackTimeoutMs: 8000,
  /** Cap of that doubling: a device that stopped reporting gets a command a minute at most. */
  maxRetryMs: 60000,
  /** Unanswered commands after which the device is shown as not responding. */
  staleAfterAttempts: 1,
  /** A playing device whose last report is older than max(this, 3 reporting periods) is
   *  shown as not responding even without a pending command. */
  staleReportMs: 30000,
  /** Poll backoff when GET /Sessions fails or the session is gone (the TV app was closed):
   *  first retry after this, doubling to `maxPollBackoffMs`. */
  pollBackoffMs: 2000,
  maxPollBackoffMs: 30000,
  /** Sightings kept for the min-filter that maps Jellyfin's clock (LastPlaybackCheckIn) to
   *  ours: enough that one poll landed right after a report. */
  clockWindow: 24,
  /** `status` period to the session server: under its 2 per second. */
  statusIntervalMs: 550,
  /** |error| shown as "in sync" for a remote seat: half the seek threshold; between that and
   *  the threshold the seat is "close" (nothing to do, nothing worth a seek). */
  inSyncThresholdMs: 375,
});

/**
 * @param {Partial<RemoteSettings>} [overrides]
 * @returns {RemoteSettings}
 */
export function makeRemoteSettings(overrides = {}) {
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in REMOTE_SETTINGS)) throw new TypeError(`unknown remote-seat setting "${key}"`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`remote-seat setting "${key}" must be a finite number ≥ 0`);
    }
  }
  return Object.freeze({ ...REMOTE_SETTINGS, ...overrides });
}
