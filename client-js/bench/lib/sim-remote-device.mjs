// @ts-check
/**
 * A simulated remote-controllable Jellyfin client (a TV app), as Jellyfin's server sees it:
 * it receives Play / Playstate commands, acts on them after its own latency, and reports its
 * playback to Jellyfin every so often and after events, each report reaching Jellyfin after
 * a delay with jitter. Jellyfin keeps only the latest report and stamps it with its own clock
 * (LastPlaybackCheckIn). The sync harness and the Sessions stand-in use it; tests use it with
 * a virtual clock.
 *
 * What it imitates, because each is something a remote seat must cope with:
 *   - command latency (Jellyfin → the device's WebSocket → the player), with jitter;
 *   - a slow start: PlayNow loads the item for seconds before it plays (nothing reported
 *     meanwhile: the old item is stopped, the new one not started);
 *   - a seek that freezes the picture while it rebuffers, then plays on;
 *   - unpause that takes a moment to move;
 *   - reports: periodic (jellyfin-apiclient throttles `timeupdate` progress to one per 10 s;
 *     native apps often report every 1–5 s), plus one right after pause, unpause, start and
 *     (if the jump is large enough: jellyfin-apiclient's rule is 5 s off the expected
 *     position) a seek; positions floored to whole milliseconds as jellyfin-web's
 *     playbackmanager does (Math.floor(10000 * currentTime()) ticks of a ms-based time);
 *   - event reports as each kind of client makes them (`eventReports`): 'default' as above;
 *     'all' — a native client that reports at once after every command it obeys (a seek of
 *     any size, and a SetRepeatMode general command, which jellyfin-web's playbackmanager
 *     answers with a `repeatmodechange` progress report); 'none' — periodic reports only
 *     (and PlaybackStart); 'web' — genuine jellyfin-web in a browser window used as the TV
 *     (jellyfin-web 10.11 playbackmanager.js + jellyfin-apiclient's reportPlaybackProgress,
 *     as measured against one: docs/performance.md, "Remote seats"):
 *       · one progress report `reportPeriodMs` (10 s) after the previous report of ANY kind
 *         (the apiclient holds `timeupdate` back until 10 s have passed since the last report
 *         and then sends the latest one: its position was read at the latest `timeupdate`,
 *         up to `reportTrailMs` (250 ms) before), also while paused (playbackmanager's 10 s
 *         progress interval);
 *       · Pause reported at once, exact; Unpause reported at once with the OLD position (the
 *         `play` event, before the picture moves `unpauseMs` later);
 *       · a Seek reported only if it lands ≥ `seekReportJumpS` (5 s) away from where the
 *         last report, extrapolated as if playing, says the player should be (the
 *         apiclient's rule; also while paused), and then with the target position while
 *         the picture is still frozen (currentTime answers the target during a seek);
 *       · SetRepeatMode answered at once with the exact position, but only while the item
 *         plays (not while it loads: playbackmanager reports only once the stream started);
 *   - reports that trail the true position (`reportTrailMs`: the player's position is read a
 *     little before the report is made), and a report right after a Seek that sometimes still
 *     carries the pre-seek position (`staleSeekReportProb`);
 *   - seeks and starts that land on a keyframe before the target (seekSnapS > 0: a
 *     transcode or a stream with sparse keyframes), so a correction may never get under the
 *     threshold;
 *   - a device that stops: it neither reports nor obeys any more, but Jellyfin still lists
 *     its session (SessionManager drops idle sessions only after minutes).
 *
 * Everything is computed lazily from timed events on the injected clock, so the true state
 * is exact at any instant, whatever the event loop does.
 *
 * Shapes (toSessionInfoDto): MediaBrowser.Model/Dto/SessionInfoDto.cs and
 * MediaBrowser.Model/Session/PlayerStateInfo.cs, ClientCapabilitiesDto.cs at v10.10.7 and
 * v10.11.11 (identical for these members), serialised as Jellyfin does
 * (src/Jellyfin.Extensions/Json/JsonDefaults.cs: PascalCase, null members omitted, Guids
 * "N", enums as strings; JsonDateTimeConverter: UTC with seven fractional digits).
 *
 * API:
 *   new SimRemoteDevice({now, rng?, id, userId, userName, deviceName, client?, deviceId?,
 *     jfSkewMs?, commandLatencyMs?, reportPeriodMs?, reportJitterMs?, reportDelayMs?,
 *     loadMs?, seekStallMs?, unpauseMs?, seekReportJumpS?, seekSnapS?, ignores?, items?,
 *     eventReports?, reportTrailMs?, staleSeekReportProb?})
 *   .command(kind, args)     a command Jellyfin forwards now: 'PlayNow' {itemId, startTicks},
 *                            'Pause', 'Unpause', 'Seek' {seekTicks}; logged in .commands
 *   .generalCommand(name, args)   a GeneralCommand (SetRepeatMode {RepeatMode}); logged in
 *                            .commands as kind 'General:<name>'
 *   .truePosition(t?) / .isAdvancing(t?) / .trueItem(t?)    the god's-eye truth
 *   .toSessionInfoDto(t?)    what GET /Sessions says about it at t
 *   .stopResponding() / .resumeResponding()
 *   .localPlay(itemId, seconds)   someone starts something on the TV itself
 *
 * @module bench/sim-remote-device
 */

