// @ts-check
/**
 * The playback core: turns the server's `state` into player actions and keeps the player on
 * the one formula (DESIGN §3, §4). It never touches the DOM; the player and the clocks are
 * injected.
 *
 * What it does, in order of importance:
 *   - applies a `state` only when its `seq` is newer than the last applied one;
 *   - holds the player paused at `position` until `at`, then starts it on that instant
 *     (minus the start latency it learned);
 *   - every tick, compares the player with the target position and
 *       |e| ≤ dead band          → plays at the state's rate,
 *       dead band < |e| < seek   → nudges playbackRate proportionally (bounded, no overshoot;
 *                                  small nudges with the pitch free, keepPitchAt),
 *       |e| ≥ seek threshold     → seeks to the target plus the learned seek latency
 *                                  (larger threshold for HLS / transcodes);
 *   - learns the seek latency from the error left right after each hard seek;
 *   - tells the player events it caused itself apart from a person's actions, and hands only
 *     the latter to `onIntent` (no echo loops);
 *   - shows the room's rate in the player's own speed menu (player.showRate, where the player
 *     has one) and hands a speed chosen there to `onIntent` as {type:'rate'} (DESIGN §8).
 *
 * Public API:
 *   new PlaybackCore({player, clock, timers, settings?, onIntent?})
 *     player    a generic player (see players/player.js for the interface)
 *     clock     {now(), serverNow(local?), localFromServer(t)} — a TimeSync fits
 *     timers    {setTimeout, clearTimeout, setInterval, clearInterval}
 *     onIntent  ({type:'play'|'pause'|'seek'|'rate', position, rate?}) => void — a person
 *               acted on the player; a play's position is where the room should start
 *               (the person's own seek not answered yet, else the room's position)
 *   .start() / .stop()         run / stop the control loop
 *   .applyState(state, {snapshot?}) → boolean   false when stale (seq not newer)
 *   .reassert()                re-apply the current state (after a refused intent)
 *   .tick()                    one control step (the loop calls it; tests may too)
 *   .targetPosition()          the formula at server now, or null without a state
 *   .report()                  → {position, playing, buffering, error_ms, seek_ms}
 *   .sync                      {status: 'idle'|'no_media'|'waiting'|'syncing'|'in_sync'|'blocked', errorMs, seekMs,
 *                               startMs, hardSeeks, lastAction}
 *   .state, .lastSeq
 *
 * @module core/playback
 */

import { DEFAULT_SETTINGS } from './settings.js';
import { expectedPosition } from './protocol.js';

/**
 * @typedef {import('./protocol.js').PlaybackState} PlaybackState
 * @typedef {{type: 'play'|'pause'|'seek'|'rate', position: number, rate?: number}} Intent
 * @typedef {{now: () => number, serverNow: (local?: number) => number,
 *   localFromServer: (t: number) => number}} Clock
 * @typedef {{st: PlaybackState, now: number, target: number, pos: number, errMs: number,
 *   busy: boolean}} Tick  what one tick read: the state, local now, the formula's target,
 *   the player's position, their difference in ms, whether the player seeks or buffers
 */

/** Smallest rate difference worth telling the player about (avoids ratechange spam). */
const RATE_EPSILON = 1e-4;
/** A person's seek closer than this to where playback should be is not an intent (a player
 *  or hls.js nudging over a gap makes small seeks of its own). */
const USER_SEEK_MIN_S = 1;

/**
 * Whether the player should keep the pitch (preservesPitch) at `rate` while the state's rate is
 * `base`: always at the state's rate itself and around any base other than 1; for a nudge
 * around 1 only when it is larger than settings.pitchFreeMaxNudge (see there: Chromium's
 * pitch-preserving time-stretch barely moves the picture at small rate changes).
 * @param {number} rate @param {number} base
 * @param {{pitchFreeMaxNudge: number}} [settings]
 */
export function keepPitchAt(rate, base, settings = DEFAULT_SETTINGS) {
  if (Math.abs(rate - base) < RATE_EPSILON || Math.abs(base - 1) >= RATE_EPSILON) return true;
  return Math.abs(rate / base - 1) > settings.pitchFreeMaxNudge;
}

