// @ts-check
/**
 * Keeps one remote Jellyfin session (a TV app) on the room's state, through the Sessions API
 * only: PlayNow, Pause, Unpause and Seek go out; what comes back is what the device last
 * reported to Jellyfin (PlayState.PositionTicks, IsPaused, NowPlayingItem, and the time
 * Jellyfin received it, LastPlaybackCheckIn). No DOM; the clock, timers and API are injected.
 *
 * Why it is not the browser's PlaybackCore: a remote device has no rate control (so only
 * seeks correct it), its position is known only from reports made up to 10 s apart
 * (jellyfin-apiclient throttles `timeupdate` progress to one per 10 s), and every seek costs
 * a visible freeze on the TV. So:
 *   - Position estimate: the last report's position, advanced by the time since it was made
 *     while it reports playing. The report's time is LastPlaybackCheckIn (Jellyfin's clock)
 *     mapped to ours by bounds: a check-in first seen by one poll and absent from the one
 *     before happened between the two, so (local − Jellyfin) lies between (previous poll
 *     sent − check-in) and (this poll answered − check-in); the tightest bounds over a window
 *     give the mapping, to within a few ms once some poll landed close to a report on either
 *     side. Less half the fastest poll round trip for the device's own path to Jellyfin (on
 *     a LAN, like ours; it cannot be observed from the reports).
 *   - Learned latencies: seek (sent → moving at the new position), unpause and PlayNow
 *     (sent → moving), from the first report that shows the command's effect:
 *     latency = (report time − send time) − (reported position − commanded position).
 *   - Seek-only correction when |error| ≥ seekThresholdMs, aimed ahead by the learned seek
 *     latency, and only on a report made after the previous command took effect. Correction
 *     seeks that keep missing back off exponentially (never a seek loop); a new room state
 *     resets that (a person asked for it).
 *   - A command no report answers is resent after ackTimeout, then after twice that, … up
 *     to maxRetryMs, and the device is shown as not responding meanwhile; a session that
 *     disappears from Jellyfin's list is "gone" and polled with backoff, never commanded.
 *   - Ownership: a snapshot whose UserId is not the signed-in user's stops the seat for good
 *     (and SessionsApi refuses to send to such a session anyway).
 *
 * Public API:
 *   new RemoteSync({api, sessionId, clock, timers, settings?, onChange?})
 *     api        a SessionsApi (or anything with snapshot/playNow/pause/unpause/seek)
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
 *   .sync  {status, errorMs, seekMs, unpauseMs, loadMs, reportPeriodMs, reportDelayMs,
 *           commands, seeks, correctionSeeks, attempts, lastAction, deviceName, error}
 *     status ∈ idle | loading | syncing | in_sync | close | not_responding | gone |
 *              bad_item (the room's item is not a Jellyfin item) | refused | signed_out
 *
 * @module remote/remote-sync
 */

import { expectedPosition } from '../core/protocol.js';
import { REMOTE_SETTINGS } from './settings.js';

/**
 * @typedef {import('../core/protocol.js').PlaybackState} PlaybackState
 * @typedef {import('./sessions-api.js').RemoteSnapshot} RemoteSnapshot
 * @typedef {{p: number, paused: boolean, itemId: string, checkInMs: number, seenLocal: number}} Report
 * @typedef {{kind: 'play_now'|'pause'|'unpause'|'seek', sentLocal: number, target: number,
 *   itemId?: string, fromPosition?: number, seq: number, waitMs: number, correction: boolean}} Pending
 */