export const TICKS_PER_MS = 10_000;

/** Jellyfin's DateTime format: UTC, seven fractional digits (JsonDateTimeConverter). */
export function jellyfinDate(ms) {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // …sss Z
  const sub = Math.round((ms - whole) * 10_000); // the 4 digits below the ms
  return `${iso.slice(0, 23)}${String(Math.min(9999, sub)).padStart(4, '0')}Z`;
}

/** Guid.Empty's DateTime twin: a session that never reported playback. */
export const NEVER = '0001-01-01T00:00:00.0000000Z';

/**
 * Jellyfin's automatic progress (MediaBrowser.Controller/Session/SessionInfo.cs,
 * StartAutomaticProgress / OnProgressTimerCallback, v10.10.7 and v10.11.11): after each real
 * report of a playing item (SessionManager.OnPlaybackStart / OnPlaybackProgress), a timer adds
 * one second (ProgressIncrement, 10,000,000 ticks) to the session's PositionTicks every 1000 ms
 * while the report said not paused, never past the item's runtime, through
 * OnPlaybackProgress(info, isAutomated: true) — which does NOT move LastPlaybackCheckIn
 * (UpdateNowPlayingItem(…, updateLastCheckInTime: !isAutomated)) but does move
 * LastActivityDate. So `GET /Sessions` shows a playing session's reported position advanced
 * by whole seconds beside the time of the report it came from.
 * @param {{positionTicks: number|null, isPaused: boolean}} report what Jellyfin holds
 * @param {number} sinceMs time since the timer was started (the report's arrival, plus the
 *   server's own processing before StartAutomaticProgress)
 * @param {number|null} [runTimeTicks]
 * @returns {{positionTicks: number|null, ticks: number}} the position shown and the timer ticks so far
 */
export function autoProgress(report, sinceMs, runTimeTicks = null) {
  if (report.positionTicks === null || report.isPaused || !(sinceMs >= 1000)) return { positionTicks: report.positionTicks, ticks: 0 };
  const ticks = Math.floor(sinceMs / 1000);
  let positionTicks = Math.max(0, report.positionTicks);
  // Each tick adds a second unless that reaches the runtime (then it adds nothing).
  for (let i = 0; i < ticks; i++) {
    if (runTimeTicks !== null && positionTicks + 10_000_000 >= runTimeTicks) break;
    positionTicks += 10_000_000;
  }
  return { positionTicks, ticks };
}

/** @param {() => number} rng @param {[number, number]|number} r */
const pick = (rng, r) => (Array.isArray(r) ? r[0] + rng() * (r[1] - r[0]) : r);

