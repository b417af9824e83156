// @ts-check
/**
 * Keeps one remote Jellyfin session (a TV app) on the room's state, through the Sessions API
 * only: PlayNow, Pause, Unpause and Seek go out (and SetRepeatMode, to ask for a report);
 * what comes back is what the device last reported to Jellyfin (PlayState.PositionTicks,
 * IsPaused, NowPlayingItem, and the time Jellyfin received it, LastPlaybackCheckIn). No DOM;
 * the clock, timers and API are injected.
 *
 * Why it is not the browser's PlaybackCore: a remote device has no rate control (so only
 * seeks and pause/unpause correct it), its position is known only from reports made up to
 * 10 s apart (jellyfin-apiclient throttles `timeupdate` progress to one per 10 s), and every
 * correction costs a visible freeze on the TV. So:
 *   - Position estimate: the last accepted report's position, advanced by the time since it
 *     was made while it reports playing. The report's time is LastPlaybackCheckIn (Jellyfin's
 *     clock) mapped to ours by bounds: a check-in first seen by one poll and absent from the
 *     one before happened between the two listings, so (local − Jellyfin) lies between (the
 *     previous listing − check-in) and (this poll answered − check-in), a listing being made
 *     at the end of Jellyfin's handling (no earlier than its answer less the quickest round
 *     trip); the tightest bounds over a window give the mapping. Less how long Jellyfin took
 *     the report in: measured on the reports that answer the seat's own commands and report
 *     requests (the client acted after the POST left, about one POST round trip before its
 *     check-in and no later than Jellyfin's answer to the POST; see _reportLocal). A listed position is the report's only when the listing came less than a
 *     second after it, or by a number of seconds that can be told: a real Jellyfin advances a
 *     playing session's PositionTicks by a second every second after each report without
 *     moving LastPlaybackCheckIn (its automatic progress, SessionInfo.cs; see _autoSeconds).
 *     Between a command and the first report made after it took effect, the
 *     estimate is what the command should have done.
 *   - Learned latencies, from the first command on: PlayNow (load), Seek while playing and
 *     Unpause, each the time from sending to moving at the commanded position:
 *     latency = (report time − send time) − (reported position − commanded position). Every
 *     later report until the next command refines that command's sample (an Unpause is often
 *     reported before the picture moves). A sample is never dropped silently: one slightly
 *     negative (the report trails the picture) counts as 0; a report that contradicts the
 *     command and matches what the device did before it is *stale* (made before the command
 *     took effect, or a seek reported with its pre-seek position) and is counted in
 *     `sync.stale`; one that matches neither means the device did something else
 *     (`sync.offTarget`). Aims use the median of the last samples.
 *   - Correction: when |error| ≥ the threshold, on a report made after the last command took
 *     effect, by the method that has proven the tighter landing: a Seek aimed one learned
 *     seek latency ahead (the room's position extrapolated even before a scheduled `at`: a
 *     playing device cannot hold), or Pause → Seek while paused → Unpause sent one learned
 *     unpause latency before the instant its position was computed for (what a device whose
 *     seeks stall unpredictably needs). Threshold = precisionFactor × max(landing spread of
 *     that method, report noise), at least minThresholdMs. Corrections that keep missing make
 *     the device `limited`: it is corrected only beyond the error it reached, and the member
 *     list says so.
 *   - Fresh positions: when a command should have taken effect and no report made after it
 *     has been seen, or a report was stale, the seat asks the device to report
 *     (SessionsApi.requestReport), if it lists SetRepeatMode and has not ignored the question.
 *   - A command no report answers is resent after ackTimeout, then after twice that, … up
 *     to maxRetryMs, and the device is shown as not responding meanwhile; a session that
 *     disappears from Jellyfin's list is "gone" and polled with backoff, never commanded.
 *   - Ownership: a snapshot whose UserId is not the signed-in user's stops the seat for good
 *     (and SessionsApi refuses to send to such a session anyway).
 *
 * Public API:
 *   new RemoteSync({api, sessionId, clock, timers, settings?, onChange?})
 *     api        a SessionsApi (or anything with snapshot/playNow/pause/unpause/seek/requestReport)
 *     clock      {now(): local ms, serverNow(local?): server ms} — a TimeSync fits
 *     timers     {setTimeout, clearTimeout, setInterval, clearInterval}
 *     onChange   (sync) => void after each status change (UI, status reports)
 *   .start() / .stop()           poll and decide loops
 *   .setState(state|null)        the room's PlaybackState (seq-ordered by the caller)
 *   .poll() → Promise<void>      one GET /Sessions and its bookkeeping (the loop calls it)
 *   .tick()                      one decision; may start one command (the loop calls it)
 *   .idle() → Promise<void>      resolves when no command is in flight (tests)
 *   .estimate(local?) → seconds|null   the device's position now, as far as we know
 *   .report() → {position, playing, buffering, error_ms, seek_ms}   for `status`
 *   .sync  {status, errorMs, thresholdMs, limitMs, method, seekMs, unpauseMs, loadMs,
 *           spreadMs: {seek, unpause}, noiseMs, reportPeriodMs, reportDelayMs, commands,
 *           seeks, correctionSeeks, corrections, requests, stale, offTarget, ambiguous, autoUnknown, autoSteps, attempts,
 *           lastAction, deviceName, error}
 *     status ∈ idle | loading | syncing | in_sync | limited | not_responding | gone |
 *              bad_item (the room's item is not a Jellyfin item) | refused | signed_out
 *
 * @module remote/remote-sync
 */

import { REMOTE_SETTINGS } from './settings.js';

/**
 * @typedef {import('../core/protocol.js').PlaybackState} PlaybackState
 * @typedef {import('./sessions-api.js').RemoteSnapshot} RemoteSnapshot
 * @typedef {{kind: 'pause'|'unpause'|'seek'|'request', sentLocal: number, respLocal: number|null, target: number,
 *   rep: Report|null, closed: boolean, failed: boolean, lagged: boolean}} Act
 *   a command or report request whose answer (the client's first report after it) can be
 *   timed by it: the client acted after the POST left and before Jellyfin answered it
 * @typedef {{p: number, paused: boolean, itemId: string, checkInMs: number, seenLocal: number, act?: Act|null}} Report
 * @typedef {{p: number, t0: number, moving: boolean}} Traj   position p (s) at local t0, moving after it or not
 * @typedef {{kind: 'play_now'|'pause'|'unpause'|'seek', sentLocal: number, target: number,
 *   itemId?: string, fromPosition?: number, seq: number, waitMs: number, correction: boolean,
 *   aimMs: number, before: Traj|Report|null, expect: Traj, moving: boolean}} Pending
 * @typedef {'load'|'seek'|'unpause'} LatencyKind
 */

/** Statuses after which the seat sends nothing any more. */
const FINAL = new Set(['refused', 'signed_out']);

/** @param {Traj|null} tr @param {number} t */
const at = (tr, t) => (tr ? tr.p + (tr.moving ? Math.max(0, t - tr.t0) / 1000 : 0) : null);