export class PlaybackCore {
  /**
   * @param {{player: any, clock: Clock, timers: any,
   *   settings?: import('./settings.js').Settings, onIntent?: (i: Intent) => void}} deps
   */
  constructor({ player, clock, timers, settings = DEFAULT_SETTINGS, onIntent = () => {} }) {
    if (!player) throw new TypeError('PlaybackCore needs a player');
    if (!clock || typeof clock.serverNow !== 'function') throw new TypeError('PlaybackCore needs a clock');
    this.player = player;
    this.clock = clock;
    this.timers = timers;
    this.settings = settings;
    this.onIntent = onIntent;
    /** @type {PlaybackState|null} */
    this.state = null;
    this.lastSeq = -1;
    this.correcting = false;
    this.lastRateSet = null;
    this.seekCooldownUntil = -Infinity;
    /** @type {{targetAtIssue: number, estimateMs: number}|null} */
    this.pendingSeekSample = null;
    /** A start whose latency is still to be measured: the estimate it was armed with, the
     *  position it started from and when play() was called.
     *  @type {{expected: number, fromPos: number, playedAt: number}|null} */
    this.pendingStartSample = null;
    /** @type {{issuedAt: number}|null} */
    this.pendingPausedSeek = null;
    this.learnedSeekMs = null;
    /** The last measured seek latencies (ms, newest last, at most settings.seekLeadSamples),
     *  for the lead this member asks the server for (seekLeadMs). @type {number[]} */
    this.seekSamples = [];
    /** The start latency measured so far (ms); until the first start was measured,
     *  startLatencyMs() gives the first guess for the player's kind instead. */
    this.learnedStartMs = settings.initialStartLatencyMs;
    /** Whether a start latency was measured yet: the first sample replaces the first guess
     *  whole, later ones are averaged. */
    this.startLearned = false;
    /** The browser refused play() (autoplay policy) and nobody has clicked since. */
    this.playRefused = false;
    /** Local ms until which a person's action on the player stands while its intent is on
     *  its way to the server (see settings.intentHoldMs). */
    this.intentHoldUntil = -Infinity;
    /** Local ms until which a seek of ours may still be under way (cleared on `seeked`). */
    this.ownSeekUntil = -Infinity;
    /** Local ms at which the player's current seek began (ours or anyone's), for telling a
     *  seek from a stall; null when no seek was seen since the last `seeked`. */
    this.seekStartedAt = null;
    /** The state whose start was made before `at` on purpose — armed early because the player
     *  sat behind the start position, or fired the start latency ahead of `at` — : it plays
     *  on its own until `at` and must not be paused meanwhile. */
    this._earlyStartFor = null;
    /** The state a catch-up seek was last made for: a second one for the same state means
     *  the first landed behind. */
    this._catchUpFor = null;
    /** @type {{kind: string, until: number}[]} */
    this.expectations = [];
    /** Where a person's own seek put the player, while the room has not answered it yet
     *  (cleared by the next state): a play that follows it starts there, not at the room's
     *  old position. @type {number|null} */
    this.userSeekTo = null;
    this._startTimer = null;
    this._startAt = null;
    this._interval = null;
    this._mediaLoading = null;
    this._offs = [];
    this.sync = {
      /** @type {'idle'|'no_media'|'waiting'|'syncing'|'in_sync'|'blocked'} */
      status: 'idle',
      /** @type {number|null} */
      errorMs: null,
      seekMs: this.seekLatencyMs(),
      startMs: this.startLatencyMs(),
      hardSeeks: 0,
      lastAction: '',
    };
  }

  start() {
    if (this._interval !== null) return;
    this._offs = [
      this.player.on('play', () => this._onPlayerEvent('play')),
      this.player.on('pause', () => this._onPlayerEvent('pause')),
      this.player.on('seeking', () => {
        if (this.seekStartedAt === null) this.seekStartedAt = this.clock.now();
        this._onPlayerEvent('seek');
      }),
      this.player.on('seeked', () => this._onSeeked()),
      this.player.on('rate', (/** @type {number} */ r) => this._onRateChosen(r)),
    ];
    this._interval = this.timers.setInterval(() => this.tick(), this.settings.tickMs);
  }