export class SimRemoteDevice {
  /**
   * @param {{now: () => number, rng?: () => number, id: string, userId: string, userName?: string,
   *   deviceName?: string, client?: string, deviceId?: string, deviceType?: string, jfSkewMs?: number,
   *   commandLatencyMs?: [number, number]|number, reportPeriodMs?: number, reportJitterMs?: number,
   *   reportDelayMs?: [number, number]|number, loadMs?: [number, number]|number,
   *   seekStallMs?: [number, number]|number, unpauseMs?: [number, number]|number,
   *   seekReportJumpS?: number, seekSnapS?: number, ignores?: string[], items?: Record<string, {name: string, runTimeTicks?: number}>,
   *   eventReports?: 'default'|'all'|'none'|'web', reportTrailMs?: [number, number]|number, staleSeekReportProb?: number,
   *   serverId?: string, autoProgress?: boolean, autoProgressDelayMs?: [number, number]|number}} o
   */
  constructor(o) {
    this.now = o.now;
    this.rng = o.rng || Math.random;
    this.id = o.id;
    this.userId = o.userId;
    this.userName = o.userName ?? 'user';
    this.deviceName = o.deviceName ?? 'Living room TV';
    this.client = o.client ?? 'Jellyfin Android TV';
    this.deviceId = o.deviceId ?? `dev-${o.id}`;
    this.deviceType = o.deviceType ?? 'Tv';
    this.serverId = o.serverId ?? '4bd4c1a8e1d84e6aa0d3f0b6c1b0e9a2';
    /** Jellyfin's clock minus ours: Jellyfin runs on another machine. */
    this.jfSkewMs = o.jfSkewMs ?? 0;
    this.commandLatencyMs = o.commandLatencyMs ?? [60, 200];
    this.reportPeriodMs = o.reportPeriodMs ?? 10_000;
    this.reportJitterMs = o.reportJitterMs ?? 200;
    this.reportDelayMs = o.reportDelayMs ?? [5, 40];
    this.loadMs = o.loadMs ?? [1500, 4000];
    this.seekStallMs = o.seekStallMs ?? [300, 1200];
    this.unpauseMs = o.unpauseMs ?? [30, 150];
    this.seekReportJumpS = o.seekReportJumpS ?? 0;
    this.seekSnapS = o.seekSnapS ?? 0;
    this.eventReports = o.eventReports ?? 'default';
    this.reportTrailMs = o.reportTrailMs ?? 0;
    this.staleSeekReportProb = o.staleSeekReportProb ?? 0;
    /** Jellyfin's automatic progress (see autoProgress): on, as in every Jellyfin. */
    this.autoProgress = o.autoProgress ?? true;
    /** Jellyfin's own work between stamping a report and starting its progress timer (a
     *  constant by default: no draw from `rng`, so seeded runs keep their sequence). */
    this.autoProgressDelayMs = o.autoProgressDelayMs ?? 10;
    /** PlayState.RepeatMode, what SetRepeatMode changes. */
    this.repeatMode = 'RepeatNone';
    /** Commands this client accepts but does nothing with (some apps implement no Seek). */
    this.ignores = new Set(o.ignores ?? []);
    this.items = o.items ?? {};
    /** Every command received: {t, kind, args}. */
    /** @type {{t: number, kind: string, args: any}[]} */
    this.commands = [];
    this.responding = true;
    // Media state, piecewise: position `base` at `baseT`, moving from `resumeAt` if `moving`.
    /** @type {string|null} */
    this.item = null;
    this.base = 0;
    this.baseT = this.now();
    this.moving = false;
    this.resumeAt = this.baseT;
    /** Events not applied yet, in time order. @type {{t: number, fn: () => void}[]} */
    this._events = [];
    /** Reports on their way to Jellyfin. @type {{arrive: number, report: any}[]} */
    this._inFlight = [];
    /** What Jellyfin holds: the latest report to arrive, and when (our clock). */
    this.held = /** @type {any} */ (null);
    this.heldAt = /** @type {number|null} */ (null);
    /** When Jellyfin started its automatic-progress timer for the held report. */
    this.heldTimerAt = /** @type {number|null} */ (null);
    this.lastActivity = this.baseT;
    this._nextPeriodic = this.baseT + this.rng() * this.reportPeriodMs;
    this.reportsMade = 0;
    /** 'web': time and position of the last report sent (the apiclient's throttle state). */
    this._lastRepT = -Infinity;
    this._lastRepPos = 0;
  }