/** Statuses after which the seat sends nothing any more. */
const FINAL = new Set(['refused', 'signed_out']);

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
    /** @type {number|null} local send time of the previous poll */
    this._prevPollSend = null;
    /** @type {number[]} intervals between check-ins while playing */
    this._periods = [];
    this._minRttMs = Infinity;
    /** @type {Pending|null} */
    this.pending = null;
    /** Local ms after which the device's reports reflect our last command (freshness). */
    this._settledAfter = -Infinity;
    this._inFlight = null;
    this._attempts = 0;
    this._nextCommandAt = -Infinity;
    this._consecutive = 0;
    this._cooldownUntil = -Infinity;
    this._pausedSeekSeq = -1;
    this._fastUntil = -Infinity;
    this._pollFailures = 0;
    this._pollTimer = null;
    this._tickTimer = null;
    this._running = false;
    this.sync = {
      /** @type {string} */
      status: 'idle',
      /** @type {number|null} */
      errorMs: null,
      seekMs: settings.initialSeekLatencyMs,
      unpauseMs: settings.initialUnpauseLatencyMs,
      loadMs: settings.initialLoadLatencyMs,
      /** @type {number|null} */
      reportPeriodMs: null,
      /** @type {number|null} */
      reportDelayMs: null,
      commands: 0,
      seeks: 0,
      correctionSeeks: 0,
      attempts: 0,
      lastAction: '',
      deviceName: '',
      /** @type {string|null} code of the last RemoteError */
      error: null,
    };
    this._learned = { seek: false, unpause: false, load: false };
    /** Whether a listing ever showed the session as the user's own. */
    this._everOwn = false;
    /** @type {string|null} the room's item, when it is nothing a TV can play */
    this._badItem = null;
    /** @type {{kind: string, sentLocal: number, latency: number, target: number, from: number|null, wasPaused: boolean}|null}
     *  the last command sent, for the estimate until a report shows its effect */
    this._lastCmd = null;
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
  }

  /** @param {PlaybackState|null} state */
  setState(state) {
    const prev = this.state;
    this.state = state;
    if (state && (!prev || state.seq !== prev.seq)) {
      // A person asked for this: correct at once, whatever the backoff of earlier misses.
      this._consecutive = 0;
      this._cooldownUntil = -Infinity;
    }
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
    return this.clock.now() < this._fastUntil ? this.s.fastPollMs : this.s.pollMs;
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
    const prevPoll = this._prevPollSend;
    this._prevPollSend = sendLocal;
    if (c !== null && (!this.lastReport || c !== this.lastReport.checkInMs) && session.itemId && session.positionS !== null) {
      const prev = this.lastReport;
      // The check-in happened after the previous poll was answered without it, and before this
      // one was: offset ∈ (prevSend − c, recv − c). Both bounds are kept; their tightest
      // values over a window give the clock mapping (a poll right after a report tightens the
      // upper bound, one right before it the lower).
      this._clockSamples.push({ lo: prevPoll === null || (prev && prev.checkInMs === c) ? -Infinity : prevPoll - c, hi: recvLocal - c });
      if (this._clockSamples.length > this.s.clockWindow) this._clockSamples.shift();
      this.lastReport = { p: session.positionS, paused: session.paused, itemId: session.itemId, checkInMs: c, seenLocal: recvLocal };
      if (prev && !prev.paused && !session.paused && prev.itemId === session.itemId && c > prev.checkInMs) {
        this._periods.push(c - prev.checkInMs);
        if (this._periods.length > 8) this._periods.shift();
        const sorted = [...this._periods].sort((a, b) => a - b);
        this.sync.reportPeriodMs = sorted[Math.floor(sorted.length / 2)];
      }
      this.sync.reportDelayMs = this.reportDelayMs();
      this._onReport(this.lastReport);
    }
    if (this.sync.status === 'gone') this._setStatus('syncing');
    this.tick();
  }

  /** Jellyfin clock → local clock offset, ms (null before the first report). */
  _jfToLocal() {
    if (!this._clockSamples.length) return null;
    const hi = Math.min(...this._clockSamples.map((x) => x.hi));
    const lo = Math.max(...this._clockSamples.map((x) => x.lo));
    // Bounds that cross mean one of them is older than a clock change (Jellyfin's clock was
    // set): trust the newest sample alone until the window has refilled.
    if (lo > hi) {
      this._clockSamples = this._clockSamples.slice(-1);
      return this._jfToLocal();
    }
    return Number.isFinite(lo) ? (lo + hi) / 2 : hi;
  }

  /** The device → Jellyfin delay we assume: half our fastest round trip to Jellyfin. */
  _deviceDelayMs() {
    return Number.isFinite(this._minRttMs) ? this._minRttMs / 2 : 0;
  }

  /** How old a report is when it enters our estimate, at best (shown; for the docs). */
  reportDelayMs() {
    if (!this.lastReport) return null;
    const off = this._jfToLocal();
    if (off === null) return null;
    // The uncertainty of the mapping (half the bounds' gap) plus the assumed device delay.
    const hi = Math.min(...this._clockSamples.map((x) => x.hi));
    return Math.max(0, hi - off) + this._deviceDelayMs();
  }

  /** @param {Report} rep local time at which the device was where the report says */
  _reportLocal(rep) {
    const off = this._jfToLocal();
    return rep.checkInMs + (off ?? 0) - this._deviceDelayMs();
  }

  /**
   * The device's position at local time `local`, from its latest report.
   * @param {number} [local]
   */
  estimate(local = this.clock.now()) {
    const rep = this.lastReport;
    const c = this._lastCmd;
    // No report since our last command took effect (a TV on jellyfin-apiclient reports a small
    // seek only with its next 10 s progress): assume the command did what it was told, rather
    // than show the error it was sent to fix for up to 10 s. Corrections still wait for a
    // real report (see tick); this is what the seat shows and reports.
    if (c && this._attempts === 0 && (!rep || this._reportLocal(rep) < c.sentLocal + c.latency)) {
      const moving = Math.max(0, local - (c.sentLocal + c.latency)) / 1000;
      if (c.kind === 'seek') return c.wasPaused ? c.target : c.target + moving;
      if (c.kind === 'unpause' && c.from !== null) return c.from + moving;
      if (c.kind === 'pause' && c.from !== null) return c.from;
      if (c.kind === 'play_now') return c.target + moving;
    }
    if (!rep || !this.snap || this.snap.itemId !== rep.itemId) return null;
    if (rep.paused) return rep.p;
    return rep.p + Math.max(0, local - this._reportLocal(rep)) / 1000;
  }

  /** @param {Report} rep */
  _onReport(rep) {
    const p = this.pending;
    if (!p) return;
    const t = this._reportLocal(rep);
    if (t < p.sentLocal) return; // made before our command: says nothing about it
    const s = this.s;
    let sample = null;
    let done = false;
    if (p.kind === 'play_now') {
      if (rep.itemId === p.itemId) {
        done = true;
        if (!rep.paused) sample = ['load', (t - (rep.p - p.target) * 1000) - p.sentLocal];
      }
    } else if (p.kind === 'pause') {
      done = rep.paused;
    } else if (p.kind === 'unpause') {
      if (!rep.paused) {
        done = true;
        if (typeof p.fromPosition === 'number') sample = ['unpause', (t - (rep.p - p.fromPosition) * 1000) - p.sentLocal];
      }
    } else if (p.kind === 'seek') {
      const moved = (rep.p - p.target) * 1000;
      if (rep.paused) {
        done = Math.abs(moved) < s.pausedToleranceMs;
      } else if (moved >= -s.seekThresholdMs && moved <= t - p.sentLocal + s.seekThresholdMs) {
        done = true;
        sample = ['seek', (t - p.sentLocal) - moved];
      }
    }
    if (!done) return;
    if (sample && sample[1] >= 0 && sample[1] <= s.maxLatencyMs) this._learn(/** @type {'load'|'unpause'|'seek'} */ (sample[0]), sample[1]);
    this.pending = null;
    this._attempts = 0;
    this.sync.attempts = 0;
    this._nextCommandAt = -Infinity;
  }

  /** @param {'load'|'unpause'|'seek'} kind @param {number} ms */
  _learn(kind, ms) {
    /** @type {'loadMs'|'unpauseMs'|'seekMs'} */
    const key = kind === 'load' ? 'loadMs' : kind === 'unpause' ? 'unpauseMs' : 'seekMs';
    const prev = this.sync[key];
    /** @type {any} */ (this.sync)[key] = this._learned[kind] ? prev + this.s.latencyAlpha * (ms - prev) : ms;
    this._learned[kind] = true;
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
   * @param {Pending['kind']} kind @param {() => Promise<void>} send
   * @param {Partial<Pending>} extra
   */
  _send(kind, send, extra) {
    const now = this.clock.now();
    const st = /** @type {PlaybackState} */ (this.state);
    /** @type {Pending} */
    const p = { kind, sentLocal: now, target: 0, seq: st.seq, waitMs: this._ackWaitMs(this._attempts), correction: false, ...extra };
    this.pending = p;
    const latency = kind === 'seek' ? this.sync.seekMs : kind === 'unpause' ? this.sync.unpauseMs : kind === 'play_now' ? this.sync.loadMs : 0;
    const before = this.estimate(now);
    this._lastCmd = {
      kind, sentLocal: now, latency, target: p.target, from: kind === 'unpause' ? (p.fromPosition ?? null) : before,
      wasPaused: Boolean(this.lastReport?.paused) && kind === 'seek',
    };
    this._settledAfter = now + latency;
    this._fastUntil = now + latency + this.s.fastPollForMs;
    this.sync.commands += 1;
    if (kind === 'seek') this.sync.seeks += 1;
    this.sync.lastAction = kind === 'seek' || kind === 'play_now' ? `${kind} ${p.target.toFixed(3)}` : kind;
    const flight = send().catch((e) => {
      if (this.pending === p && e?.code !== 'remote_unreachable' && e?.code !== 'remote_failed') this.pending = null;
      this._fail(e);
    }).finally(() => {
      if (this._inFlight === flight) this._inFlight = null;
    });
    this._inFlight = flight;
    // Poll soon: the report that answers this comes quickly on most devices.
    if (this._running) this._schedulePoll(this.s.fastPollMs);
  }

  /** The room's position at local time `local` (seconds), or null without a state. */
  _target(local) {
    if (!this.state) return null;
    return expectedPosition(this.state, this.clock.serverNow(local));
  }

  /**
   * A paused device away from the room's position is sent one seek to it, once per state: a
   * device that cannot seek is not nagged. True when the seek was sent.
   * @param {any} rep the latest report @param {any} st the room's state
   */
  _seekWhilePaused(rep, st) {
    if (Math.abs((rep.p - st.position) * 1000) <= this.s.pausedToleranceMs || this._pausedSeekSeq === st.seq) return false;
    this._pausedSeekSeq = st.seq;
    this._send('seek', () => this.api.seek(this.sessionId, st.position), { target: st.position });
    return true;
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
    const target = /** @type {number} */ (this._target(now));
    this.sync.errorMs = est === null ? null : (est - target) * 1000;

    // An unanswered command: wait for its answer; after its wait, count a failed attempt and
    // let the decision below send again (the wait doubles each time).
    if (this.pending) {
      if (now - this.pending.sentLocal < this.pending.waitMs) {
        if (this.pending.seq === st.seq || this._attempts > 0) {
          this._setStatus(this._attempts >= s.staleAfterAttempts ? 'not_responding' : this.pending.kind === 'play_now' ? 'loading' : 'syncing');
          return;
        }
        // The room changed meanwhile (a person paused, seeked): that is worth a command now.
      } else {
        this._attempts += 1;
        this.sync.attempts = this._attempts;
        this.pending = null;
      }
    }
    if (this._attempts >= s.staleAfterAttempts) this._setStatus('not_responding');
    if (this._inFlight || now < this._nextCommandAt) return;

    const wanted = st.media.id;
    if (wanted === this._badItem) {
      this._setStatus('bad_item');
      return;
    }
    if (snap.itemId !== wanted) {
      const at = now + this.sync.loadMs;
      const start = st.playing ? /** @type {number} */ (this._target(at)) : st.position;
      this._send('play_now', () => this.api.playNow(id, wanted, start), { target: start, itemId: wanted });
      this._setStatus(this._attempts >= s.staleAfterAttempts ? 'not_responding' : 'loading');
      return;
    }
    const rep = this.lastReport;
    if (!rep || rep.itemId !== wanted || est === null) {
      this._setStatus('loading');
      return;
    }
    const reportAge = now - this._reportLocal(rep);
    const staleReport = !rep.paused && reportAge > Math.max(s.staleReportMs, 3 * (this.sync.reportPeriodMs ?? 0));
    const errMs = /** @type {number} */ (this.sync.errorMs);

    if (!st.playing) {
      if (!rep.paused) {
        this._send('pause', () => this.api.pause(id), { target: target });
        return;
      }
      if (this._seekWhilePaused(rep, st)) return;
      this._setStatus(this._attempts > 0 ? 'not_responding' : 'in_sync');
      return;
    }

    if (rep.paused) {
      const serverNow = this.clock.serverNow(now);
      if (serverNow < st.at) {
        // A scheduled start: be at the start position, and unpause one learned latency early.
        if (this._seekWhilePaused(rep, st)) return;
        const sendAt = st.at - this.sync.unpauseMs;
        if (serverNow < sendAt - s.tickMs / 2) {
          this._setStatus('syncing');
          return;
        }
      }
      this._send('unpause', () => this.api.unpause(id), { target, fromPosition: rep.p });
      return;
    }

    // Playing on both sides: correct by a seek only on a report made after our last command
    // took effect, and only when the error is worth a visible jump.
    const fresh = this._reportLocal(rep) >= this._settledAfter;
    if (staleReport) {
      this._setStatus('not_responding');
      return;
    }
    if (!fresh) {
      this._setStatus('syncing');
      return;
    }
    const absErr = Math.abs(errMs);
    if (absErr >= s.seekThresholdMs) {
      if (now < this._cooldownUntil) {
        this._setStatus('syncing');
        return;
      }
      this._consecutive += 1;
      const extra = Math.max(0, this._consecutive - s.backoffAfterSeeks);
      this._cooldownUntil = now + Math.min(s.maxSeekBackoffMs, s.seekCooldownMs * 2 ** extra);
      const aim = /** @type {number} */ (this._target(now + this.sync.seekMs));
      this.sync.correctionSeeks += 1;
      this._send('seek', () => this.api.seek(id, aim), { target: aim, correction: true });
      this._setStatus('syncing');
      return;
    }
    this._consecutive = 0;
    this._setStatus(absErr <= s.inSyncThresholdMs ? 'in_sync' : 'close');
  }

  report() {
    const est = this.estimate();
    const e = this.sync.errorMs;
    return {
      position: est ?? (this.state ? this.state.position : 0),
      playing: Boolean(this.lastReport && !this.lastReport.paused && this.snap && this.snap.itemId === this.lastReport.itemId),
      // Never "buffering": the waiting rule would hold the whole room on a report seconds
      // old; a remote seat catches up by seeking instead.
      buffering: false,
      error_ms: e === null || !Number.isFinite(e) ? null : e,
      seek_ms: this.sync.seekMs,
    };
  }
}