  stop() {
    if (this._interval !== null) this.timers.clearInterval(this._interval);
    this._interval = null;
    for (const off of this._offs) off?.();
    this._offs = [];
    this._clearStartTimer();
    if (this.lastRateSet !== null && this.state) this._setRate(this.state.rate);
    this.player.showRate?.(null);
  }

  /** Forget the room (left it): no state, player untouched except the rate. */
  reset() {
    this._clearStartTimer();
    if (this.state && this.lastRateSet !== null) this._setRate(this.state.rate);
    this.player.showRate?.(null);
    this.state = null;
    this.lastSeq = -1;
    this.correcting = false;
    this.sync.status = 'idle';
    this.sync.errorMs = null;
  }

  seekLatencyMs() {
    if (this.learnedSeekMs !== null) return this.learnedSeekMs;
    return this._streaming() ? this.settings.initialSeekLatencyStreamingMs : this.settings.initialSeekLatencyMs;
  }

  /** How long before an instant play() must be called for the media to move on it (ms). */
  startLatencyMs() {
    if (this.startLearned) return this.learnedStartMs;
    return this._streaming() ? this.settings.initialStartLatencyStreamingMs : this.settings.initialStartLatencyMs;
  }

  /**
   * The seek latency this member asks the room's seeks to allow for (`status.seek_ms`): not
   * the average (seekLatencyMs, what the core aims its own seeks with) but the slowest of the
   * last few measured seeks, the first guess of the slow end counting as one of them until
   * enough were measured. The server starts a seek's playback after the slowest member's
   * seek_ms; a member whose seek outlasts that lead comes out of it behind a room that already
   * plays and must seek again (for HLS another 0.3–1.5 s), while a longer lead only makes
   * everyone wait together a little longer.
   */
  seekLeadMs() {
    const s = this.settings;
    const n = Math.max(1, s.seekLeadSamples);
    const recent = this.seekSamples.slice(-n);
    let lead = Math.max(this.seekLatencyMs(), ...recent);
    if (recent.length < n) lead = Math.max(lead, this._streaming() ? s.initialSeekLeadStreamingMs : s.initialSeekLatencyMs);
    return Math.min(lead, s.maxSeekLatencyMs);
  }

  _streaming() {
    try {
      return Boolean(this.player.isStreaming?.());
    } catch {
      return false;
    }
  }

  /**
   * @param {PlaybackState} state
   * @param {{snapshot?: boolean}} [opts] snapshot=true (room create/join/resume) resets ordering
   * @returns {boolean} whether it was applied
   */
  applyState(state, opts = {}) {
    if (!opts.snapshot && state.seq <= this.lastSeq) return false;
    this.state = state;
    this.lastSeq = state.seq;
    this.player.showRate?.(state.rate);
    this.correcting = false;
    this.seekCooldownUntil = -Infinity; // a new target deserves a seek at once
    this.intentHoldUntil = -Infinity; // the answer to any intent in flight is here
    this.userSeekTo = null;
    this._clearStartTimer();
    this.pendingStartSample = null;
    // A hard seek still under way was aimed at the old target: the error measured after it
    // says nothing about seek latency any more (it would teach a latency of seconds).
    this.pendingSeekSample = null;
    const media = state.media;
    if (media && this.player.getMedia) {
      const current = this.player.getMedia();
      if ((!current || current.id !== media.id) && this.player.setMedia) {
        const target = this.targetPosition() ?? state.position;
        const loading = Promise.resolve()
          .then(() => this.player.setMedia(media, target))
          .catch((e) => { console.warn('matinee: could not switch media', e); })
          .finally(() => {
            if (this._mediaLoading === loading) {
              this._mediaLoading = null;
              this.tick();
            }
          });
        this._mediaLoading = loading;
        this.sync.status = 'syncing';
        return true;
      }
    }
    this.tick();
    return true;
  }

