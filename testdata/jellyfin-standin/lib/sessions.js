// Sessions: who is signed in on which device, what they play, and remote control of them.
// Jellyfin.Api/Controllers/SessionController.cs and PlaystateController.cs (v10.10.7,
// v10.11.11), Emby.Server.Implementations/Session/SessionManager.cs; DTO:
// MediaBrowser.Model/Dto/SessionInfoDto.cs (10.11; 10.10 serialises Controller/Session/SessionInfo.cs,
// same members), MediaBrowser.Model/Session/PlayerStateInfo.cs.
//
// Interface (kept small so remote-controllable sessions can be added beside browser ones):
//   const sessions = new Sessions({ serverId, itemDto: (userId, itemId) => BaseItemDto|null })
//   sessions.open({user, deviceId, deviceName, client, version, remoteEndPoint}) → session  (a login)
//   sessions.byToken(token) / get(id) / list({userId?, controllableByUserId?, deviceId?}) / close(session)
//   sessions.dto(session) → SessionInfoDto
//   sessions.setController(session, {send(messageType, data)} | null)
//       what delivers server→client messages (the /socket WebSocket for a browser; a simulated
//       TV session supplies its own). Without one, remote commands are accepted and dropped,
//       as Jellyfin does for a session that has no controller.
//   sessions.on('start'|'progress'|'stopped'|'capabilities'|'command', fn(session, body))
//   sessions.routes(router)   the HTTP endpoints below
// A session object: {id, token, userId, userName, client, deviceId, deviceName, version,
//   capabilities, playState, nowPlayingItemId, playSessionId, lastActivity, controller, reports}.
// A playing session's listed PositionTicks moves by itself, a second every second after each
// report, without moving LastPlaybackCheckIn, as Jellyfin's automatic progress does
// (MediaBrowser.Controller/Session/SessionInfo.cs; autoProgress in
// client-js/bench/lib/sim-remote-device.mjs).

import { createHash, randomBytes } from 'node:crypto';
import { HttpError, queryGet } from './http.js';
import { isoDate, strip } from './dto.js';
import { autoProgress } from '../../../client-js/bench/lib/sim-remote-device.mjs';

/**
 * The session id: SessionManager.CreateSessionInfo writes `(appName + deviceId).GetMD5()
 * .ToString("N")`, GetMD5 being `new Guid(MD5(UTF-16LE bytes))`
 * (MediaBrowser.Common/Extensions/BaseExtensions.cs); a .NET Guid prints its first three
 * fields little-endian, hence the byte swaps.
 */
export function sessionKey(client, deviceId) {
  const b = createHash('md5').update(`${client}${deviceId}`, 'utf16le').digest();
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return Buffer.from(order.map((i) => b[i])).toString('hex');
}

export class Sessions {
  /**
   * @param {{serverId: string, itemDto: (userId: string, itemId: string) => any, queueFullItems?: boolean}} deps
   * queueFullItems: SessionInfoDto's `NowPlayingQueueFullItems` (10.10, 10.11; Jellyfin 12
   * removed the property, commit a3b2b9c07f).
   */
  constructor({ serverId, itemDto, queueFullItems = true }) {
    this.serverId = serverId;
    this.itemDto = itemDto;
    this.queueFullItems = queueFullItems;
    /** @type {Map<string, any>} */
    this.byId = new Map();
    /** @type {Map<string, any>} */
    this.tokens = new Map();
    /** @type {Record<string, Set<Function>>} */
    this.listeners = {};
  }

  on(event, fn) {
    (this.listeners[event] ||= new Set()).add(fn);
    return () => this.listeners[event].delete(fn);
  }

  emit(event, ...args) {
    for (const fn of this.listeners[event] || []) fn(...args);
  }

  /** A login: a new access token for the user on that device (SessionManager.AuthenticateNewSession). */
  open({ user, deviceId, deviceName, client, version, remoteEndPoint = '127.0.0.1' }) {
    // One session per device: logging in again on the same device replaces the old token.
    for (const s of this.byId.values()) if (s.deviceId === deviceId && s.client === client) this.close(s);
    const session = {
      id: sessionKey(client, deviceId),
      token: randomBytes(16).toString('hex'),
      userId: user.id,
      userName: user.name,
      client,
      deviceId,
      deviceName,
      version,
      remoteEndPoint,
      capabilities: { PlayableMediaTypes: [], SupportedCommands: [], SupportsMediaControl: false, SupportsPersistentIdentifier: true },
      playState: { CanSeek: false, IsPaused: false, IsMuted: false, RepeatMode: 'RepeatNone', PlaybackOrder: 'Default' },
      nowPlayingItemId: null,
      playSessionId: null,
      lastActivity: Date.now(),
      lastPlaybackCheckIn: 0,
      /** when Jellyfin's automatic-progress timer was (re)started: the last start or progress report */
      autoProgressFrom: null,
      lastPaused: null,
      controller: null,
      /** every Sessions/Playing report, in order: [kind, body] */
      reports: [],
      /** Jellyfin's clock for this session's stamps (a simulated TV brings its own, finer) */
      now: Date.now,
      /** brings a simulated session's reports up to now before it is listed (remote-sessions.js) */
      catchUp: null,
    };
    this.byId.set(session.id, session);
    this.tokens.set(session.token, session);
    return session;
  }