  // ---- truth ----

  /** @param {number} [t] */
  truePosition(t = this.now()) {
    this._advance(t);
    return this._pos(t);
  }

  /** @param {number} [t] */
  isAdvancing(t = this.now()) {
    this._advance(t);
    return Boolean(this.item) && this.moving && t >= this.resumeAt;
  }

  /** @param {number} [t] */
  trueItem(t = this.now()) {
    this._advance(t);
    return this.item;
  }

  _pos(t) {
    return this.base + (this.moving && t > this.resumeAt ? (t - Math.max(this.resumeAt, this.baseT)) / 1000 : 0);
  }

  /** Re-anchor at time x (before changing the state at x). */
  _rebase(x) {
    this.base = this._pos(x);
    this.baseT = x;
    if (this.resumeAt < x) this.resumeAt = x;
  }

  // ---- lazily applied events ----

  _at(t, fn) {
    this._events.push({ t, fn });
    this._events.sort((a, b) => a.t - b.t);
  }

  /** Applies every event, periodic report and arrival up to time t, in order. */
  _advance(t) {
    for (;;) {
      const ev = this._events[0];
      const nextEv = ev ? ev.t : Infinity;
      const nextRep = this._nextPeriodic;
      const nextArr = this._inFlight.length ? Math.min(...this._inFlight.map((x) => x.arrive)) : Infinity;
      const first = Math.min(nextEv, nextRep, nextArr);
      if (first > t) break;
      if (first === nextArr) {
        const i = this._inFlight.findIndex((x) => x.arrive === nextArr);
        const [{ report }] = this._inFlight.splice(i, 1);
        this.held = report;
        this.heldAt = nextArr;
        this.lastActivity = nextArr;
        this.heldTimerAt = nextArr + pick(this.rng, this.autoProgressDelayMs);
      } else if (first === nextEv) {
        this._events.shift();
        ev.fn();
      } else {
        this._nextPeriodic = nextRep + Math.max(100, this.reportPeriodMs + (this.rng() * 2 - 1) * this.reportJitterMs);
        if (this.item && this.responding) this._report(nextRep, undefined, true);
      }
    }
  }

  /**
   * The device sends a progress report made at time x (with the position it read a little
   * before, or `pos` when given: a stale one). `periodic`: the throttled `timeupdate` kind
   * (on a 'web' device only that kind trails: event reports read the position at once).
   * @param {number} x @param {number} [pos] @param {boolean} [periodic]
   */
  _report(x, pos, periodic = false) {
    if (!this.responding) return;
    this.reportsMade += 1;
    const web = this.eventReports === 'web';
    const trails = !web || periodic;
    if (pos === undefined) pos = Math.max(0, this._pos(x) - (trails && this.moving && x > this.resumeAt ? pick(this.rng, this.reportTrailMs) / 1000 : 0));
    if (web) {
      // Every report restarts the apiclient's 10 s wait.
      this._lastRepT = x;
      this._lastRepPos = pos;
      this._nextPeriodic = x + Math.max(100, this.reportPeriodMs + (this.rng() * 2 - 1) * this.reportJitterMs);
    }
    this._inFlight.push({
      arrive: x + pick(this.rng, this.reportDelayMs),
      report: {
        itemId: this.item,
        // jellyfin-web: Math.floor(10000 * player.currentTime()) with currentTime in ms.
        positionTicks: this.item ? Math.floor(pos * 1000) * TICKS_PER_MS : null,
        isPaused: !this.moving,
      },
    });
  }

  // ---- commands ----

