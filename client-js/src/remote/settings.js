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
  /** Decision loop period: commands are decided from the latest report, no HTTP involved.
   *  Commands due at an instant (an unpause one learned latency before `at`) are not sent on
   *  a tick but on their own timer, to the millisecond. */
  tickMs: 100,
  /** GET /Sessions period in steady state. One small request a second is nothing for
   *  Jellyfin, and a report (LastPlaybackCheckIn) is then seen at most ~1 s after it was
   *  made; the reporting delay is learned from the fastest sightings anyway. */
  pollMs: 1000,
  /** Poll period for a while after each command: the device usually reports right after a
   *  pause, unpause or seek (jellyfin-web's playbackmanager sends progress on `pause`,
   *  `unpause`, and on a `timeupdate` that jumps; native clients on every command), and an
   *  early sighting of that report is what lets the next decision come early. */
  fastPollMs: 250,
  /** How long fast polling lasts after a command. */
  fastPollForMs: 4000,
  /** Poll period right after a command or a report request, for `burstForMs`: a device that
   *  reports at once is seen within this, and each such sighting bounds the mapping of
   *  Jellyfin's clock to ours to within it (the estimate's precision starts there). */
  burstPollMs: 25,
  burstForMs: 400,
  /** Correction threshold before the device has shown how precisely it lands (|error| from
   *  which the seat corrects). Once it has: `precisionFactor` × the device's proven landing
   *  spread and report noise, never under `minThresholdMs`. */
  initialThresholdMs: 100,
  /** Under this the estimate itself is the noise (report positions trail the picture by up to
   *  ~45 ms on a native client, the clock mapping adds a few): nothing to correct. */
  minThresholdMs: 40,
  /** Threshold = this × max(landing spread of the chosen correction, report noise p90): a
   *  correction is worth it only when the error clearly exceeds where corrections land. Sync
   *  harness `remote` (docs/performance.md, "Remote seats"). */
  precisionFactor: 1.5,
  /** Landing spread assumed for a correction method with fewer than two latency samples:
   *  small, so that a method is tried (and its spread learned) before it is judged. */
  initialSpreadMs: 40,
  /** Latency samples kept per command kind: aims use their median, precision their spread. */
  latencyWindow: 8,
  /** Consecutive-report residuals kept (reports with no command between): the report noise. */
  noiseWindow: 16,
  /** First guess of a seek's latency on the device (command sent → media moving again at
   *  the new position): HTTP to Jellyfin, Jellyfin's WebSocket to the device, the device's
   *  own seek and rebuffer. Capped by the learned load latency (a seek is at most a reload),
   *  replaced by the first sample. */
  initialSeekLatencyMs: 1000,
  /** First guess of Unpause latency (command sent → media moving); capped like the seek's. */
  initialUnpauseLatencyMs: 400,
  /** First guess of PlayNow latency (command sent → the item playing at the start position):
   *  a TV app loads the item, fetches a stream, maybe starts a transcode: seconds. */
  initialLoadLatencyMs: 3000,
  /** Largest accepted latency sample: anything slower is a device that did something else. */
  maxLatencyMs: 15000,
  /** Largest accepted lag of a playing device's reports behind its picture (measured when it
   *  pauses): more is a pause somewhere else than where it was going. */
  maxBiasMs: 500,
  /** A report further than this (or 2 × the report noise, if larger) from what the last
   *  command should have produced, and within it of what the device did before, is stale:
   *  made before the command took effect (some clients report a seek with the pre-seek
   *  position). It is counted, not used, and a fresh report is asked for. */
  reportToleranceMs: 60,
  /** Spacing of the commands of one correction (Pause, Seek, Unpause): commands may overtake
   *  each other on their way to the device when sent closer than their latency spread. Once a
   *  pause has been seen reported, three times that (the command's trip plus the report's),
   *  within [minPlanStepMs, planStepMs]: a TV that obeys in 5 ms freezes for well under a second. */
  planStepMs: 250,
  minPlanStepMs: 60,
  /** Corrections in a row that leave the error over the threshold before the seat stops
   *  correcting inside the error it reached (status `limited`, shown in the member list):
   *  a device whose corrections land badly must not be corrected every few seconds. */
  limitAfterMisses: 2,
  /** The threshold of a limited device: this × the error its last correction left. */
  limitFactor: 1.25,
  /** After more misses than that, corrections wait this long, doubled per further miss, up to
   *  `maxSeekBackoffMs` (a new room state resets it: a person asked). */
  seekCooldownMs: 4000,
  maxSeekBackoffMs: 60000,
  /** Asking for a fresh report (SetRepeatMode to the mode it has, see sessions-api.js): once
   *  a command should have taken effect and no report made after that has been seen for this
   *  long, or right after a stale report. */
  requestAfterMs: 150,
  /** At most one request per this long (a GET and a POST to Jellyfin, a report back). */
  requestSpacingMs: 250,
  /** A request counts as answered by a report made within this long after it (a client
   *  that answers does so in a LAN round trip or two; a longer window would take periodic
   *  reports for answers). */
  requestWaitMs: 400,
  /** Unanswered requests after which a device that answers no more often than its periodic
   *  reports would by chance is not asked again. */
  maxUnansweredRequests: 2,
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
  /** Most time Jellyfin spends between stamping a report (LastPlaybackCheckIn) and starting
   *  the timer that then advances the listed position by a second every 1000 ms (user data
   *  saved, events published: SessionManager.OnPlaybackProgress). A listing whose age since
   *  its report lies within this of a whole second may or may not carry one more second: its
   *  position is not used (remote-sync.js, _autoSeconds). */
  autoProgressSlackMs: 300,
  /** Sightings kept for the min-filter that maps Jellyfin's clock (LastPlaybackCheckIn) to
   *  ours: enough that one poll landed right after a report. */
  clockWindow: 24,
  /** `status` period to the session server: under its 2 per second. */
  statusIntervalMs: 550,
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