  byToken(token) { return token ? this.tokens.get(token) || null : null; }
  get(id) { return this.byId.get(String(id).toLowerCase().replace(/-/g, '')) || null; }

  close(session) {
    this.byId.delete(session.id);
    this.tokens.delete(session.token);
    session.controller = null;
  }

  /**
   * GET /Sessions filters (SessionController.GetSessions → SessionManager.GetSessions, same at
   * v10.10.7 and v10.11.11). `caller` is {id, admin}; an administrator here also has
   * EnableRemoteControlOfOtherUsers, other users have the policy defaults (not it, but
   * EnableSharedDeviceControl). With `controllableByUserId`: only sessions that accept remote
   * control, and unless the caller may control others only user-less ones or the caller's;
   * without it, non-admins see their own and user-less sessions. Jellyfin does NOT leave out
   * the caller's own device (jellyfin-web's "Play on" menu does that itself).
   */
  list({ userId = null, controllableByUserId = null, deviceId = null, activeWithinSeconds = null, caller = null } = {}) {
    // A listing shows every report that has reached "Jellyfin" by now, whatever the event loop
    // did (a simulated TV's reports arrive at instants of its model, not of a timer).
    for (const s of this.byId.values()) s.catchUp?.();
    let out = [...this.byId.values()];
    // SessionManager.GetSessions compares device ids with StringComparison.OrdinalIgnoreCase.
    if (deviceId) out = out.filter((s) => String(s.deviceId).toLowerCase() === String(deviceId).toLowerCase());
    if (userId) out = out.filter((s) => s.userId === userId);
    const ownOrShared = (s) => !s.userId || (caller && s.userId === caller.id);
    if (controllableByUserId) {
      out = out.filter((s) => s.capabilities.SupportsMediaControl);
      if (caller && !caller.admin) out = out.filter(ownOrShared);
    } else if (caller && !caller.admin) {
      out = out.filter(ownOrShared);
    }
    if (activeWithinSeconds) out = out.filter((s) => Date.now() - s.lastActivity <= activeWithinSeconds * 1000);
    return out;
  }

  setController(session, controller) { session.controller = controller; }

  /** SessionInfoDto. */
  dto(s) {
    const playing = s.nowPlayingItemId ? this.itemDto(s.userId, s.nowPlayingItemId) : null;
    const ps = s.playState;
    const auto = playing && s.autoProgressFrom !== null && typeof ps.PositionTicks === 'number'
      ? autoProgress({ positionTicks: ps.PositionTicks, isPaused: ps.IsPaused }, s.now() - s.autoProgressFrom, typeof playing.RunTimeTicks === 'number' ? playing.RunTimeTicks : null)
      : { positionTicks: ps.PositionTicks, ticks: 0 };
    return strip({
      PlayState: strip({ ...ps, PositionTicks: auto.positionTicks }),
      AdditionalUsers: [],
      Capabilities: s.capabilities,
      RemoteEndPoint: s.remoteEndPoint,
      PlayableMediaTypes: s.capabilities.PlayableMediaTypes,
      Id: s.id,
      UserId: s.userId,
      UserName: s.userName,
      Client: s.client,
      LastActivityDate: isoDate(auto.ticks ? Math.max(s.lastActivity, s.autoProgressFrom + 1000 * auto.ticks) : s.lastActivity),
      LastPlaybackCheckIn: s.lastPlaybackCheckIn ? isoDate(s.lastPlaybackCheckIn) : '0001-01-01T00:00:00.0000000Z',
      LastPausedDate: s.lastPaused ? isoDate(s.lastPaused) : undefined,
      DeviceName: s.deviceName,
      NowPlayingItem: playing || undefined,
      DeviceId: s.deviceId,
      ApplicationVersion: s.version,
      IsActive: true,
      SupportsMediaControl: s.capabilities.SupportsMediaControl,
      SupportsRemoteControl: s.capabilities.SupportsMediaControl,
      NowPlayingQueue: [],
      NowPlayingQueueFullItems: this.queueFullItems ? [] : undefined,
      HasCustomDeviceName: false,
      ServerId: this.serverId,
      SupportedCommands: s.capabilities.SupportedCommands,
    });
  }