  /**
   * A command Jellyfin forwards to the device now (SessionManager.SendPlayCommand /
   * SendPlaystateCommand → the device's WebSocket).
   * @param {'PlayNow'|'Pause'|'Unpause'|'Seek'|'Stop'} kind @param {any} [args]
   */
  command(kind, args = {}) {
    const now = this.now();
    this._advance(now);
    this.commands.push({ t: now, kind, args });
    if (!this.responding || this.ignores.has(kind)) return;
    const x = now + pick(this.rng, this.commandLatencyMs);
    if (kind === 'PlayNow') {
      const asked = (args.startTicks ?? 0) / 1e7;
      const start = this.seekSnapS > 0 ? Math.floor(asked / this.seekSnapS) * this.seekSnapS : asked;
      const ready = x + pick(this.rng, this.loadMs);
      this._at(x, () => {
        // The old item stops: Jellyfin clears NowPlayingItem on PlaybackStopped.
        this._rebase(x);
        this.item = null;
        this.moving = false;
        this._reportStopped(x);
      });
      this._at(ready, () => {
        this.item = args.itemId;
        this.base = start;
        this.baseT = ready;
        this.moving = true;
        this.resumeAt = ready;
        this._report(ready); // PlaybackStart
      });
    } else if (kind === 'Pause') {
      this._at(x, () => {
        if (!this.item) return;
        this._rebase(x);
        this.moving = false;
        if (this.eventReports !== 'none') this._report(x);
      });
    } else if (kind === 'Unpause') {
      this._at(x, () => {
        if (!this.item || this.moving) return;
        this._rebase(x);
        this.moving = true;
        this.resumeAt = x + pick(this.rng, this.unpauseMs);
        if (this.eventReports !== 'none') this._report(x);
      });
    } else if (kind === 'Seek') {
      const asked = (args.seekTicks ?? 0) / 1e7;
      const to = this.seekSnapS > 0 ? Math.floor(asked / this.seekSnapS) * this.seekSnapS : asked;
      this._at(x, () => {
        if (!this.item) return;
        const expected = this._pos(x);
        this._rebase(x);
        this.base = to;
        if (this.moving) this.resumeAt = x + pick(this.rng, this.seekStallMs);
        if (this.eventReports === 'web') {
          // jellyfin-apiclient: a `timeupdate` within 10 s of the last report goes out at once
          // only if it is ≥ 5 s from that report extrapolated as if playing; it is made as
          // the seek starts (currentTime already answers the target, the picture is frozen).
          const since = x - this._lastRepT;
          const extrapolated = this._lastRepPos + since / 1000;
          if (since >= this.reportPeriodMs || Math.abs(to - extrapolated) >= this.seekReportJumpS) this._report(x, to);
          return;
        }
        const reportIt = this.eventReports === 'all' || (this.eventReports === 'default' && Math.abs(to - expected) > this.seekReportJumpS);
        if (!reportIt) return;
        const at = this.moving ? this.resumeAt : x;
        // Some clients read the position before the player took the seek in.
        if (this.rng() < this.staleSeekReportProb) this._report(at, expected);
        else this._report(at);
      });
    } else if (kind === 'Stop') {
      this._at(x, () => {
        this._rebase(x);
        this.item = null;
        this.moving = false;
        this._reportStopped(x);
      });
    }
  }

  /**
   * A GeneralCommand Jellyfin forwards now (SessionManager.SendGeneralCommand → the device's
   * WebSocket `GeneralCommand` message). SetRepeatMode sets the repeat mode; a client that
   * reports on every command reports at once (jellyfin-web: playbackmanager.setRepeatMode
   * triggers `repeatmodechange`, answered by a progress report that is not throttled).
   * @param {string} name @param {any} [args]
   */
  generalCommand(name, args = {}) {
    const now = this.now();
    this._advance(now);
    this.commands.push({ t: now, kind: `General:${name}`, args });
    if (!this.responding || this.ignores.has(name) || name !== 'SetRepeatMode') return;
    const x = now + pick(this.rng, this.commandLatencyMs);
    this._at(x, () => {
      if (typeof args.RepeatMode === 'string') this.repeatMode = args.RepeatMode;
      // ('web': playbackmanager answers only once the stream started; a loading item is
      // no item here yet.)
      if (this.item && (this.eventReports === 'all' || this.eventReports === 'web')) this._report(x);
    });
  }