/** @param {number[]} xs */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** @param {number[]} xs @param {number} q */
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export class RemoteSync {
  /**
   * @param {{api: any, sessionId: string, clock: {now: () => number, serverNow: (local?: number) => number},
   *   timers: any, settings?: import('./settings.js').RemoteSettings,
   *   onChange?: (sync: RemoteSync['sync']) => void}} deps
   */
  constructor({ api, sessionId, clock, timers, settings = REMOTE_SETTINGS, onChange = () => {} }) {
    if (!api || !sessionId) throw new TypeError('RemoteSync needs an api and a session id');
    this.api = api;
    this.sessionId = sessionId;
    this.clock = clock;
    this.timers = timers;
    this.s = settings;
    this.onChange = onChange;
    /** @type {PlaybackState|null} */
    this.state = null;
    /** @type {RemoteSnapshot|null} */
    this.snap = null;
    /** @type {Report|null} the latest report (a check-in we had not seen before) */
    this.lastReport = null;
    /** @type {{lo: number, hi: number}[]} bounds on (local − Jellyfin) clock offset, ms */
    this._clockSamples = [];
    /** @type {number|null} the earliest local time the previous poll's listing can have been
     *  made: answered, less the quickest round trip (a busy Jellyfin spends its time before
     *  it lists, queueing and authenticating, not after) */
    this._prevListed = null;
    /** @type {number|null} the latest check-in seen in a listing (Jellyfin's clock) */
    this._seenCheckIn = null;
    /** @type {number[]} intervals between check-ins while playing */
    this._periods = [];
    this._minRttMs = Infinity;
    /** @type {Pending|null} the command whose effect no report has shown yet */
    this.pending = null;
    /** @type {Report|null} the latest accepted report: where the device is (its time mapped
     *  with the current clock mapping, which tightens as polls come in) */
    this._beliefRep = null;
    /** @type {{traj: Traj, itemId: string|null, effectAt: number}|null} what the last command should have done */
    this._expect = null;
    /** @type {{kind: LatencyKind, sentLocal: number, from: number, provisional: boolean, sum: number, n: number, rep: Report}|null}
     *  the last moving command whose latency sample later reports refine */
    this._moveCmd = null;
    /** Commands sent so far (a residual between two reports counts only with none between). */
    this._cmdCount = 0;
    /** The room state the last command was sent for. */
    this._lastCmdSeq = -1;
    this._cmdCountAtBelief = -1;
    /** The command count at the last pause sent (a bias sample needs nothing sent after it). */
    this._pauseCount = -1;
    /** @type {number[]} bias samples, ms */
    this._biases = [];
    this._acceptedSinceCmd = 0;
    /** @type {string|null} the item of the belief */
    this._beliefItem = null;
    /** Local ms after which the device's reports reflect our last command (freshness). */
    this._settledAfter = -Infinity;
    this._inFlight = null;
    this._attempts = 0;
    this._nextCommandAt = -Infinity;
    this._misses = 0;
    this._awaitingLanding = false;
    /** The method of the last correction, and whether a learned-aim seek ever missed. */
    this._lastMethod = 'seek';
    this._seekMissed = false;
    /** Whether the last correction was aimed with learned latencies (≥ 2 samples). */
    this._provenAim = false;
    /** @type {{kind: LatencyKind, ms: number}|null} the latency the last moving command was aimed with */
    this._aim = null;
    /** Whether the last moving command was aimed with a first guess of its latency. */
    this._guessedAim = false;
    /** @type {number|null} the quickest pause seen reported (sent → report made), ms */
    this._pauseMs = null;
    /** @type {{rid: number, sign: number}|null} the report that first showed a small error
     *  worth a correction, waiting for a second one to confirm it */
    this._suspect = null;
    /** The room state in which a limited device was last given one more try. */
    this._probeSeq = -1;
    this._cooldownUntil = -Infinity;
    this._pausedSeekSeq = -1;
    this._fastUntil = -Infinity;
    this._burstUntil = -Infinity;
    this._pollSeq = 0;
    this._pollFailures = 0;
    this._pollTimer = null;
    this._tickTimer = null;
    /** @type {{seq: number, timer: any, kind: string}|null} a correction or start in progress on its own timer */
    this._plan = null;
    this._running = false;
    /** @type {Record<LatencyKind, number[]>} */
    this._samples = { load: [], seek: [], unpause: [] };
    /** @type {number[]} */
    this._residuals = [];
    this._requests = { lastLocal: -Infinity, answered: 0, unanswered: 0, open: /** @type {number|null} */ (null), wantSince: /** @type {number|null} */ (null), act: /** @type {Act|null} */ (null) };
    /** @type {Act[]} the latest commands and report requests, in the order sent */
    this._acts = [];
    /** @type {number[]} report lag samples: check-in − the answer of the command it answers, ms */
    this._lags = [];
    this.sync = {
      /** @type {string} */
      status: 'idle',
      /** @type {number|null} */
      errorMs: null,
      /** @type {number} |error| from which the seat corrects */
      thresholdMs: settings.initialThresholdMs,
      /** @type {number|null} the error a limited device is left within */
      limitMs: null,
      /** @type {'seek'|'pause_seek_unpause'} the correction that lands tighter on this device */
      method: /** @type {'seek'|'pause_seek_unpause'} */ ('seek'),
      seekMs: settings.initialSeekLatencyMs,
      unpauseMs: settings.initialUnpauseLatencyMs,
      loadMs: settings.initialLoadLatencyMs,
      /** @type {{seek: number|null, unpause: number|null}} */
      spreadMs: { seek: null, unpause: null },
      /** @type {number|null} */
      noiseMs: null,
      /** @type {number|null} how far a playing device's reports lag its picture, ms (from pauses) */
      biasMs: null,
      /** @type {number|null} */
      reportPeriodMs: null,
      /** @type {number|null} */
      reportDelayMs: null,
      /** @type {number|null} how long after the client acts its report is stamped by Jellyfin
       *  (median of the reports that answered a command), ms: a busy Jellyfin takes
       *  hundreds of ms to take a report in */
      lagMs: null,
      commands: 0,
      seeks: 0,
      correctionSeeks: 0,
      corrections: 0,
      requests: 0,
      /** reports that contradicted the last command and matched what the device did before it */
      stale: 0,
      /** reports that matched neither: the device did something else (no sample taken) */
      offTarget: 0,
      /** seeks too small to tell a report before them from one after (done, no sample) */
      ambiguous: 0,
      /** listings whose position Jellyfin may have advanced by an unknown number of seconds
       *  since its report (Jellyfin's automatic progress): not used */
      autoUnknown: 0,
      /** reports first seen after Jellyfin had advanced their position (the seconds taken off) */
      autoSteps: 0,
      /** listings whose position was the previous report's, stepped by Jellyfin's timer over
       *  the new one (see _overwritten): not used */
      overwritten: 0,
      attempts: 0,
      lastAction: '',
      deviceName: '',
      /** @type {string|null} code of the last RemoteError */
      error: null,
    };
    /** Whether a listing ever showed the session as the user's own. */
    this._everOwn = false;
    /** @type {string|null} the room's item, when it is nothing a TV can play */
    this._badItem = null;
  }

  start() {
    if (this._running) return;
    this._running = true;
    this._tickTimer = this.timers.setInterval(() => this.tick(), this.s.tickMs);
    this._schedulePoll(0);
  }

  stop() {
    this._running = false;
    if (this._tickTimer !== null) this.timers.clearInterval(this._tickTimer);
    if (this._pollTimer !== null) this.timers.clearTimeout(this._pollTimer);
    this._tickTimer = null;
    this._pollTimer = null;
    this._abortPlan();
  }

  /** @param {PlaybackState|null} state */
  setState(state) {
    const prev = this.state;
    this.state = state;
    if (state && (!prev || state.seq !== prev.seq)) {
      // A person asked for this: correct at once, whatever the backoff of earlier misses.
      this._misses = 0;
      this._cooldownUntil = -Infinity;
      this._awaitingLanding = false;
      if (this._plan && this._plan.seq !== state.seq) this._abortPlan();
    }
    if (!state) this._abortPlan();
    this.tick();
  }

  _setStatus(status) {
    // While a command goes unanswered, "working on it" is shown as what it is.
    if ((status === 'syncing' || status === 'loading') && this._attempts >= this.s.staleAfterAttempts) status = 'not_responding';
    if (this.sync.status === status) return;
    this.sync.status = status;
    this.onChange(this.sync);
  }

  // ---- polling ----

  _schedulePoll(ms) {
    if (!this._running || FINAL.has(this.sync.status)) return;
    if (this._pollTimer !== null) this.timers.clearTimeout(this._pollTimer);
    this._pollTimer = this.timers.setTimeout(() => {
      this._pollTimer = null;
      this.poll().finally(() => this._schedulePoll(this._nextPollMs()));
    }, ms);
  }

  _nextPollMs() {
    if (this._pollFailures > 0) {
      return Math.min(this.s.maxPollBackoffMs, this.s.pollBackoffMs * 2 ** (this._pollFailures - 1));
    }
    const now = this.clock.now();
    if (now < this._burstUntil) return this.s.burstPollMs;
    // Spread over ±25 % (a low-discrepancy sequence, not a random one): polls on a fixed
    // grid would meet reports made on a fixed period at the same phase every time, and
    // never tighten the clock mapping.
    this._pollSeq = (this._pollSeq + 0.6180339887) % 1;
    return (now < this._fastUntil ? this.s.fastPollMs : this.s.pollMs) * (0.75 + 0.5 * this._pollSeq);
  }

  async poll() {
    if (FINAL.has(this.sync.status)) return;
    let r;
    try {
      r = await this.api.snapshot(this.sessionId);
    } catch (e) {
      this._pollFailures += 1;
      this._fail(e);
      return;
    }
    this.ingest(r.session, r.sendLocal, r.recvLocal);
  }

  /**
   * Bookkeeping for one listing (exported for tests through poll()).
   * @param {RemoteSnapshot|null} session @param {number} sendLocal @param {number} recvLocal
   */
  ingest(session, sendLocal, recvLocal) {
    if (FINAL.has(this.sync.status)) return;
    if (!session && !this._everOwn) {
      // Not in the user's own listing from the start: an id from somewhere else.
      this.sync.error = 'not_your_session';
      this._setStatus('refused');
      this.stop();
      return;
    }
    if (!session) {
      this._pollFailures += 1;
      this.snap = null;
      this._setStatus('gone');
      return;
    }
    if (!this.api.isOwn(session.id)) {
      // Signed in as someone else now: never drive another user's session.
      this.sync.error = 'not_your_session';
      this._setStatus('refused');
      this.stop();
      return;
    }
    this._pollFailures = 0;
    this._everOwn = true;
    this.snap = session;
    this.sync.deviceName = session.deviceName;
    const rtt = recvLocal - sendLocal;
    if (rtt >= 0) this._minRttMs = Math.min(this._minRttMs, rtt);
    const c = session.checkInMs;
    const prevPoll = this._prevListed;
    this._prevListed = Math.max(sendLocal, recvLocal - this._minRttMs);
    const playing = c !== null && session.itemId && session.positionS !== null;
    if (playing && c !== this._seenCheckIn) {
      // The check-in happened after the previous poll's listing was made without it, and
      // before this one was answered: offset ∈ (prevListed − c, recv − c). (Taking the previous
      // poll's send for the lower bound, as before, put a report ~150 ms early when every
      // request spent 300 ms queueing in Jellyfin.) Both bounds are kept; their tightest
      // values over a window give the clock mapping (a poll right after a report tightens the
      // upper bound, one right before it the lower).
      this._seenCheckIn = c;
      this._clockSamples.push({ lo: prevPoll === null ? -Infinity : prevPoll - c, hi: recvLocal - c });
      if (this._clockSamples.length > this.s.clockWindow) this._clockSamples.shift();
    }
    if (playing && (!this.lastReport || c !== this.lastReport.checkInMs)) {
      const prev = this.lastReport;
      if (this._overwritten(session, prev)) {
        // Not this report's position (see _overwritten): a later listing of the same check-in,
        // once Jellyfin's new timer has stepped, or a fresh report will say.
        this.sync.overwritten += 1;
        this._wantReport();
        this.tick();
        return;
      }
      const auto = this._autoSeconds(session, /** @type {number} */ (c), sendLocal, recvLocal);
      if (auto === null) {
        // Jellyfin may have advanced this position by itself (see _autoSeconds) by a number
        // of seconds that cannot be told: not used; a fresh report is asked for, and a later
        // listing of the same report may still tell.
        this.sync.autoUnknown += 1;
        this._wantReport();
        this.tick();
        return;
      }
      if (auto > 0) this.sync.autoSteps += 1;
      this.lastReport = { p: /** @type {number} */ (session.positionS) - auto, paused: session.paused, itemId: /** @type {string} */ (session.itemId), checkInMs: /** @type {number} */ (c), seenLocal: recvLocal, act: null };
      this._matchAct(this.lastReport);
      if (prev && !prev.paused && !session.paused && prev.itemId === session.itemId && c > prev.checkInMs) {
        this._periods.push(c - prev.checkInMs);
        if (this._periods.length > 8) this._periods.shift();
        this.sync.reportPeriodMs = median(this._periods);
      }
      this.sync.reportDelayMs = this.reportDelayMs();
      this._onReport(this.lastReport);
    }
    if (this.sync.status === 'gone') this._setStatus('syncing');
    this.tick();
  }

  /**
   * Whether a listing's position is the PREVIOUS report's, stepped by Jellyfin's automatic
   * progress, under a new check-in. Jellyfin 10.11's timer (SessionInfo.OnProgressTimerCallback)
   * reads the last report it was given and applies it a second further on through
   * OnPlaybackProgress(…, isAutomated: true); a real report only hands the timer its own
   * info at the very end of its handling (StartAutomaticProgress, after the user data is
   * saved). A tick that falls in between writes the old report's position + k seconds over
   * the new one, after the new check-in (and sets LastActivityDate after it). jellyfin-web
   * reports exactly 10 s after its previous report, on the old timer's 10th tick: on a real
   * Jellyfin 10.11.11, 19 of 110 listings seen within a second of their report did not show
   * the position the TV sent, mostly periodic ones (e.g. listed 20.058 s under a check-in
   * whose report said 20.214 s, the previous one having said 10.058 s).
   * @param {RemoteSnapshot} session @param {Report|null} prev the latest report before it
   */
  _overwritten(session, prev) {
    if (!prev || prev.paused || session.paused || prev.itemId !== session.itemId) return false;
    const c = /** @type {number} */ (session.checkInMs);
    // (The stray tick is the old timer's, during the new report's handling: under a second
    // after the check-in. The new timer's first step comes a second after it.)
    const a = session.activityMs;
    if (a === null || a === undefined || !(a > c + 0.5 && a < c + 1000)) return false;
    const k = Math.round(/** @type {number} */ (session.positionS) - prev.p);
    return k >= 1 && Math.abs(/** @type {number} */ (session.positionS) - (prev.p + k)) < 0.0005;
  }

  /**
   * How many seconds Jellyfin itself added to a listed position since the report it comes
   * from, or null when that cannot be told. A real Jellyfin advances a playing session's
   * PositionTicks by one second every 1000 ms after each report, without moving
   * LastPlaybackCheckIn (MediaBrowser.Controller/Session/SessionInfo.cs, StartAutomaticProgress
   * / OnProgressTimerCallback: ProgressIncrement; SessionManager.OnPlaybackProgress(info,
   * isAutomated: true) → UpdateNowPlayingItem(…, updateLastCheckInTime: false)), so a report
   * first seen more than a second after it was made shows a position whole seconds ahead of
   * where the device was at its check-in. A paused report is never advanced.
   *
   * Two witnesses, both checked: (1) each step also sets LastActivityDate (as does any
   * request of the device: SessionManager.LogSessionActivity), so with steps at check-in +
   * 1000·j ms (plus Jellyfin's own processing, autoProgressSlackMs at most) and no step
   * since the latest activity, the steps so far are ⌊(activity − check-in) / 1000⌋ — wrong
   * only if the device made a request within that processing time before the next step;
   * (2) the listing was made between this poll's send and receive, which the clock mapping's
   * bounds place in Jellyfin's time: its age since the check-in bounds the steps from both
   * sides (under a second: none, whatever else). Under load those bounds are loose (seen:
   * over a second wide), so (1) decides and (2) only vetoes.
   * @param {RemoteSnapshot} session @param {number} c its check-in (Jellyfin's clock)
   * @param {number} sendLocal @param {number} recvLocal
   */
  _autoSeconds(session, c, sendLocal, recvLocal) {
    if (session.paused) return 0;
    const { lo, hi } = this._clockBounds();
    // The listing's age since the check-in, in Jellyfin's time: [sendLocal − hi, recvLocal − lo] − c.
    const maxAge = recvLocal - lo - c;
    if (maxAge < 1000) return 0;
    const minAge = sendLocal - hi - c;
    const fewest = Number.isFinite(minAge) ? Math.max(0, Math.floor((minAge - this.s.autoProgressSlackMs) / 1000)) : 0;
    const most = Number.isFinite(maxAge) ? Math.floor(maxAge / 1000) : Infinity;
    if (session.activityMs !== null && session.activityMs !== undefined) {
      // (Jellyfin stamps the activity a moment before the check-in of the same report.)
      const steps = Math.max(0, Math.floor((session.activityMs - c) / 1000));
      return steps >= fewest && steps <= most ? steps : null;
    }
    return fewest === most ? most : null;
  }

  /** The tightest bounds on (local − Jellyfin) over the window, ms (±Infinity when none). */
  _clockBounds() {
    if (!this._clockSamples.length) return { lo: -Infinity, hi: Infinity };
    const hi = Math.min(...this._clockSamples.map((x) => x.hi));
    const lo = Math.max(...this._clockSamples.map((x) => x.lo));
    // Bounds that cross mean one of them is older than a clock change (Jellyfin's clock was
    // set): trust the newest sample alone until the window has refilled.
    if (lo > hi) {
      this._clockSamples = this._clockSamples.slice(-1);
      return this._clockBounds();
    }
    return { lo, hi };
  }

  /** Jellyfin clock → local clock offset, ms (null before the first report). */
  _jfToLocal() {
    if (!this._clockSamples.length) return null;
    const { lo, hi } = this._clockBounds();
    return Number.isFinite(lo) ? (lo + hi) / 2 : hi;
  }

  /** The device → Jellyfin delay we assume before any is measured: half our fastest round
   *  trip to Jellyfin. */
  _deviceDelayMs() {
    return Number.isFinite(this._minRttMs) ? this._minRttMs / 2 : 0;
  }

  /** How long before its check-in a report that answers nothing was made, ms. */
  _lagMs() {
    return this.sync.lagMs ?? this._deviceDelayMs();
  }

  /** How long after Jellyfin answered a command its client's report may come and still be
   *  taken for the answer, ms. */
  _answerWindowMs() {
    return Math.min(this.s.maxLatencyMs, this.s.requestWaitMs + 2 * (this.sync.lagMs ?? 0));
  }

  /**
   * Records a command or report request whose answer can be timed by it. The POST leaves at
   * `sentLocal` (updated by the API when it actually goes) and Jellyfin answers it only after
   * it has pushed the message to the client's socket: the client acted in between.
   * @param {Act['kind']} kind @param {number} target
   * @returns {Act}
   */
  _noteAct(kind, target) {
    /** @type {Act} */
    const a = { kind, sentLocal: this.clock.now(), respLocal: null, target, rep: null, closed: false, failed: false, lagged: false };
    this._acts.push(a);
    if (this._acts.length > 8) this._acts.shift();
    return a;
  }

  /** @param {Act} a */
  _answered(a) {
    a.respLocal = this.clock.now();
    this._lagFrom(a);
  }

  /**
   * A new report answers every open command it fits (a pause a paused report, an unpause a
   * playing one, a seek its target position, a request anything) that left before it was
   * stamped and whose Jellyfin answer is within the answer window; it is timed by the latest
   * of them (jellyfin-web reports a seek under 5 s only when asked: the request made it).
   * The open commands before those it fits are not answered any more.
   * @param {Report} rep
   */
  _matchAct(rep) {
    const cLocal = rep.checkInMs + (this._jfToLocal() ?? 0);
    const win = this._answerWindowMs();
    const tol = this._toleranceMs();
    /** @type {Act|null} */
    let hit = null;
    for (const a of this._acts) {
      if (a.rep || a.closed || a.failed) continue;
      if (a.sentLocal > cLocal + tol) break;
      if (a.respLocal !== null && cLocal - a.respLocal > win) {
        a.closed = true;
        continue;
      }
      const fits = a.kind === 'request' || (a.kind === 'pause' && rep.paused) || (a.kind === 'unpause' && !rep.paused)
        || (a.kind === 'seek' && (rep.p - a.target) * 1000 >= -tol && (rep.p - a.target) * 1000 <= tol + Math.max(0, cLocal - a.sentLocal));
      if (fits) {
        a.rep = rep;
        hit = a;
      } else if (!hit) {
        a.closed = true;
      }
    }
    if (!hit) return;
    rep.act = hit;
    this._lagFrom(hit);
  }

  /**
   * How long before its check-in the report answering `a` was made, ms: Jellyfin took the
   * report in about as long as it took to answer our own POST (one request to the same
   * server, as busy), and no longer than from its answer to the check-in (it pushes a
   * command to the client before it answers us).
   * @param {Act} a @param {number} cLocal the report's check-in, local
   */
  _actLagMs(a, cLocal) {
    return a.respLocal === null ? this._lagMs() : Math.max(0, Math.min(cLocal - a.respLocal, a.respLocal - a.sentLocal));
  }

  /** A report lag sample from an answered command, once both ends are known. @param {Act} a */
  _lagFrom(a) {
    if (!a.rep || a.rep.act !== a || a.respLocal === null || a.lagged) return;
    a.lagged = true;
    const cLocal = a.rep.checkInMs + (this._jfToLocal() ?? 0);
    this._lags.push(this._actLagMs(a, cLocal));
    if (this._lags.length > this.s.noiseWindow) this._lags.shift();
    this.sync.lagMs = median(this._lags);
  }

  /** How old a report is when it enters our estimate, at best (shown; for the docs). */
  reportDelayMs() {
    if (!this.lastReport) return null;
    const off = this._jfToLocal();
    if (off === null) return null;
    // The uncertainty of the mapping (half the bounds' gap) plus the assumed device delay.
    return Math.max(0, this._clockBounds().hi - off) + this._lagMs();
  }

  /**
   * Local time at which the device was where the report says: its check-in less how long
   * Jellyfin took to take it in. For a report that answers a command or a request, that is
   * measured on the command itself (_actLagMs), and the report was made after the POST
   * left; any other report is placed with the median of those (a busy Jellyfin stamps a
   * report hundreds of ms after the client made it: seen 40–580 ms at load 8).
   * @param {Report} rep
   */
  _reportLocal(rep) {
    const cLocal = rep.checkInMs + (this._jfToLocal() ?? 0);
    const a = rep.act;
    if (a) return Math.max(a.sentLocal, cLocal - this._actLagMs(a, cLocal));
    return cLocal - this._lagMs();
  }

  /**
   * The device's position at local time `local`: what the last command should have done once
   * it is due and no report made after it has been accepted, else the latest accepted report.
   * @param {number} [local]
   */
  estimate(local = this.clock.now()) {
    const ex = this._expect;
    if (ex && this._attempts === 0 && local >= ex.effectAt) return at(ex.traj, local);
    const b = this._belief();
    if (!b || !this.snap || this.snap.itemId !== this._beliefItem) return null;
    return at(b, local);
  }

  // ---- learning from reports ----

  /** @returns {Traj|null} the course of the latest accepted report */
  _belief() {
    const r = this._beliefRep;
    if (!r) return null;
    const tr = this._trajOf(r);
    // A report made at the commanded position before the picture moved: it moves one
    // learned latency after the command, as far as we know, not when the report was made.
    const mc = this._moveCmd;
    if (mc && mc.provisional && tr.moving && r === mc.rep) {
      tr.t0 = Math.max(tr.t0, mc.sentLocal + this._latency(mc.kind));
    }
    return tr;
  }

  /** @param {Report} r @returns {Traj} */
  _trajOf(r) {
    return { p: this._posOf(r), t0: this._reportLocal(r), moving: !r.paused };
  }

  /**
   * A report's position, corrected for how far a playing device's reports lag its picture
   * (`sync.biasMs`, measured by pauses: see _measureBias). A paused position is exact.
   * @param {Report} r
   */
  _posOf(r) {
    return r.paused ? r.p : r.p + (this.sync.biasMs ?? 0) / 1000;
  }

  /**
   * The first report after a pause, with nothing else sent since and a playing report before
   * it: a paused position is exact, so its distance from where the playing reports said the
   * device was is how far those lag the picture (the position read before the report is made,
   * the report's trip to Jellyfin). The estimate of a playing device is moved by it.
   * @param {Report} rep
   */
  _measureBias(rep) {
    const prev = this._beliefRep;
    // (The playing report must be the course the pause interrupted: accepted after every
    // command before the pause, and nothing sent since the pause.)
    if (!rep.paused || !prev || prev.paused || prev.itemId !== rep.itemId || this._pauseCount !== this._cmdCount
      || this._cmdCountAtBelief !== this._pauseCount - 1 || this._acceptedSinceCmd !== 0) return;
    const t = this._reportLocal(rep);
    const ms = (rep.p - /** @type {number} */ (at(this._trajOf(prev), t))) * 1000 + (this.sync.biasMs ?? 0);
    if (ms < -this._toleranceMs() || ms > this.s.maxBiasMs) {
      this.sync.offTarget += 1; // it did not pause on the course we knew
      return;
    }
    this._biases.push(ms);
    if (this._biases.length > this.s.latencyWindow) this._biases.shift();
    const was = this.sync.biasMs ?? 0;
    this.sync.biasMs = median(this._biases);
    // Latency samples taken from playing reports carried the old correction: move them by
    // the change (a sample = report time − how far the picture moved − send time).
    const d = this.sync.biasMs - was;
    for (const kind of /** @type {LatencyKind[]} */ (['load', 'seek', 'unpause'])) {
      const xs = this._samples[kind];
      if (!xs.length) continue;
      for (let i = 0; i < xs.length; i++) xs[i] = Math.max(0, xs[i] - d);
      this._learn(kind, xs.pop(), false);
    }
  }

  /** How far from a trajectory a report may be and still be on it, ms. */
  _toleranceMs() {
    return Math.max(this.s.reportToleranceMs, 2 * (this.sync.noiseMs ?? 0));
  }

  /** @param {LatencyKind} kind */
  _latency(kind) {
    const key = kind === 'load' ? 'loadMs' : kind === 'seek' ? 'seekMs' : 'unpauseMs';
    if (this._samples[kind].length) return this.sync[key];
    // A first guess: a seek or an unpause is not slower than loading the whole item, and
    // takes at least what a pause took (the command's trip to the device).
    const guess = kind === 'seek' ? this.s.initialSeekLatencyMs : kind === 'unpause' ? this.s.initialUnpauseLatencyMs : this.s.initialLoadLatencyMs;
    if (kind === 'load') return guess;
    if (this._pauseMs !== null) return Math.min(guess, this._samples.load.length ? this.sync.loadMs : Infinity, this._pauseMs);
    return this._samples.load.length ? Math.min(guess, this.sync.loadMs) : guess;
  }

  /**
   * A latency sample for the moving command `mc` from a report, or `replace` the one an earlier
   * report gave for the same command (the later one knows better: the picture may have been
   * frozen when the first was made).
   * @param {LatencyKind} kind @param {number} ms @param {boolean} replace
   */
  _learn(kind, ms, replace) {
    const xs = this._samples[kind];
    if (replace && xs.length) xs[xs.length - 1] = ms;
    else xs.push(ms);
    if (xs.length > this.s.latencyWindow) xs.shift();
    const key = kind === 'load' ? 'loadMs' : kind === 'seek' ? 'seekMs' : 'unpauseMs';
    /** @type {any} */ (this.sync)[key] = median(xs);
    if (kind !== 'load' && xs.length >= 2) {
      // Half the range the samples span, widened for how few they are: (n+1)/(n−1) makes
      // the range of n draws an unbiased estimate of the whole range (uniform jitter), so two
      // close samples do not pass for a precise device.
      // Under four samples, never tighter than the first assumption.
      const n = xs.length;
      const est = (Math.max(...xs) - Math.min(...xs)) / 2 * (n + 1) / (n - 1);
      this.sync.spreadMs[kind] = n < 4 ? Math.max(est, this.s.initialSpreadMs) : est;
    }
    this._updateThreshold();
  }

  /** Threshold and method from what the device has proven. */
  _updateThreshold() {
    const s = this.s;
    const spread = (k) => this.sync.spreadMs[k] ?? (this._samples[k].length ? s.initialSpreadMs : null);
    // A seek that takes L ms is mostly a rebuffer, and a rebuffer's length varies with the
    // stream: taken to spread by L/2 at least until its samples say more.
    const seekKnown = this._samples.seek.length > 0;
    const seek = seekKnown ? Math.max(spread('seek') ?? 0, this._latency('seek') / 2) : null;
    const resync = spread('unpause');
    // Seek (one command, the shortest freeze) unless Pause/Seek/Unpause lands clearly tighter,
    // or seeks are known to be loose and the other has not been tried (then it is tried: its
    // spread is assumed small until learned).
    // With hysteresis: a few samples make noisy spreads, and each switch costs tries.
    const resyncSpread = resync ?? s.initialSpreadMs;
    let method = this.sync.method;
    if (this._seekMissed) method = 'pause_seek_unpause';
    else if (method === 'seek' && seek !== null && resyncSpread < seek / 2) method = 'pause_seek_unpause';
    else if (method === 'pause_seek_unpause' && seek !== null && seek < resyncSpread / 2) method = 'seek';
    // A new method deserves its own tries before the device is judged limited.
    if (method !== this.sync.method) this._misses = 0;
    this.sync.method = method;
    const landing = this.sync.method === 'seek' ? (seek ?? s.initialSpreadMs) : (resync ?? s.initialSpreadMs);
    const known = this.sync.spreadMs.seek !== null || this.sync.spreadMs.unpause !== null || this.sync.noiseMs !== null;
    this.sync.thresholdMs = known ? Math.max(s.minThresholdMs, s.precisionFactor * Math.max(landing, this.sync.noiseMs ?? 0)) : s.initialThresholdMs;
  }

  /** @param {Report} rep */
  _accept(rep) {
    this._measureBias(rep);
    const t = this._reportLocal(rep);
    const prev = this._belief();
    // Report noise: two reports with no command between, both playing the same item.
    // (From the second report after a command on: the first may have been made before the
    // picture moved, which is what the refined latency sample is for, not noise.)
    if (prev && prev.moving && !rep.paused && this._cmdCountAtBelief === this._cmdCount && this._acceptedSinceCmd >= 2 && this._beliefItem === rep.itemId) {
      this._residuals.push(Math.abs((this._posOf(rep) - /** @type {number} */ (at(prev, t))) * 1000));
      if (this._residuals.length > this.s.noiseWindow) this._residuals.shift();
      if (this._residuals.length >= 3) {
        this.sync.noiseMs = quantile(this._residuals, 0.9);
        this._updateThreshold();
      }
    }
    this._beliefRep = rep;
    this._beliefItem = rep.itemId;
    this._acceptedSinceCmd += 1;
    this._cmdCountAtBelief = this._cmdCount;
    // Every later report of the same moving command measures its latency again: the sample
    // is their mean (a first one made before the picture moved was only a lower bound, and
    // gives way to the first real one).
    const mc = this._moveCmd;
    if (mc && !rep.paused && t >= mc.sentLocal) {
      const moved = (this._posOf(rep) - mc.from) * 1000;
      const ms = (t - moved) - mc.sentLocal;
      const still = Math.abs(rep.p - mc.from) * 1000 < 1; // made before the picture moved: says nothing yet
      if (!still && ms >= -this._toleranceMs() && ms <= t - mc.sentLocal + this._toleranceMs() && ms <= this.s.maxLatencyMs) {
        if (mc.provisional) {
          mc.sum = 0;
          mc.n = 0;
          mc.provisional = false;
        }
        mc.sum += Math.max(0, ms);
        mc.n += 1;
        this._learn(mc.kind, mc.sum / mc.n, true);
      } else if (!still) {
        // Not on that command's course any more (someone used the TV's own remote): its
        // sample stays as it was.
        this.sync.offTarget += 1;
        this._moveCmd = null;
      }
    }
    // A report answers an open request for one.
    const rq = this._requests;
    if (rq.open !== null && rq.act && rep.act === rq.act) {
      rq.answered += 1;
      rq.open = null;
    }
    rq.wantSince = null;
  }

  /** @param {Report} rep */
  _onReport(rep) {
    const p = this.pending;
    const t = this._reportLocal(rep);
    if (!p) {
      if (!this._expect || t >= this._expect.effectAt - this._toleranceMs()) {
        this._expect = null;
        this._accept(rep);
        this._afterLanding();
      }
      return;
    }
    if (t < p.sentLocal) return; // made before our command: says nothing about it (the command's expectation stands)
    const tol = this._toleranceMs();
    const elapsed = t - p.sentLocal;
    const old = p.before && 'checkInMs' in p.before ? this._trajOf(p.before) : /** @type {Traj|null} */ (p.before);
    // Positions of a playing device corrected for how its reports lag (a paused one is exact).
    const rp = this._posOf(rep);
    const oldDiff = old ? Math.abs((rp - /** @type {number} */ (at(old, t))) * 1000) : Infinity;
    /** @type {null|{kind: LatencyKind, ms: number, from: number}} */
    let sample = null;
    /** @type {'done'|'wait'|'stale'|'off'} */
    let verdict = 'wait';
    if (p.kind === 'play_now') {
      if (rep.itemId === p.itemId) {
        verdict = 'done';
        if (!rep.paused) {
          const ms = (t - (rp - p.target) * 1000) - p.sentLocal;
          if (ms >= -tol && ms <= elapsed + tol) sample = { kind: 'load', ms, from: p.target };
          else verdict = 'off'; // it started somewhere else (its own resume point, a keyframe)
        }
      }
    } else if (p.kind === 'pause') {
      verdict = rep.paused ? 'done' : 'wait';
      // A pause reported at once (made when it took effect) measures the device's command
      // latency: what a first guess of seek and unpause latencies starts from.
      if (rep.paused && elapsed >= 0 && elapsed <= this.s.maxLatencyMs) this._pauseMs = this._pauseMs === null ? elapsed : Math.min(this._pauseMs, elapsed);
    } else if (p.kind === 'unpause') {
      if (!rep.paused) {
        const ms = (t - (rp - /** @type {number} */ (p.fromPosition)) * 1000) - p.sentLocal;
        if (ms >= -tol && ms <= elapsed + tol) {
          verdict = 'done';
          sample = { kind: 'unpause', ms, from: /** @type {number} */ (p.fromPosition) };
        } else {
          verdict = 'off'; // it was not paused where we thought
        }
      }
    } else if (p.kind === 'seek' && !p.moving) {
      const d = Math.abs(rp - p.target) * 1000;
      if (d <= tol) verdict = 'done';
      else if (rep.paused && oldDiff <= tol) verdict = 'stale';
      else verdict = 'off';
    } else if (p.kind === 'seek') {
      if (rep.paused) {
        verdict = 'off';
      } else {
        const ms = elapsed - (rp - p.target) * 1000;
        const onNew = ms >= -tol && ms <= elapsed + tol;
        const newDiff = Math.abs(ms - p.aimMs);
        if (onNew && oldDiff <= tol && newDiff <= tol) {
          // A seek too small to tell before from after: done, but no sample to learn from.
          verdict = 'done';
          this.sync.ambiguous += 1;
        } else if (oldDiff <= tol && (!onNew || newDiff > oldDiff)) {
          // Better explained by where it was going before the seek: made before the seek took
          // effect, or reported with the pre-seek position.
          verdict = 'stale';
        } else if (onNew) {
          verdict = 'done';
          sample = { kind: 'seek', ms, from: p.target };
        } else verdict = 'off';
      }
    }
    if (verdict === 'wait') return;
    if (verdict === 'stale') {
      this.sync.stale += 1;
      // The old course, as the device itself now reports it.
      p.before = rep;
      this._wantReport();
      return;
    }
    if (verdict === 'off') this.sync.offTarget += 1;
    // This report shows the command's effect: the reports from it on are fresh.
    this._settledAfter = Math.min(this._settledAfter, t);
    this.pending = null;
    this._attempts = 0;
    this.sync.attempts = 0;
    this._nextCommandAt = -Infinity;
    this._expect = null;
    this._accept(rep);
    if (sample && sample.ms <= this.s.maxLatencyMs) {
      // A report at the commanded position itself may have been made before the picture
      // moved (an unpause is often reported at once, the picture moving a little later): its
      // sample is a lower bound, used until the next report refines it; no correction is
      // decided on it (see `fresh`), and a report is asked for.
      // (Not PlayNow's: a client reports PlaybackStart once it plays.)
      const provisional = sample.kind !== 'load' && (rep.p - sample.from) * 1000 < 1;
      this._moveCmd = { kind: sample.kind, sentLocal: p.sentLocal, from: sample.from, provisional, sum: Math.max(0, sample.ms), n: 1, rep };
      this._learn(sample.kind, Math.max(0, sample.ms), false);
      if (provisional) this._wantReport();
    } else if (verdict === 'off') {
      this._moveCmd = null;
    }
    this._afterLanding();
  }

  /**
   * After a correction, on the first report that shows where it landed: inside the threshold,
   * or a miss. Misses in a row by a correction whose aim was already learned (not a first
   * guess) make the device limited: it is left alone inside the error it reached.
   */
  _afterLanding() {
    if (!this._awaitingLanding || this.pending || this._plan || this._expect) return;
    const e = this._errorNow();
    if (e === null) return;
    this._awaitingLanding = false;
    const abs = Math.abs(e);
    const s = this.s;
    if (abs < this.sync.thresholdMs) {
      this._misses = 0;
      if (this.sync.limitMs !== null) this.sync.limitMs = null; // it can do better after all
      return;
    }
    // A seek aimed with a learned latency that misses by far: this device's seeks land loosely, and
    // a pause, a seek while paused and a timed unpause will do better (from now on).
    if (this._lastMethod === 'seek' && this._provenAim && !this._seekMissed && abs >= 2 * this.sync.thresholdMs) {
      this._seekMissed = true;
      this._updateThreshold();
      return;
    }
    // A miss by a first guess is how the guess is corrected; but a device whose corrections
    // all miss before anything is learned (they land nowhere near) is limited too, later.
    this._misses += this._provenAim ? 1 : 0.5;
    if (this._misses >= s.limitAfterMisses) {
      this.sync.limitMs = Math.max(this.sync.thresholdMs, s.limitFactor * abs);
      const extra = this._misses - s.limitAfterMisses;
      this._cooldownUntil = this.clock.now() + Math.min(s.maxSeekBackoffMs, s.seekCooldownMs * 2 ** extra);
    }
  }

  /** How far the last guessed aim was from the latency since learned, ms (0 if unknown). */
  _guessOffMs() {
    const a = this._aim;
    return a && this._samples[a.kind].length ? Math.abs(this._latency(a.kind) - a.ms) : 0;
  }

  /** The device's error against the room now, ms, or null. */
  _errorNow() {
    const now = this.clock.now();
    const est = this.estimate(now);
    if (est === null || !this.state) return null;
    return (est - this._room(now, !this._estimateMoving())) * 1000;
  }

  /** Whether the estimate says the device is moving. */
  _estimateMoving() {
    const ex = this._expect;
    if (ex && this._attempts === 0 && this.clock.now() >= ex.effectAt) return ex.traj.moving;
    return Boolean(this._beliefRep && !this._beliefRep.paused);
  }

  /**
   * The room's position at local time `local` (seconds). `clamped`: the formula (held before
   * `at`); otherwise extrapolated through `at`: where a device that keeps playing must be now
   * to be right once the room moves.
   * @param {number} local @param {boolean} [clamped]
   */
  _room(local, clamped = true) {
    const st = /** @type {PlaybackState} */ (this.state);
    if (!st.playing) return st.position;
    const dt = (this.clock.serverNow(local) - st.at) / 1000 * st.rate;
    return st.position + (clamped ? Math.max(0, dt) : dt);
  }

  /** @param {any} e */
  _fail(e) {
    const code = e && e.code;
    this.sync.error = code || 'remote_failed';
    if (code === 'not_your_session') {
      this._setStatus('refused');
      this.stop();
    } else if (code === 'remote_signed_out') {
      this._setStatus('signed_out');
      this.stop();
    } else if (code === 'remote_gone') {
      this._setStatus('gone');
    } else if (code === 'remote_bad_item') {
      // Not a Jellyfin item (a room on a plain URL): nothing a TV can play; wait for another.
      this._badItem = this.state?.media?.id ?? null;
      this.pending = null;
      this._setStatus('bad_item');
    }
  }

  // ---- asking for reports ----

  /** A report made from now on is wanted. */
  _wantReport() {
    if (this._requests.wantSince === null) this._requests.wantSince = this.clock.now();
  }

  _canRequest() {
    const rq = this._requests;
    const snap = this.snap;
    if (!snap || !snap.canRequestReport || !snap.repeatMode || typeof this.api.requestReport !== 'function' || this.sync.status === 'gone') return false;
    // A periodic report falls inside a request's window by chance (window / period of the
    // time): a device is given up on once it has answered no better than halfway between
    // that and always.
    const n = rq.answered + rq.unanswered;
    const chance = Math.min(1, this._answerWindowMs() / (this.sync.reportPeriodMs ?? Infinity));
    return !(rq.unanswered >= this.s.maxUnansweredRequests && rq.answered / n < (1 + chance) / 2);
  }

  /** Sends a report request when one is wanted and allowed. @param {number} now */
  _maybeRequest(now) {
    const rq = this._requests;
    const s = this.s;
    // Unanswered: no report within the answer window of Jellyfin's answer to the request.
    const ra = rq.act;
    if (rq.open !== null && (!ra || ra.failed || ra.closed || (ra.respLocal !== null && now - ra.respLocal > this._answerWindowMs())
      || (ra.respLocal === null && now - rq.open > s.maxLatencyMs))) {
      if (!ra || !ra.rep) {
        rq.unanswered += 1;
        rq.open = null;
      }
    }
    // A command that should have taken effect by now and no report made after it.
    const ex = this._expect;
    if (ex && now >= ex.effectAt + s.requestAfterMs) this._wantReport();
    if (rq.wantSince === null || rq.open !== null || now - rq.lastLocal < s.requestSpacingMs || !this._canRequest()) return;
    rq.lastLocal = now;
    rq.open = now;
    this.sync.requests += 1;
    this._fastUntil = now + s.fastPollForMs;
    this._burstUntil = now + s.burstForMs;
    const mode = /** @type {string} */ (/** @type {RemoteSnapshot} */ (this.snap).repeatMode);
    const act = this._noteAct('request', 0);
    rq.act = act;
    this.api.requestReport(this.sessionId, mode, (/** @type {number} */ t) => { act.sentLocal = t; })
      .then(() => this._answered(act), (e) => { act.failed = true; this._fail(e); });
    if (this._running) this._schedulePoll(s.burstPollMs);
  }

  // ---- deciding ----

  idle() {
    return this._inFlight || Promise.resolve();
  }

  /** How long to wait for the answer to the k-th attempt of a command. */
  _ackWaitMs(k) {
    const base = Math.max(this.s.ackTimeoutMs, 1.5 * (this.sync.reportPeriodMs ?? 0));
    return Math.min(this.s.maxRetryMs, base * 2 ** k);
  }

  /**
   * Sends one command. `track`: it becomes the pending command a report must answer (the
   * steps inside a Pause/Seek/Unpause correction are not tracked one by one).
   * @param {Pending['kind']} kind @param {(onSent: (local: number) => void) => Promise<void>} send
   * @param {{target?: number, itemId?: string, fromPosition?: number, correction?: boolean,
   *   moving?: boolean, track?: boolean}} o
   */
  _send(kind, send, o) {
    const now = this.clock.now();
    const st = /** @type {PlaybackState} */ (this.state);
    const target = o.target ?? 0;
    const aimMs = kind === 'seek' && o.moving ? this._latency('seek') : kind === 'unpause' ? this._latency('unpause') : kind === 'play_now' ? this._latency('load') : 0;
    // The course before this command: the last one's expectation while it stands, else the
    // latest report (kept as the report, so that its time follows the clock mapping).
    const ex = this._expect;
    /** @type {Traj|Report|null} */
    const before = ex && this._attempts === 0 && now >= ex.effectAt ? ex.traj : this._beliefRep;
    const beforeTraj = before && 'checkInMs' in before ? this._trajOf(before) : /** @type {Traj|null} */ (before);
    const effectAt = now + aimMs;
    const latencyKind = kind === 'play_now' ? 'load' : kind === 'unpause' ? 'unpause' : kind === 'seek' && o.moving ? 'seek' : null;
    if (latencyKind) {
      this._guessedAim = this._samples[latencyKind].length === 0;
      this._aim = { kind: latencyKind, ms: aimMs };
    }
    /** @type {Traj} */
    let traj;
    if (kind === 'pause') traj = { p: beforeTraj ? /** @type {number} */ (at(beforeTraj, effectAt)) : target, t0: effectAt, moving: false };
    else if (kind === 'unpause') traj = { p: o.fromPosition ?? target, t0: effectAt, moving: true };
    else if (kind === 'seek') traj = { p: target, t0: effectAt, moving: Boolean(o.moving) };
    else traj = { p: target, t0: effectAt, moving: true };
    if (o.track !== false) {
      this.pending = {
        kind, sentLocal: now, target, itemId: o.itemId, fromPosition: o.fromPosition, seq: st.seq,
        waitMs: this._ackWaitMs(this._attempts), correction: Boolean(o.correction), aimMs, before, expect: traj,
        moving: Boolean(o.moving),
      };
    }
    const expect = { traj, itemId: kind === 'play_now' ? (o.itemId ?? null) : (this.snap?.itemId ?? null), effectAt };
    this._expect = expect;
    this._moveCmd = null;
    this._cmdCount += 1;
    this._lastCmdSeq = st.seq;
    this._acceptedSinceCmd = 0;
    if (kind === 'pause') this._pauseCount = this._cmdCount;
    this._settledAfter = effectAt;
    this._fastUntil = effectAt + this.s.fastPollForMs;
    this._burstUntil = effectAt + this.s.burstForMs;
    this.sync.commands += 1;
    if (kind === 'seek') this.sync.seeks += 1;
    this.sync.lastAction = kind === 'seek' || kind === 'play_now' ? `${kind} ${target.toFixed(3)}` : kind;
    // Its answer is timed by it (not PlayNow's: the start is reported once loaded).
    const act = kind === 'play_now' ? null : this._noteAct(kind, target);
    const pend = this.pending;
    const flight = send((t) => {
      // (Aims keep the decision's time: the listing before the POST is part of the latency.)
      if (act) act.sentLocal = t;
    }).then(() => {
      if (act) this._answered(act);
    }).catch((e) => {
      if (act) act.failed = true;
      // Refused before it reached the device: nothing to expect from it.
      if (this._expect === expect && e?.code !== 'remote_unreachable' && e?.code !== 'remote_failed') this._expect = null;
      if (o.track !== false && this.pending && this.pending === pend && e?.code !== 'remote_unreachable' && e?.code !== 'remote_failed') this.pending = null;
      this._fail(e);
    }).finally(() => {
      if (this._inFlight === flight) this._inFlight = null;
    });
    this._inFlight = flight;
    // Poll soon: the report that answers this comes quickly on most devices.
    if (this._running) this._schedulePoll(Math.min(this.s.burstPollMs, Math.max(0, effectAt - now)));
  }

  _abortPlan() {
    if (this._plan && this._plan.timer !== null) this.timers.clearTimeout(this._plan.timer);
    this._plan = null;
  }

  /**
   * Runs `fn` at local time `when` on its own timer (not on a tick: an unpause aimed to the
   * millisecond must not wait up to a tick). The plan belongs to the current room state.
   * @param {string} kind @param {number} when @param {() => void} fn
   */
  _planAt(kind, when, fn) {
    const st = /** @type {PlaybackState} */ (this.state);
    if (this._plan && this._plan.timer !== null) this.timers.clearTimeout(this._plan.timer);
    const plan = { seq: st.seq, timer: null, kind };
    this._plan = plan;
    plan.timer = this.timers.setTimeout(() => {
      plan.timer = null;
      if (this._plan !== plan || !this.state || this.state.seq !== plan.seq || FINAL.has(this.sync.status) || this.sync.status === 'gone') {
        if (this._plan === plan) this._plan = null;
        return;
      }
      this._plan = null;
      fn();
    }, Math.max(0, when - this.clock.now()));
  }

  /** Spacing of a correction's commands: three quick pauses' worth, within planStepMs. */
  _stepMs() {
    return this._pauseMs === null ? this.s.planStepMs : Math.min(this.s.planStepMs, Math.max(this.s.minPlanStepMs, 3 * this._pauseMs));
  }

  /** Local time of a server time. @param {number} server */
  _localOf(server) {
    const now = this.clock.now();
    return now + (server - this.clock.serverNow(now));
  }

  /**
   * A paused device and a playing room: Unpause sent one learned latency before the device
   * must move, from a position it has (or is sent to, by a Seek while paused, when it is off
   * by more than the threshold or the start is too close to reach it otherwise).
   * @param {number} from where the device is paused @param {boolean} correction
   */
  _planStart(from, correction) {
    const s = this.s;
    const st = /** @type {PlaybackState} */ (this.state);
    const now = this.clock.now();
    const unpauseMs = this._latency('unpause');
    const atLocal = this._localOf(st.at);
    const u0 = Math.max(atLocal - unpauseMs, now);
    const p0 = this._room(u0 + unpauseMs);
    if (Math.abs(p0 - from) * 1000 <= this.sync.thresholdMs) {
      this._planAt('unpause', u0, () => this._send('unpause', (f) => this.api.unpause(this.sessionId, f), { target: p0, fromPosition: from, correction }));
      return;
    }
    // Seek while paused first, and leave it time to land (its latency, at least one step).
    const u = Math.max(atLocal - unpauseMs, now + Math.max(this._stepMs(), this._latency('seek')));
    const p = this._room(u + unpauseMs);
    this._send('seek', (f) => this.api.seek(this.sessionId, p, f), { target: p, track: false, correction });
    this._planAt('unpause', u, () => this._send('unpause', (f) => this.api.unpause(this.sessionId, f), { target: p, fromPosition: p, correction }));
  }

  tick() {
    const st = this.state;
    const s = this.s;
    if (FINAL.has(this.sync.status) || this.sync.status === 'gone') return;
    if (!st || !st.media) {
      this.sync.errorMs = null;
      this._setStatus('idle');
      return;
    }
    const snap = this.snap;
    if (!snap) return; // nothing known about the device yet
    const now = this.clock.now();
    const id = this.sessionId;
    const est = this.estimate(now);
    const moving = this._estimateMoving();
    // A playing device is measured against where it must be to be right once the room
    // moves (the formula extrapolated through a scheduled `at`); a paused one against it held.
    this.sync.errorMs = est === null ? null : (est - this._room(now, !(moving && st.playing))) * 1000;
    this._maybeRequest(now);
    if (this._plan) {
      this._setStatus('syncing');
      return;
    }

    // An unanswered command: wait for its answer; after its wait, count a failed attempt and
    // let the decision below send again (the wait doubles each time).
    if (this.pending) {
      if (now - this.pending.sentLocal < this.pending.waitMs) {
        if (this.pending.seq === st.seq) {
          this._setStatus(this._attempts >= s.staleAfterAttempts ? 'not_responding' : this.pending.kind === 'play_now' ? 'loading' : 'syncing');
          return;
        }
        // The room changed meanwhile (a person paused, seeked): that is worth a command now,
        // and the old command's answer no longer matters (a loading item still does).
        if (this.pending.kind !== 'play_now') this.pending = null;
      } else {
        this._attempts += 1;
        this.sync.attempts = this._attempts;
        this.pending = null;
        this._expect = null;
        // Unanswered: decide again on what the reports say (the resend goes out now).
        this._settledAfter = -Infinity;
        this._moveCmd = null;
      }
    }
    if (this._attempts >= s.staleAfterAttempts) this._setStatus('not_responding');
    if (this._inFlight || now < this._nextCommandAt) return;

    const wanted = st.media.id;
    if (wanted === this._badItem) {
      this._setStatus('bad_item');
      return;
    }
    if (snap.itemId !== wanted && !(this.pending && this.pending.kind === 'play_now' && this.pending.itemId === wanted)) {
      const start = st.playing ? this._room(now + this._latency('load'), false) : st.position;
      this._send('play_now', (f) => this.api.playNow(id, wanted, Math.max(0, start), f), { target: Math.max(0, start), itemId: wanted });
      this._setStatus(this._attempts >= s.staleAfterAttempts ? 'not_responding' : 'loading');
      return;
    }
    const rep = this.lastReport;
    const belief = this._belief();
    if (!rep || rep.itemId !== wanted || snap.itemId !== wanted || est === null || !belief) {
      this._setStatus('loading');
      return;
    }
    const reportAge = now - this._reportLocal(rep);
    const staleReport = !rep.paused && reportAge > Math.max(s.staleReportMs, 3 * (this.sync.reportPeriodMs ?? 0));
    const errMs = /** @type {number} */ (this.sync.errorMs);
    const provisional = Boolean(this._moveCmd && this._moveCmd.provisional);
    const fresh = this._expect === null && !provisional && belief.t0 >= this._settledAfter - this._toleranceMs();

    if (!st.playing) {
      if (moving) {
        this._send('pause', (f) => this.api.pause(id, f), { target: st.position });
        return;
      }
      if (fresh && Math.abs(errMs) > this.sync.thresholdMs && this._pausedSeekSeq !== st.seq) {
        // Once per state: a device that cannot seek is not nagged.
        this._pausedSeekSeq = st.seq;
        this._send('seek', (f) => this.api.seek(id, st.position, f), { target: st.position });
        return;
      }
      this._setStatus(this._attempts > 0 ? 'not_responding' : 'in_sync');
      return;
    }

    if (!moving) {
      // Paused where the estimate says (reported, or what the last command did): start from there.
      this._planStart(/** @type {number} */ (est), false);
      this._setStatus('syncing');
      return;
    }

    // Playing on both sides: correct only on a report made after our last command took
    // effect, and only when the error is worth a visible jump.
    if (staleReport) {
      this._setStatus('not_responding');
      return;
    }
    // (A new room state is acted on at once: the last command's answer no longer matters.)
    if (!fresh && this._lastCmdSeq === st.seq) {
      this._wantReport();
      this._setStatus('syncing');
      return;
    }
    const absErr = Math.abs(errMs);
    const limit = this.sync.limitMs;
    // Right after a command aimed with a first guess, now that its latency is known, the
    // error is mostly the guess's: worth one re-aim down to the estimate's own noise — on a
    // device whose seeks are quick (a latency of L ms cannot spread by much more than L).
    const reaim = this._guessedAim && limit === null && absErr >= s.minThresholdMs && this._guessOffMs() >= s.minThresholdMs
      && this._samples.seek.length > 0 && this._latency('seek') < this.sync.thresholdMs;
    // A limited device gets one more try per room state (a person asked for something).
    const probe = limit !== null && absErr >= this.sync.thresholdMs && absErr < limit && this._probeSeq !== st.seq;
    if (absErr >= Math.max(this.sync.thresholdMs, limit ?? 0) || probe || reaim) {
      if (now < this._cooldownUntil && !probe) {
        this._setStatus(limit !== null ? 'limited' : 'syncing');
        return;
      }
      // An error under twice the threshold may be one report's noise (its trip to Jellyfin,
      // the clock mapping): it is acted on only once a second report shows it too (asked
      // for, where the device answers).
      if (absErr < 2 * this.sync.thresholdMs && !(this._localOf(st.at) > now)) {
        const rid = /** @type {Report} */ (this._beliefRep).checkInMs;
        if (!this._suspect || this._suspect.sign !== Math.sign(errMs)) this._suspect = { rid, sign: Math.sign(errMs) };
        if (this._suspect.rid === rid) {
          this._wantReport();
          this._setStatus(limit !== null ? 'limited' : 'in_sync');
          return;
        }
      }
      this._suspect = null;
      if (probe) this._probeSeq = st.seq;
      this.sync.corrections += 1;
      this._awaitingLanding = true;
      // A room that starts later (a seek scheduled `at` ahead): hold the new frame until then,
      // as every member does, rather than play through the lead from before it.
      const holdForAt = this._localOf(st.at) - now > this._stepMs() + this._latency('unpause');
      this._lastMethod = this.sync.method === 'seek' && !holdForAt ? 'seek' : 'pause_seek_unpause';
      this._provenAim = this._samples[this._lastMethod === 'seek' ? 'seek' : 'unpause'].length >= 2;
      if (this.sync.method === 'pause_seek_unpause' || holdForAt) {
        this._send('pause', (f) => this.api.pause(id, f), { target: /** @type {number} */ (est), track: false, correction: true });
        this._planAt('seek', now + this._stepMs(), () => this._planStart(/** @type {number} */ (this.estimate()), true));
      } else {
        const aim = this._room(now + this._latency('seek'), false);
        this.sync.correctionSeeks += 1;
        this._send('seek', (f) => this.api.seek(id, aim, f), { target: aim, correction: true, moving: true });
      }
      this._setStatus('syncing');
      return;
    }
    this._suspect = null;
    this._setStatus(limit !== null && absErr >= this.sync.thresholdMs ? 'limited' : 'in_sync');
  }

  report() {
    const est = this.estimate();
    const e = this.sync.errorMs;
    return {
      position: est ?? (this.state ? this.state.position : 0),
      playing: this._estimateMoving() && Boolean(this.snap && this.lastReport && this.snap.itemId === this.lastReport.itemId),
      // Never "buffering": the waiting rule would hold the whole room on a report seconds
      // old; a remote seat catches up by correcting instead.
      buffering: false,
      error_ms: e === null || !Number.isFinite(e) ? null : e,
      seek_ms: this.sync.seekMs,
    };
  }
}