  /**
   * Applies a PlaybackStartInfo / PlaybackProgressInfo / PlaybackStopInfo body, received at
   * `at` (the session's clock; now unless a simulated TV says when its report arrived).
   */
  report(session, kind, body, at = session.now()) {
    const b = body && typeof body === 'object' ? body : {};
    session.reports.push([kind, b]);
    if (session.reports.length > 500) session.reports.splice(0, 250);
    session.lastActivity = at;
    session.lastPlaybackCheckIn = at;
    // SessionManager.OnPlaybackStart / OnPlaybackProgress restart the timer;
    // OnPlaybackStopped stops it.
    session.autoProgressFrom = kind === 'stopped' ? null : session.lastPlaybackCheckIn;
    if (kind === 'stopped') {
      session.nowPlayingItemId = null;
      session.playSessionId = null;
      session.playState = { CanSeek: false, IsPaused: false, IsMuted: false, RepeatMode: 'RepeatNone', PlaybackOrder: 'Default' };
    } else {
      if (b.ItemId) session.nowPlayingItemId = String(b.ItemId).replace(/-/g, '');
      if (b.PlaySessionId) session.playSessionId = b.PlaySessionId;
      const ps = session.playState;
      if (typeof b.PositionTicks === 'number') ps.PositionTicks = b.PositionTicks;
      if (typeof b.IsPaused === 'boolean') {
        if (b.IsPaused && !ps.IsPaused) session.lastPaused = at;
        ps.IsPaused = b.IsPaused;
      }
      if (typeof b.CanSeek === 'boolean') ps.CanSeek = b.CanSeek;
      if (typeof b.IsMuted === 'boolean') ps.IsMuted = b.IsMuted;
      if (typeof b.VolumeLevel === 'number') ps.VolumeLevel = b.VolumeLevel;
      if (b.MediaSourceId) ps.MediaSourceId = b.MediaSourceId;
      if (b.PlayMethod) ps.PlayMethod = b.PlayMethod;
      if (typeof b.AudioStreamIndex === 'number') ps.AudioStreamIndex = b.AudioStreamIndex;
      if (typeof b.SubtitleStreamIndex === 'number') ps.SubtitleStreamIndex = b.SubtitleStreamIndex;
      if (b.RepeatMode) ps.RepeatMode = b.RepeatMode;
      if (b.PlaybackOrder) ps.PlaybackOrder = b.PlaybackOrder;
    }
    this.emit(kind, session, b);
  }

  /**
   * Sends a message to a session through its controller (SessionManager.SendMessageToSession;
   * the WebSocket form is {MessageType, Data, MessageId}, Controller/Net/WebSocketMessage.cs).
   */
  send(session, messageType, data) {
    if (!session.controller) return false;
    session.controller.send(messageType, data);
    return true;
  }