  reassert() {
    this.playRefused = false;
    this.intentHoldUntil = -Infinity;
    if (!this.state) return;
    this.correcting = false;
    this.seekCooldownUntil = -Infinity;
    this._clearStartTimer();
    this.tick();
  }

  targetPosition() {
    if (!this.state) return null;
    return expectedPosition(this.state, this.clock.serverNow());
  }

  report() {
    let position = 0;
    try { position = this.player.getPosition(); } catch { /* no media yet */ }
    return {
      position,
      playing: !this.player.isPaused(),
      buffering: this._stalled(),
      // What a seek's lead should allow for, first guess included: the server sizes the lead
      // from it, and a null before the first measured seek made the first HLS seek's lead too
      // short (see seekLeadMs).
      seek_ms: this.seekLeadMs(),
      error_ms: this.sync.errorMs,
    };
  }

  /**
   * Whether this member really cannot play: what the server's waiting rule (DESIGN §3) is
   * for. A seek is not a stall — a late joiner's catch-up, a correction, a pre-start seek all
   * finish within the seek latency, and the core already aims them ahead so that the member
   * lands in sync; reporting them as buffering made the room pause for everyone (an HLS late
   * joiner paused the room for seconds). A seek that outlasts `seekStallMs`, a player out of
   * data while it plays (other than during a seek of ours still within that bound), and a
   * media switch still loading are stalls.
   */
  _stalled() {
    if (this._mediaLoading) return true;
    const now = this.clock.now();
    let seeking = false;
    let buffering = false;
    try {
      seeking = Boolean(this.player.isSeeking?.());
      buffering = Boolean(this.player.isBuffering?.());
    } catch { return false; }
    if (!seeking) {
      this.seekStartedAt = null;
      return buffering;
    }
    if (this.seekStartedAt === null) this.seekStartedAt = now;
    if (now - this.seekStartedAt >= this.settings.seekStallMs) return true;
    // Within the bound: a seek of ours is not a stall even where the player reports "no data"
    // during it (a <video> playing through a seek has readyState < HAVE_FUTURE_DATA).
    return now < this.ownSeekUntil ? false : buffering;
  }

  _clearStartTimer() {
    if (this._startTimer !== null) this.timers.clearTimeout(this._startTimer);
    this._startTimer = null;
    this._startAt = null;
  }

  // ---- commands to the player, each marked so its event is not taken for a person ----

  _expect(kind) {
    this.expectations.push({ kind, until: this.clock.now() + this.settings.selfEventWindowMs });
  }

  _play() {
    if (!this.player.isPaused()) return;
    this._expect('play');
    this.sync.lastAction = 'play';
    const r = this.player.play();
    // Autoplay refusal: the page shows the reason; the loop will try again on the next tick.
    if (r && typeof r.then === 'function') {
      r.then(() => { this.playRefused = false; }, (e) => {
        this.sync.lastAction = `play refused: ${e && e.name}`;
        // Until a person allows playback (reassert()), do not keep seeking ahead for a start
        // that cannot happen.
        this.playRefused = true;
      });
    }
  }

  _pause() {
    if (this.player.isPaused()) return;
    this._expect('pause');
    this.sync.lastAction = 'pause';
    this.player.pause();
  }

  /** @param {number} seconds */
  _seek(seconds) {
    this._expect('seek');
    this.ownSeekUntil = this.clock.now() + this.settings.selfEventWindowMs;
    this.seekStartedAt = this.clock.now();
    this.pendingPausedSeek = null;
    this.sync.lastAction = `seek ${seconds.toFixed(3)}`;
    this.player.seek(Math.max(0, seconds));
  }