  _reportStopped(x) {
    if (!this.responding) return;
    this._inFlight.push({ arrive: x + pick(this.rng, this.reportDelayMs), report: { itemId: null, positionTicks: null, isPaused: false } });
  }

  /** Someone uses the TV's own remote: another item, from `seconds`. */
  localPlay(itemId, seconds) {
    const now = this.now();
    this._advance(now);
    this.item = itemId;
    this.base = seconds;
    this.baseT = now;
    this.moving = true;
    this.resumeAt = now;
    this._report(now);
  }

  stopResponding() {
    this._advance(this.now());
    this.responding = false;
  }

  resumeResponding() {
    this._advance(this.now());
    this.responding = true;
  }

  // ---- what Jellyfin answers ----

  /**
   * The session as `GET /Sessions` returns it (SessionInfoDto), at time t.
   * @param {number} [t]
   */
  toSessionInfoDto(t = this.now()) {
    this._advance(t);
    const h = this.held;
    const item = h && h.itemId ? this.items[h.itemId] || { name: 'Item' } : null;
    const runTimeTicks = item ? item.runTimeTicks ?? 72_000_000_000 : null;
    const auto = item && this.autoProgress && this.heldTimerAt !== null
      ? autoProgress(h, t - this.heldTimerAt, runTimeTicks) : { positionTicks: h ? h.positionTicks : null, ticks: 0 };
    /** @type {Record<string, any>} */
    const playState = { CanSeek: Boolean(item), IsPaused: Boolean(h && h.itemId && h.isPaused), IsMuted: false, RepeatMode: this.repeatMode, PlaybackOrder: 'Default' };
    if (item) {
      playState.PositionTicks = auto.positionTicks;
      playState.MediaSourceId = h.itemId;
      playState.PlayMethod = 'DirectPlay';
    }
    const commands = ['DisplayMessage', 'SetVolume', 'VolumeUp', 'VolumeDown', 'Mute', 'Unmute', 'ToggleMute', 'SetAudioStreamIndex', 'SetSubtitleStreamIndex', 'SetRepeatMode'];
    /** @type {Record<string, any>} */
    const dto = {
      PlayState: playState,
      AdditionalUsers: [],
      Capabilities: { PlayableMediaTypes: ['Audio', 'Video'], SupportedCommands: commands, SupportsMediaControl: true, SupportsPersistentIdentifier: true },
      RemoteEndPoint: '192.168.1.42',
      PlayableMediaTypes: ['Audio', 'Video'],
      Id: this.id,
      UserId: this.userId,
      UserName: this.userName,
      Client: this.client,
      LastActivityDate: jellyfinDate((auto.ticks ? Math.max(this.lastActivity, /** @type {number} */ (this.heldTimerAt) + 1000 * auto.ticks) : this.lastActivity) + this.jfSkewMs),
      LastPlaybackCheckIn: this.heldAt === null ? NEVER : jellyfinDate(this.heldAt + this.jfSkewMs),
      DeviceName: this.deviceName,
      DeviceType: this.deviceType,
      DeviceId: this.deviceId,
      ApplicationVersion: '0.18.11',
      IsActive: true,
      SupportsMediaControl: true,
      SupportsRemoteControl: true,
      NowPlayingQueue: [],
      NowPlayingQueueFullItems: [],
      HasCustomDeviceName: false,
      ServerId: this.serverId,
      SupportedCommands: commands,
    };
    if (item) {
      dto.NowPlayingItem = { Name: item.name, ServerId: this.serverId, Id: h.itemId, Type: 'Movie', MediaType: 'Video', RunTimeTicks: runTimeTicks, IsFolder: false };
      if (h.isPaused) dto.LastPausedDate = dto.LastPlaybackCheckIn;
    }
    return dto;
  }
}
