// Simulated remote-controllable sessions (TV apps) in the stand-in: a SimRemoteDevice
// (client-js/bench/lib/sim-remote-device.mjs: command latency, slow start, seek rebuffer,
// periodic and event reports with delay and jitter) signed in as a user, plugged into
// Sessions like a real client is:
//   - it logs in (Sessions.open: a session with its own token and id) and posts its
//     capabilities (SupportsMediaControl, as native clients do through /Sessions/Capabilities/Full);
//   - Jellyfin's messages to it (`Play`: PlayRequest {ItemIds, StartPositionTicks, PlayCommand},
//     `Playstate`: PlaystateRequest {Command, SeekPositionTicks}, `GeneralCommand`: {Name,
//     Arguments}; MediaBrowser.Model/Session/PlayRequest.cs, PlaystateRequest.cs, GeneralCommand.cs) reach the model through the session's controller,
//     as SessionManager.SendMessageToSession hands them to a session's WebSocket;
//   - the model's reports are applied with Sessions.report (`start` on a new item, `progress`,
//     `stopped`), stamped with the instant the model says they reached "Jellyfin"
//     (LastPlaybackCheckIn, as SessionManager.OnPlaybackProgress → UpdateNowPlayingItem sets
//     it), and before every listing: a late timer never passes for a report lag the model
//     did not have (how far a report lags is the model's `reportDelayMs`, nothing else).
//
//   import { addRemoteSession } from './lib/remote-sessions.js';
//   const tv = addRemoteSession(jf.sessions, { user: jf.user('Bob'), deviceName: 'Living room TV',
//     reportPeriodMs: 1000, commandLatencyMs: [20, 60], … any SimRemoteDevice option });
//   tv.session (the Sessions entry) · tv.device (the model: truth, .commands) · tv.stop()

import { performance } from 'node:perf_hooks';
import { SimRemoteDevice } from '../../../client-js/bench/lib/sim-remote-device.mjs';

/** What a native TV client declares it supports (a subset of GeneralCommandType). */
const COMMANDS = ['DisplayMessage', 'SetVolume', 'VolumeUp', 'VolumeDown', 'Mute', 'Unmute', 'ToggleMute', 'SetAudioStreamIndex', 'SetSubtitleStreamIndex', 'SetRepeatMode', 'Play', 'Playstate'];

/**
 * @param {import('./sessions.js').Sessions} sessions
 * @param {{user: {id: string, name: string}, deviceName?: string, client?: string, deviceId?: string,
 *   version?: string, pumpMs?: number, [k: string]: any}} o  plus any SimRemoteDevice option
 */
export function addRemoteSession(sessions, o) {
  const { user, deviceName = 'Living room TV', client = 'Jellyfin Android TV', version = '0.18.11', pumpMs = 5, ...deviceOpts } = o;
  const deviceId = o.deviceId || `tv-${Math.random().toString(16).slice(2, 10)}`;
  const session = sessions.open({ user, deviceId, deviceName, client, version, remoteEndPoint: '192.168.1.42' });
  session.capabilities = { PlayableMediaTypes: ['Audio', 'Video'], SupportedCommands: COMMANDS, SupportsMediaControl: true, SupportsPersistentIdentifier: true };
  // The session's stamps and the model run on one clock, finer than Date.now().
  const now = () => performance.timeOrigin + performance.now();
  session.now = now;
  const device = new SimRemoteDevice({ ...deviceOpts, now, id: session.id, userId: user.id, userName: user.name, deviceName, client, deviceId });
  sessions.setController(session, {
    send(messageType, data) {
      if (messageType === 'Play' && Array.isArray(data.ItemIds) && data.ItemIds.length) {
        device.command('PlayNow', { itemId: String(data.ItemIds[0]).replace(/-/g, '').toLowerCase(), startTicks: data.StartPositionTicks ?? 0 });
      } else if (messageType === 'Playstate' && typeof data.Command === 'string') {
        device.command(/** @type {any} */ (data.Command), { seekTicks: data.SeekPositionTicks });
      } else if (messageType === 'GeneralCommand' && typeof data.Name === 'string') {
        device.generalCommand(data.Name, data.Arguments || {});
      }
    },
  });
  // Reports reach "Jellyfin" when the model says they arrive: applied before each listing,
  // and every few ms for the stand-in's event listeners.
  let heldAt = null;
  let lastItem = null;
  const catchUp = () => {
    device.truePosition(); // advances the model to now
    if (device.heldAt === heldAt || !device.held) return;
    heldAt = device.heldAt;
    const at = /** @type {number} */ (device.heldAt);
    const r = device.held;
    if (!r.itemId) {
      if (lastItem) sessions.report(session, 'stopped', { ItemId: lastItem, PositionTicks: 0 }, at);
      lastItem = null;
      return;
    }
    const kind = r.itemId === lastItem ? 'progress' : 'start';
    lastItem = r.itemId;
    sessions.report(session, kind, { ItemId: r.itemId, PositionTicks: r.positionTicks, IsPaused: r.isPaused, CanSeek: true, PlayMethod: 'DirectPlay', MediaSourceId: r.itemId, RepeatMode: device.repeatMode }, at);
  };
  session.catchUp = catchUp;
  const pump = setInterval(catchUp, pumpMs);
  pump.unref?.();
  return {
    session,
    device,
    stop() {
      clearInterval(pump);
      sessions.close(session);
    },
  };
}