  _setRate(rate) {
    if (this.lastRateSet !== null && Math.abs(rate - this.lastRateSet) < RATE_EPSILON) {
      // Already asked for; but a player may drop it behind our back (a new source, a transcode
      // restart, a speed menu): then a steady ±10 % nudge would never reach it again.
      let actual = rate;
      try { actual = this.player.getRate?.() ?? rate; } catch { /* no media */ }
      if (!Number.isFinite(actual) || Math.abs(actual - rate) < RATE_EPSILON) return;
    }
    this.lastRateSet = rate;
    this.player.setRate(rate, keepPitchAt(rate, this.state ? this.state.rate : rate, this.settings));
  }

  /** @param {'play'|'pause'|'seek'} kind */
  _onPlayerEvent(kind) {
    const now = this.clock.now();
    this.expectations = this.expectations.filter((x) => x.until >= now);
    const i = this.expectations.findIndex((x) => x.kind === kind);
    if (i >= 0) {
      this.expectations.splice(i, 1);
      return; // our own doing
    }
    if (!this.state || this._mediaLoading) return;
    // While a seek of ours is under way the player may stop and restart by itself (jellyfin-web
    // restarts a transcode to seek it; a <video> whose source is replaced pauses): taking that
    // for the host's pause would pause the whole room.
    if ((kind === 'play' || kind === 'pause') && now < this.ownSeekUntil) return;
    let position;
    try { position = this.player.getPosition(); } catch { return; }
    if (kind === 'seek') {
      const target = this.targetPosition();
      if (target !== null && Math.abs(position - target) < USER_SEEK_MIN_S) return;
    }
    if (kind === 'pause' && !this.state.playing) return; // already what the room does
    if (kind === 'play' && this.state.playing) return;
    if (kind === 'pause' && this.player.isEnded?.()) return; // the film ended by itself
    // Let the person's action stand until the room answers it (no jump back, then forth).
    this.intentHoldUntil = now + this.settings.intentHoldMs;
    this._clearStartTimer();
    if (kind === 'seek') {
      // The person took the player over: a seek of ours still under way is superseded (the
      // browser may never report its `seeked`), and the play or pause that comes next — the
      // host's `currentTime = 60; play()` — is theirs, not the player's own restart.
      this.ownSeekUntil = -Infinity;
      this.userSeekTo = position;
    } else if (kind === 'play') {
      // Where the room should start: where the person's unanswered seek put the player, else
      // the room's own position (a paused player sits a few ms off it). Sent at the room's
      // position, a play right after the host's seek reached the server behind that seek and
      // put the room back where it was.
      position = this.userSeekTo ?? this.targetPosition() ?? position;
    }
    this.onIntent({ type: kind, position });
  }

  /**
   * A speed chosen in the player's own menu while in a room: the room's rate is an intent
   * like play (DESIGN §8); the player keeps the room's rate until the answer comes.
   * @param {number} rate
   */
  _onRateChosen(rate) {
    if (!this.state || this._mediaLoading) return;
    if (Math.abs(rate - this.state.rate) < RATE_EPSILON) return; // already the room's
    let position;
    try { position = this.player.getPosition(); } catch { return; }
    this.onIntent({ type: 'rate', position, rate });
  }

  // ---- the control loop ----

  /**
   * One control step. Reads the player once, then hands over to the phase the room is in:
   * a person's intent on its way (leave the player alone), the room paused (`_holdPaused`),
   * a scheduled start still ahead (`_prepareStart`), the player busy seeking or buffering
   * (wait), the player paused while the room plays (`_catchUp`), or playing
   * (`_correctDrift`).
   */
  tick() {
    const st = this.state;
    if (!st || this._mediaLoading) return;
    const now = this.clock.now();
    const serverNow = this.clock.serverNow(now);
    const target = expectedPosition(st, serverNow);
    let pos;
    try {
      pos = this.player.getPosition();
    } catch {
      pos = NaN; // no media loaded (yet, or any more: the clip ended, the player was closed)
    }
    if (!Number.isFinite(pos)) {
      // Nothing to measure: say so, and report no error rather than the last one measured.
      this.sync.status = 'no_media';
      this.sync.errorMs = null;
      return;
    }
    const errMs = (pos - target) * 1000;
    this.sync.errorMs = errMs;
    this.sync.seekMs = this.seekLatencyMs();
    const busy = Boolean(this.player.isSeeking?.() || this.player.isBuffering?.());
    // Playing now, whoever started it: a refused autoplay is over.
    if (this.playRefused && !this.player.isPaused()) this.playRefused = false;

    if (now < this.intentHoldUntil) {
      // A person's action is on its way to the server: do not undo it meanwhile.
      this.sync.status = 'syncing';
      return;
    }
    /** @type {Tick} */
    const t = { st, now, target, pos, errMs, busy };
    if (!st.playing) this._holdPaused(t);
    else if (serverNow < st.at) this._prepareStart(t);
    else if (busy) this.sync.status = 'syncing';
    else if (this.player.isPaused()) this._catchUp(t);
    else this._correctDrift(t);
  }

