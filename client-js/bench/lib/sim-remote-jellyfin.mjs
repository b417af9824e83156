// @ts-check
/**
 * Jellyfin's session endpoints over real HTTP on loopback, backed by SimRemoteDevice models:
 * what a remote seat talks to in the sync harness and in tests. Behaviour follows
 * jellyfin/jellyfin at v10.10.7 and v10.11.11 (identical for these endpoints):
 *
 *   GET  /Sessions?controllableByUserId=&deviceId=&activeWithinSeconds=
 *        Jellyfin.Api/Controllers/SessionController.cs GetSessions → Emby.Server.
 *        Implementations/Session/SessionManager.cs GetSessions: `controllableByUserId` of
 *        another user is 403 for non-admins (Jellyfin.Api/Helpers/RequestHelpers.cs
 *        GetUserId throws SecurityException); with it, only SupportsRemoteControl sessions,
 *        and unless the caller has EnableRemoteControlOfOtherUsers only sessions with no user
 *        or the caller's own; without it, non-admins see their own and user-less sessions.
 *   POST /Sessions/{id}/Playing?playCommand=&itemIds=&startPositionTicks=   → 204
 *   POST /Sessions/{id}/Playing/{Pause|Unpause|Seek|Stop|…}?seekPositionTicks= → 204
 *        SessionManager.SendPlayCommand / SendPlaystateCommand: an unknown id is 404
 *        (GetSessionToRemoteControl throws ResourceNotFoundException); AssertCanControl
 *        checks nothing but existence, so ANY signed-in user may command ANY session — the
 *        reason the remote seat checks ownership itself.
 *   POST /Sessions/{id}/Command  body GeneralCommand {Name, Arguments}          → 204
 *   POST /Sessions/{id}/Command/{name}                                           → 204
 *        SessionController.SendFullGeneralCommand / SendGeneralCommand → SessionManager.
 *        SendGeneralCommand (AssertCanControl again); the device gets a `GeneralCommand`
 *        message. A body that is not a GeneralCommand is 400.
 *   Anything without a valid `Authorization: MediaBrowser … Token="…"` is 401; unknown
 *   routes are 404 and logged.
 *
 * API:
 *   startSimJellyfin({users, devices, busyMs?}) → Promise<{url, stop(), log, add(device)}>
 *     users    [{id, name, token, admin?, controlOthers?}]
 *     devices  SimRemoteDevice[] (their own clocks drive them)
 *     busyMs   () => ms: a busy Jellyfin, each request handled only after that long (queued
 *              and authenticated before it lists or pushes a command: what a loaded real one
 *              does; give its clients the same range as `reportDelayMs`)
 *     log      every request: {method, path, query, userId, status}
 *
 * @module bench/sim-remote-jellyfin
 */

import http from 'node:http';

const PLAYSTATE = new Set(['Stop', 'Pause', 'Unpause', 'NextTrack', 'PreviousTrack', 'Seek', 'Rewind', 'FastForward', 'PlayPause']);
const PLAY_COMMANDS = new Set(['PlayNow', 'PlayNext', 'PlayLast', 'PlayInstantMix', 'PlayShuffle']);

/** The Token="…" of a MediaBrowser/Emby authorization header, or null. */
export function tokenFrom(header) {
  if (typeof header !== 'string') return null;
  const m = /^\s*(?:MediaBrowser|Emby)\s+(.*)$/i.exec(header);
  if (!m) return null;
  const t = /(?:^|,)\s*Token="([^"]*)"/i.exec(m[1]);
  return t ? t[1] : null;
}

const norm = (id) => String(id || '').replace(/-/g, '').toLowerCase();

/**
 * @param {{users: {id: string, name: string, token: string, admin?: boolean, controlOthers?: boolean}[],
 *   devices: import('./sim-remote-device.mjs').SimRemoteDevice[], busyMs?: () => number}} o
 */
