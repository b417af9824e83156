// @ts-check
/**
 * Every tunable constant of the Matinee client, in one place.
 *
 * Each value carries a comment saying why it has that value. The sync harness
 * (client-js/bench/) and the browser end-to-end tests are how a value earns its
 * place; change them there first, then here.
 *
 * Public API:
 *   DEFAULT_SETTINGS            frozen object, the defaults
 *   makeSettings(overrides?)    a frozen copy with some keys replaced; unknown keys throw
 *
 * @module core/settings
 */

/**
 * Every setting is a number; the defaults' literal types (a frozen object's) would make any
 * other value a type error.
 * @typedef {{readonly [K in keyof typeof DEFAULT_SETTINGS]: number}} Settings
 */

export const DEFAULT_SETTINGS = Object.freeze({
  // ---- clock sync (DESIGN §4) ----
  /** Pings in the burst sent on connect and after each reconnect: enough samples that at
   *  least one usually sees an unqueued path, so the first estimate is already good. */
  pingBurstCount: 5,
  /** Gap between burst pings: long enough that they do not queue behind each other. */
  pingBurstIntervalMs: 100,
  /** Steady ping period. DESIGN §4 started from one every 2 s; the sync harness earned
   *  1 s: with 40 ± 15 ms one-way jitter the offset estimate is what limits steady-state sync
   *  (each client corrects only to within the dead band of what it *believes*), and twice the
   *  samples halved its error (75 s steady runs, 3 seeds: p99 18.8/12.4/13.1 ms at 2 s with a
   *  16-sample window, 11.4/11.5/6.4 ms at 1 s with 32; docs/performance.md, client item 4).
   *  One small frame a second is far below the server's 20 messages/s per connection. */
  pingIntervalMs: 1000,
  /** Samples kept: ~30 s of history at the steady period (DESIGN §4's "~16 samples" was at
   *  one ping per 2 s), long enough to nearly always contain a low-RTT sample, short enough to
   *  follow a network path change. Measured with pingIntervalMs above. */
  timeSyncWindow: 32,
  /** EMA weight of each new window estimate: smooths the steps of the interval's centre as
   *  its bounds change; the estimate never leaves the interval the samples prove, so it
   *  costs no lag after a quick sample. 0.3 and 0.5 measured the same, 0.2 worse
   *  (client-js/bench/clock-filter.mjs). */
  timeSyncEmaAlpha: 0.3,
  /** How fast the two clocks are assumed to drift apart at most (ppm), for widening an old
   *  sample's bounds: allowing more only loosens old bounds, and a drift beyond it costs at
   *  most (excess × window) of bias, or contradicts the newest sample, which drops the oldest.
   *  Two NTP-disciplined clocks stay within a few ppm; a free-running crystal within ~50.
   *  clock-filter.mjs (harness model, drift up to ±100 ppm): 25–200 measure the same; with no
   *  drift, a lopsided queue and 2 s pings (timesync.test.js, the first test) 200 left a p90
   *  error of 1.1–3.0 ms, 50 left 0.5–1.8 ms. */
  timeSyncDriftPpm: 50,

  // ---- playback control (DESIGN §4) ----
  /** Control loop period. 100 ms: fine enough that a 10 % nudge is re-evaluated every 10 ms
   *  of correction, coarse enough to be invisible in a profile. */
  tickMs: 100,
  /** |error| at or under this is left alone. Chromium's media clock is steady to well under a
   *  millisecond, and nudges of a few per mille are played with the pitch free
   *  (pitchFreeMaxNudge), so a tight band costs only more of those inaudible nudges. 5 ms
   *  (with settleBandMs 2) let two members that each believed they were in sync sit up to
   *  10 ms apart, the largest part of the harness's steady p99 once the clock filter was
   *  fixed; sync-model.mjs, seeds 1–12: p99 8.49 ms at 5/2, 7.13 at 3/1, 6.36 at 2/1 with
   *  7 % more rate changes (docs/performance.md, "Where the milliseconds go"). */
  deadBandMs: 2,
  /** Once correcting, keep correcting until the error is under this, so the controller does
   *  not chatter on the dead band's edge; a 0.5 % nudge moves 0.5 ms per tick, so 1 ms is as
   *  close as it can aim without overshooting to the other side. */
  settleBandMs: 1,
  /** Time constant of the proportional rate controller: the error shrinks by e^-1 per this
   *  many ms once it is small enough for the rate not to be clamped. */
  correctionTimeMs: 600,
  /** Largest rate change as a fraction of the state rate: ±10 % is inaudible with pitch
   *  preservation and closes 100 ms of error per second. */
  maxRateNudge: 0.1,
  /** Smallest rate change used while correcting: without it the last few ms would close
   *  ever more slowly; 0.5 % is still inaudible and moves 0.5 ms per 100 ms tick, well within
   *  the settle band, so it cannot overshoot. */
  minRateNudge: 0.005,
  /** Nudges up to this fraction of the state rate, around a state rate of 1, are played with
   *  `preservesPitch` off (keepPitchAt in core/playback.js). Chromium time-stretches a
   *  pitch-preserved <video> with sound so poorly at small rate changes that they barely move
   *  the picture (client-js/bench/rate-correction.mjs: 1 % nudges gained nothing, a guest stayed
   *  ~20 ms behind for good), while resampled audio gains exactly what the rate says. Up to
   *  4.5 % the pitch moves by at most ~0.75 semitone for the fraction of a second a correction
   *  lasts; larger nudges (catching up ≥ 60 ms) keep the pitch, and at a room rate other than 1
   *  the pitch is always kept (resampling would turn 1.5× speech into a chipmunk's). */
  pitchFreeMaxNudge: 0.045,
  /** |error| from which a hard seek beats nudging for a local, progressive file: a 10 %
   *  nudge would need 10 s for this much; a seek on a local file costs ~100 ms. */
  seekThresholdMs: 1000,
  /** The same for HLS or transcoded streams, where a seek may cost a segment fetch (or a
   *  transcode restart), so nudging is worth it for longer. */
  seekThresholdStreamingMs: 2500,
  /** First guess of the seek latency (ms) before anything was learned: typical for a
   *  progressive file in Chromium. */
  initialSeekLatencyMs: 80,
  /** The same first guess for HLS / transcodes, where a seek costs a segment fetch (or a
   *  transcode restart): 300–1500 ms. Guessing high is cheap and guessing low is not: a
   *  catch-up seek aimed too far ahead only waits paused for the difference, one aimed short
   *  lands behind and must seek again (another full latency). It is also what `status.seek_ms`
   *  reports, so a seek's lead covers it. Sync harness (late-join and host-leaves, seed 1):
   *  300 ms → HLS late joiner in sync after 3.0 s, new host's seek 4.0 s; 900 ms → 1.6 s and
   *  0.47 s (full run: 1.9 s and 2.0 s), for seeks converging in 0.5–0.8 s instead of 0.3 s. */
  initialSeekLatencyStreamingMs: 900,
  /** What `status.seek_ms` says for HLS / transcodes until `seekLeadSamples` seeks were
   *  measured: the slow end of their 300–1500 ms, because the server holds a seek's start
   *  for the slowest member's seek_ms, and a member still seeking when the room starts comes
   *  out of it behind and must seek again (another full latency: the room is out of sync for
   *  seconds). Guessing the average here (the 900 above) made the first seek after a host
   *  change take ~2 s to converge (sync harness, host-leaves). */
  initialSeekLeadStreamingMs: 1500,
  /** `status.seek_ms` is the slowest of this many last measured seeks: a lead sized to the
   *  average seek is outlasted by every other seek. */
  seekLeadSamples: 4,
  /** A seek (the core's or anyone's) still running after this long is reported as
   *  `buffering`, so the server's waiting rule holds the room for this member: a seek slower
   *  than the largest latency the core allows for (maxSeekLatencyMs) means the member is out
   *  of data, not merely seeking. Shorter seeks are not reported (see PlaybackCore.report). */
  seekStallMs: 2000,
  /** First guess of the start latency (ms from play() until the media clock moves) of a
   *  progressive player, used until its first start is measured (that first sample then
   *  replaces it whole). Measured in headless Chromium 156 (`node
   *  client-js/bench/start-latency.mjs`: 40.4–40.8 ms over 8 starts of the demo clip), the
   *  middle of the sync harness's 20–60 ms. A late joiner's start is always its first: with 0
   *  here an HLS joiner started ~100 ms late and took most of a second of nudging to close it
   *  (sync harness,
   *  late-join, seed 1: 2.02 s to converge with 0; one value for both kinds: 40 → 1.52 s,
   *  60 → 1.51 s, 80 → 1.62 s, progressive joiners then starting early on seed 2: 1.19 s). */
  initialStartLatencyMs: 40,
  /** The same for HLS / transcodes (media source extensions): the middle of the harness's
   *  40–120 ms, which is what the late-join figure earned (seed 1: 1.19 s; 1.50 s with 40).
   *  Chromium with hls.js measured less (start-latency.mjs: 20.5–41.1 ms, p50 40.4), so there a
   *  first HLS start comes ~40 ms early, as 0 made it ~40 ms late; the harness's HLS players
   *  are the thing to revisit (docs/performance.md, client item 7). */
  initialStartLatencyStreamingMs: 80,
  /** EMA weight of a new seek-latency sample: latencies vary a lot; average a few. */
  seekLatencyAlpha: 0.4,
  /** Learned seek latency is clamped to this: anything slower is a stall, not a latency,
   *  and the waiting rule handles it. Matches the server's 2 s cap. */
  maxSeekLatencyMs: 2000,
  /** After a hard seek, do not seek again for this long: a seek that has not settled yet
   *  looks like a large error, and seeking again would loop. */
  seekCooldownMs: 1500,
  /** A paused player that must join a playing room seeks this much (plus the seek latency)
   *  ahead of the room and starts when the room reaches it: covers a seek that is slower
   *  than learned, at the cost of a pause this long. */
  catchUpMarginMs: 150,
  /** A paused player that reaches its catch-up frame up to this late (a start timer racing
   *  a tick on a busy machine) starts at once: nudging closes a few ms, another seek would
   *  cost 50–1500 ms. It was the dead band's 5 ms before that band shrank; a late start has
   *  nothing to do with the steady band. */
  catchUpLateStartMs: 5,
  /** While paused, a position further than this from the state's position is re-seeked:
   *  under half a frame at 30 fps, so paused screens show the same frame; a paused seek is
   *  cheap. */
  pausedToleranceMs: 15,
  /** Before a scheduled start, how far from the start position the player may sit without
   *  a pre-seek. */
  preStartToleranceMs: 20,
  /** A player event within this long after the core commanded the same thing is taken as
   *  the core's own doing, not a user intent (echo suppression). Covers a slow seek. */
  selfEventWindowMs: 3000,
  /** After a person acts on the player (the host pauses or seeks it), the core leaves the
   *  player alone this long or until the resulting `state` arrives: correcting it back to the
   *  old state in the meantime would make the picture jump back, then forth. Covers a slow
   *  round trip; if no state comes (refused, lost), the room's state wins again after it. */
  intentHoldMs: 1500,
  /** A room opened while the host's film plays starts with a `play` at the host's position
   *  plus this (see Manager.createRoom keepPlayback): the server schedules every start at
   *  least 80 ms ahead (DESIGN §3 lead), so the host then only waits out the rest of the lead. */
  createLeadGuessMs: 80,

  // ---- reporting ----
  /** `status` period: the protocol allows at most 2 per second; 550 ms keeps under that
   *  even when timers fire early. */
  statusIntervalMs: 550,
  /** A member is shown as "in sync" while its |error| stays under this. */
  inSyncThresholdMs: 40,

  // ---- connection ----
  /** First reconnect delay; doubled per failure, with jitter so that a room that lost a
   *  server does not reconnect in lock step. */
  reconnectBaseMs: 500,
  /** Reconnect delay cap: a laptop waking up reconnects within this. */
  reconnectMaxMs: 15000,
  /** Fraction of the delay that is randomised (0.5 = between 50 % and 100 % of it). */
  reconnectJitter: 0.5,
  /** Reconnect delay cap while in a room: the seat is kept only 30 s (DESIGN §3, Resume)
   *  and every second away is a second out of sync; with the 15 s cap a member came back
   *  seconds after a 10 s outage ended (harness `disconnect`: 3.45 s). 2 s retries at most
   *  once per 1–2 s, which costs a server nothing. */
  reconnectMaxInRoomMs: 2000,
  /** A connection must stay up this long before the backoff starts over from the base delay:
   *  a server that closes right after `welcome` (overloaded, rate-limiting) must see each
   *  client back off, not return twice a second forever. */
  reconnectStableMs: 10000,
  /** Give up connecting after this many ms without `welcome`: a socket stuck in CONNECTING
   *  (captive portal, dead proxy) must be retried, not waited on forever. */
  connectTimeoutMs: 10000,
  /** Outgoing messages kept while disconnected (user intents, chat): bounded so a long
   *  outage cannot grow memory, and old intents are meaningless anyway. */
  maxQueuedMessages: 16,
  /** Requests (create/join…) that got no reply within this fail with a clear error. */
  requestTimeoutMs: 10000,
  /** Chat messages kept in memory for the panel. */
  maxChatHistory: 200,
});

/**
 * A frozen settings object: the defaults with `overrides` applied.
 * @param {Partial<Settings>} [overrides]
 * @returns {Settings}
 */
export function makeSettings(overrides = {}) {
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_SETTINGS)) {
      throw new TypeError(`unknown Matinee setting "${key}"`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`Matinee setting "${key}" must be a finite number ≥ 0`);
    }
  }
  return Object.freeze({ ...DEFAULT_SETTINGS, ...overrides });
}