  /**
   * The room is paused: pause the player and keep it on the state's position (a paused
   * seek is cheap, and paused screens should show the same frame).
   * @param {Tick} t
   */
  _holdPaused({ st, now, errMs, busy }) {
    const s = this.settings;
    this._pause();
    this._setRate(st.rate);
    if (!busy && Math.abs(errMs) > s.pausedToleranceMs && now >= this.seekCooldownUntil) {
      this._seek(st.position);
      this.seekCooldownUntil = now + s.seekCooldownMs;
    }
    this.sync.status = st.reason === 'waiting' ? 'waiting' : busy || Math.abs(errMs) > s.pausedToleranceMs ? 'syncing' : 'in_sync';
  }

  /**
   * A scheduled start is still ahead (`at` in the future): hold the player at the start
   * position and arm the start for the instant.
   * @param {Tick} t
   */
  _prepareStart({ st, now, pos, busy }) {
    const s = this.settings;
    this.sync.status = 'syncing';
    if (this._earlyStartFor === st && !this.player.isPaused()) {
      // Started early on purpose (it sat behind the start position, or the start timer
      // fired the start latency ahead of `at`): it reaches the position on `at`; pausing it
      // now would undo that (play, pause, play within a few ms: the start latency paid twice).
      return;
    }
    this._pause();
    this._setRate(st.rate);
    const atLocal = this.clock.localFromServer(st.at);
    let startLocal = atLocal;
    const dMs = (pos - st.position) * 1000;
    if (!busy && Math.abs(dMs) > s.preStartToleranceMs) {
      // Off the start position (a paused player stops one network delay past the pause's
      // position). A seek now may still be running at `at` (an HLS seek takes up to 1.5 s),
      // and a late start makes the room wait: within the seek threshold, shift the start
      // instead — later by d when ahead, earlier by d when behind if that is still ahead
      // of us — as the late-join path does. Beyond it, seek.
      const shifted = atLocal + dMs / st.rate;
      if (Math.abs(dMs) < this._seekThresholdMs() && (dMs > 0 || shifted - this.startLatencyMs() > now)) {
        startLocal = shifted;
      } else if (now >= this.seekCooldownUntil) {
        this._seek(st.position);
        this.seekCooldownUntil = now + Math.min(s.seekCooldownMs, Math.max(0, atLocal - now));
        // A paused seek: its latency is the time until `seeked` (learned, and reported).
        this.pendingPausedSeek = { issuedAt: now };
      }
    }
    this._earlyStartFor = startLocal < atLocal ? st : null;
    this._armStart(st, startLocal);
  }