export async function startSimJellyfin({ users, devices, busyMs = () => 0 }) {
  /** @type {{method: string, path: string, query: Record<string, string>, userId: string|null, status: number}[]} */
  const log = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= 65536) chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const wait = busyMs();
      if (wait > 0) setTimeout(() => handle(req, res, body), wait);
      else handle(req, res, body);
    });
  });
  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {string} bodyText */
  function handle(req, res, bodyText) {
    const url = new URL(req.url || '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const user = users.find((u) => u.token === tokenFrom(req.headers.authorization)) || null;
    const send = (status, body) => {
      log.push({ method: req.method || '', path: url.pathname, query, userId: user ? user.id : null, status });
      if (body === undefined) {
        res.writeHead(status);
        res.end();
        return;
      }
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(text);
    };
    if (!user) return send(401);
    // ASP.NET routing is case-insensitive.
    const path = url.pathname.replace(/\/+$/, '');
    const lower = path.toLowerCase();
    if (req.method === 'GET' && lower === '/sessions') {
      const q = {};
      for (const [k, v] of url.searchParams) q[k.toLowerCase()] = v;
      const controllable = q.controllablebyuserid || null;
      if (controllable && norm(controllable) !== norm(user.id) && !user.admin) return send(403);
      let list = devices.map((d) => d.toSessionInfoDto());
      if (q.deviceid) list = list.filter((s) => String(s.DeviceId).toLowerCase() === q.deviceid.toLowerCase());
      const mineOrShared = (s) => /^[0-]*$/.test(s.UserId || '') || norm(s.UserId) === norm(user.id);
      if (controllable) {
        list = list.filter((s) => s.SupportsRemoteControl);
        if (!user.controlOthers && !user.admin) list = list.filter(mineOrShared);
      } else if (!user.admin) {
        list = list.filter(mineOrShared);
      }
      return send(200, list);
    }
    const m = /^\/sessions\/([^/]+)\/playing(?:\/([^/]+))?$/i.exec(path);
    if (req.method === 'POST' && m) {
      const id = decodeURIComponent(m[1]);
      const device = devices.find((d) => d.id === id);
      const q = {};
      for (const [k, v] of url.searchParams) q[k.toLowerCase()] = v;
      if (!m[2]) {
        const cmd = [...PLAY_COMMANDS].find((c) => c.toLowerCase() === String(q.playcommand || '').toLowerCase());
        if (!cmd || !q.itemids) return send(400, { type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1', title: 'One or more validation errors occurred.', status: 400 });
        if (!device) return send(404);
        // Every play command starts the first item now, as clients that do not implement
        // PlayNext/PlayLast do (SessionController.Play's documentation).
        const ids = q.itemids.split(',').filter(Boolean);
        device.command('PlayNow', { itemId: norm(ids[0]), startTicks: Number(q.startpositionticks || 0) });
        return send(204);
      }
      const cmd = [...PLAYSTATE].find((c) => c.toLowerCase() === m[2].toLowerCase());
      if (!cmd) return send(400, { title: 'One or more validation errors occurred.', status: 400 });
      if (!device) return send(404);
      device.command(/** @type {any} */ (cmd), { seekTicks: q.seekpositionticks === undefined ? undefined : Number(q.seekpositionticks) });
      return send(204);
    }
    const g = /^\/sessions\/([^/]+)\/command(?:\/([^/]+))?$/i.exec(path);
    if (req.method === 'POST' && g) {
      const device = devices.find((d) => d.id === decodeURIComponent(g[1]));
      let cmd;
      if (g[2]) {
        cmd = { Name: decodeURIComponent(g[2]), Arguments: {} };
      } else {
        try { cmd = JSON.parse(bodyText); } catch { cmd = null; }
        if (!cmd || typeof cmd.Name !== 'string') return send(400, { title: 'One or more validation errors occurred.', status: 400 });
      }
      if (!device) return send(404);
      device.generalCommand(cmd.Name, cmd.Arguments && typeof cmd.Arguments === 'object' ? cmd.Arguments : {});
      return send(204);
    }
    return send(404);
  }
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${addr.port}`,
    log,
    add: (d) => devices.push(d),
    stop: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve(undefined));
    }),
  };
}