  /** @param {import('./http.js').Router} router */
  routes(router) {
    const caller = (ctx) => ctx.session;
    router.add('GET', '/Sessions', (ctx) => {
      const q = (k) => queryGet(ctx.url, k);
      const controllable = q('controllableByUserId');
      const wanted = controllable ? controllable.replace(/-/g, '').toLowerCase() : null;
      // Another user's id is for administrators only (RequestHelpers.GetUserId: SecurityException → 403).
      if (wanted && wanted !== ctx.user.id && !ctx.user.admin) throw new HttpError(403, 'Forbidden');
      const list = this.list({
        controllableByUserId: wanted,
        deviceId: q('deviceId'),
        activeWithinSeconds: q('activeWithinSeconds') ? Number(q('activeWithinSeconds')) : null,
        caller: ctx.user,
      });
      return { json: list.map((s) => this.dto(s)) };
    });
    router.add('POST', '/Sessions/Capabilities', (ctx) => {
      const s = caller(ctx);
      const csv = (k) => (queryGet(ctx.url, k) || '').split(',').filter(Boolean);
      s.capabilities = { ...s.capabilities, PlayableMediaTypes: csv('playableMediaTypes'), SupportedCommands: csv('supportedCommands'), SupportsMediaControl: queryGet(ctx.url, 'supportsMediaControl') === 'true' };
      this.emit('capabilities', s, s.capabilities);
      return { status: 204 };
    });
    router.add('POST', '/Sessions/Capabilities/Full', (ctx) => {
      const s = caller(ctx);
      const b = ctx.body || {};
      if (typeof b !== 'object') throw new HttpError(400, 'capabilities must be a JSON object');
      s.capabilities = {
        PlayableMediaTypes: Array.isArray(b.PlayableMediaTypes) ? b.PlayableMediaTypes : [],
        SupportedCommands: Array.isArray(b.SupportedCommands) ? b.SupportedCommands : [],
        SupportsMediaControl: Boolean(b.SupportsMediaControl),
        SupportsPersistentIdentifier: b.SupportsPersistentIdentifier !== false,
        ...(b.DeviceProfile ? { DeviceProfile: b.DeviceProfile } : {}),
        ...(b.AppStoreUrl ? { AppStoreUrl: b.AppStoreUrl } : {}),
        ...(b.IconUrl ? { IconUrl: b.IconUrl } : {}),
      };
      this.emit('capabilities', s, s.capabilities);
      return { status: 204 };
    });
    // PlaystateController: the player's reports. All 204.
    router.add('POST', '/Sessions/Playing', (ctx) => { this.report(caller(ctx), 'start', ctx.body); return { status: 204 }; });
    router.add('POST', '/Sessions/Playing/Progress', (ctx) => { this.report(caller(ctx), 'progress', ctx.body); return { status: 204 }; });
    router.add('POST', '/Sessions/Playing/Stopped', (ctx) => { this.report(caller(ctx), 'stopped', ctx.body); return { status: 204 }; });
    router.add('POST', '/Sessions/Playing/Ping', (ctx) => { caller(ctx).lastActivity = Date.now(); return { status: 204 }; });
    router.add('POST', '/Sessions/Viewing', () => ({ status: 204 }));
    router.add('POST', '/Sessions/Logout', (ctx) => { this.close(caller(ctx)); return { status: 204 }; });
    // Remote control of another session (SessionController.SendPlaystateCommand, PlaystateCommand
    // enum: Stop, Pause, Unpause, NextTrack, PreviousTrack, Seek, Rewind, FastForward, PlayPause).
    const PLAYSTATE = ['Stop', 'Pause', 'Unpause', 'NextTrack', 'PreviousTrack', 'Seek', 'Rewind', 'FastForward', 'PlayPause'];
    router.add('POST', '/Sessions/{sessionId}/Playing/{command}', (ctx) => {
      const target = this.get(ctx.params.sessionId);
      if (!target) throw new HttpError(404, 'session not found');
      const command = PLAYSTATE.find((c) => c.toLowerCase() === ctx.params.command.toLowerCase());
      if (!command) throw new HttpError(400, `unknown playstate command ${ctx.params.command}`);
      // No ownership check: SessionManager.SendPlaystateCommand only calls AssertCanControl,
      // which checks that both sessions exist (v10.10.7 and v10.11.11). Any signed-in user may
      // command any session id; clients must check the target's UserId themselves.
      const seek = queryGet(ctx.url, 'seekPositionTicks');
      const data = strip({ Command: command, SeekPositionTicks: seek !== null ? Number(seek) : undefined, ControllingUserId: ctx.user.id });
      this.emit('command', target, data);
      this.send(target, 'Playstate', data);
      return { status: 204 };
    });
    // General commands (SessionController.SendFullGeneralCommand / SendGeneralCommand →
    // SessionManager.SendGeneralCommand, AssertCanControl only): a `GeneralCommand` message
    // {Name, Arguments, ControllingUserId}. A remote seat sends SetRepeatMode with the mode the
    // session already has to make the client report its position at once.
    const general = (ctx, name, args) => {
      const target = this.get(ctx.params.sessionId);
      if (!target) throw new HttpError(404, 'session not found');
      const data = { Name: name, Arguments: args, ControllingUserId: ctx.user.id };
      this.emit('command', target, data);
      this.send(target, 'GeneralCommand', data);
      return { status: 204 };
    };
    router.add('POST', '/Sessions/{sessionId}/Command', (ctx) => {
      const b = ctx.body;
      if (!b || typeof b !== 'object' || typeof b.Name !== 'string' || !b.Name) throw new HttpError(400, 'a GeneralCommand needs a Name');
      const args = b.Arguments && typeof b.Arguments === 'object' ? b.Arguments : {};
      return general(ctx, b.Name, args);
    });
    router.add('POST', '/Sessions/{sessionId}/Command/{command}', (ctx) => general(ctx, ctx.params.command, {}));
    router.add('POST', '/Sessions/{sessionId}/Playing', (ctx) => {
      const target = this.get(ctx.params.sessionId);
      if (!target) throw new HttpError(404, 'session not found');
      // No ownership check either (SessionManager.SendPlayCommand → AssertCanControl).
      const q = (k) => queryGet(ctx.url, k);
      const ids = (q('itemIds') || '').split(',').filter(Boolean);
      if (!ids.length || !q('playCommand')) throw new HttpError(400, 'playCommand and itemIds are required');
      const data = strip({ ItemIds: ids, StartPositionTicks: q('startPositionTicks') !== null ? Number(q('startPositionTicks')) : undefined, PlayCommand: q('playCommand'), ControllingUserId: ctx.user.id });
      this.emit('command', target, data);
      this.send(target, 'Play', data);
      return { status: 204 };
    });
  }
}