  /**
   * The room plays but the player is paused (late join, resume, a refused autoplay).
   * Starting a paused player takes an unknown while, so: get ahead of the room by a little,
   * wait paused until the room reaches that frame, and start on that instant — exact,
   * whatever the seek cost.
   * @param {Tick} t
   */
  _catchUp({ st, now, target, errMs }) {
    const s = this.settings;
    const startInMs = errMs / st.rate;
    if (errMs > 0 && errMs < this._seekThresholdMs()) {
      this._armStart(st, this.clock.now() + startInMs);
    } else if (errMs >= -s.catchUpLateStartMs && errMs <= 0) {
      this._clearStartTimer();
      this._play(); // on the frame already (a start timer racing this tick)
    } else if (!this.playRefused && (now >= this.seekCooldownUntil || errMs < 0)) {
      this._clearStartTimer();
      // The first catch-up aims with the average seek latency; one that landed behind aims
      // the next with the slowest recent seek: aimed at the average, an HLS member whose seeks
      // vary (0.3–1.5 s) missed about every other time and caught up only after three or four
      // seeks (sync harness, buffer: 5 s after a resume).
      const again = this._catchUpFor === st;
      const latencyMs = again ? this.seekLeadMs() : this.seekLatencyMs();
      this._catchUpFor = st;
      this._seek(target + (latencyMs + s.catchUpMarginMs) / 1000 * st.rate);
      this.seekCooldownUntil = now + s.seekCooldownMs;
      this.pendingPausedSeek = { issuedAt: now };
    }
    // The browser refused to start (autoplay policy): the person has to press play.
    this.sync.status = this.playRefused ? 'blocked' : 'syncing';
  }

  /**
   * Playing: learn from the error a seek or a start left, then hard-seek beyond the seek
   * threshold, nudge the rate proportionally outside the dead band (until inside the settle
   * band), or play at the state's rate.
   * @param {Tick} t
   */
  _correctDrift({ st, now, target, pos, errMs }) {
    const s = this.settings;
    if (!this._learn(errMs, st, pos, now)) {
      // Started, but the media clock has not moved yet: the error is only the time since
      // play(), and a nudge now would be counted in the start latency measured next tick.
      this.sync.status = 'syncing';
      return;
    }

    const absErr = Math.abs(errMs);
    if (absErr >= this._seekThresholdMs() && now >= this.seekCooldownUntil) {
      this._hardSeek(target, st, now);
      this.sync.status = 'syncing';
      return;
    }
    if (this.correcting ? absErr > s.settleBandMs : absErr > s.deadBandMs) {
      this.correcting = true;
      const tau = s.correctionTimeMs / 1000;
      let nudge = -(errMs / 1000) / tau;
      nudge = Math.max(-s.maxRateNudge, Math.min(s.maxRateNudge, nudge));
      if (Math.abs(nudge) < s.minRateNudge) nudge = Math.sign(nudge) * s.minRateNudge;
      this._setRate(st.rate * (1 + nudge));
    } else {
      this.correcting = false;
      this._setRate(st.rate);
    }
    this.sync.status = absErr <= s.inSyncThresholdMs ? 'in_sync' : 'syncing';
  }

  _seekThresholdMs() {
    return this._streaming() ? this.settings.seekThresholdStreamingMs : this.settings.seekThresholdMs;
  }

  /**
   * Seeks ahead of the target by the latency the seek will take, so that the player comes out
   * of it where the room is by then.
   */
  _hardSeek(target, st, now) {
    const latencyMs = this.seekLatencyMs();
    this._seek(target + latencyMs / 1000 * st.rate);
    this._setRate(st.rate);
    this.correcting = false;
    this.seekCooldownUntil = now + this.settings.seekCooldownMs;
    this.pendingSeekSample = { targetAtIssue: target, estimateMs: latencyMs };
    this.sync.hardSeeks += 1;
  }

  /**
   * Arms the timer that starts playback at local time `startLocal` (earlier by the start
   * latency learned so far). An armed timer for about the same instant is kept, so that the
   * tick does not push it back forever.
   */
  _armStart(st, startLocal) {
    if (this._startTimer !== null && this._startAt !== null && Math.abs(this._startAt - startLocal) < 2) return;
    this._clearStartTimer();
    const delay = Math.max(0, startLocal - this.startLatencyMs() - this.clock.now());
    this._startAt = startLocal;
    this._startTimer = this.timers.setTimeout(() => {
      this._startTimer = null;
      this._startAt = null;
      if (this.state !== st) return;
      if (this.clock.now() < this.ownSeekUntil && this.player.isSeeking?.()) {
        // Our pre-start seek outlasted the lead (a slow HLS seek): playing now would come out
        // of the seek behind the room by the overrun, which nudging closes only at 10 %.
        // Left paused, the tick catches up like a late joiner: seek ahead, start on the frame.
        return;
      }
      let fromPos = NaN;
      try { fromPos = this.player.getPosition(); } catch { /* no media: nothing to measure */ }
      this._earlyStartFor = st; // a tick before `at` must leave this start alone
      this._play();
      this.pendingStartSample = { expected: this.startLatencyMs(), fromPos, playedAt: this.clock.now() };
    }, delay);
  }

  /** A paused seek's latency is simply the time until `seeked`. */
  _onSeeked() {
    this.ownSeekUntil = -Infinity;
    this.seekStartedAt = null;
    if (!this.pendingPausedSeek) return;
    const sample = this.clock.now() - this.pendingPausedSeek.issuedAt;
    this.pendingPausedSeek = null;
    this._learnSeek(sample);
    // A catch-up seek lands ahead of the room by what is left of its aim, and the start must
    // be armed that long minus the start latency before the frame: waiting for the next tick
    // (up to tickMs) ate into it and made the start late whenever less was left (sync
    // harness, late-join: HLS joiners started 15–45 ms late). Not from inside the player's
    // event (a tick may be what made the player report it).
    this.timers.setTimeout(() => { if (this._interval !== null) this.tick(); }, 0);
  }

  /** @param {number} sample */
  _learnSeek(sample) {
    const s = this.settings;
    const clamped = Math.max(0, Math.min(s.maxSeekLatencyMs, sample));
    this.seekSamples.push(clamped);
    if (this.seekSamples.length > Math.max(1, s.seekLeadSamples)) this.seekSamples.shift();
    const prev = this.learnedSeekMs;
    this.learnedSeekMs = prev === null ? clamped : prev + s.seekLatencyAlpha * (clamped - prev);
    this.sync.seekMs = this.learnedSeekMs;
  }

  /**
   * Learning from the error right after a hard seek or a scheduled start: a seek issued with
   * estimate L that really took L' leaves an error of (L − L')·rate, so L' = L − e/rate; the
   * same holds for a start, once the media clock moves.
   *
   * A start is measured only once the player has left the position it started from: a tick
   * that comes before the media clock moves (a start latency is 20–120 ms, a tick every 100)
   * sees only the time since play(), and took that for the latency, so the next start was late
   * again. Until then (at most a quarter of maxSeekLatencyMs) this returns false: nothing to
   * correct yet.
   * @param {number} errMs @param {PlaybackState} st @param {number} pos @param {number} now
   * @returns {boolean} false while a start is still waiting for the media clock to move
   */
  _learn(errMs, st, pos, now) {
    const s = this.settings;
    if (this.pendingSeekSample) {
      const sample = this.pendingSeekSample.estimateMs - errMs / st.rate;
      this.pendingSeekSample = null;
      this._learnSeek(sample);
    }
    const start = this.pendingStartSample;
    if (!start) return true;
    const maxStartMs = s.maxSeekLatencyMs / 4;
    // One millisecond of media (the usual currentTime resolution) counts as moving.
    if (Number.isFinite(start.fromPos) && pos - start.fromPos < 0.001) {
      if (now - start.playedAt < maxStartMs) return false;
      this.pendingStartSample = null; // never moved: a stall, not a latency
      return true;
    }
    // Started late by −e: start that much earlier next time (bounded like a seek).
    const sample = start.expected - errMs / st.rate;
    this.pendingStartSample = null;
    const clamped = Math.max(0, Math.min(maxStartMs, sample));
    // The first sample is taken whole: a player's start latency is steady, and averaging
    // it in from the first guess left several starts 20–60 ms late (each closed by a second
    // of rate nudging). Later samples are averaged like seek latencies.
    this.learnedStartMs = this.startLearned ? this.learnedStartMs + s.seekLatencyAlpha * (clamped - this.learnedStartMs) : clamped;
    this.startLearned = true;
    this.sync.startMs = this.learnedStartMs;
    return true;
  }
}
