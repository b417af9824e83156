#!/usr/bin/env node
// A Jellyfin API stand-in for browser tests: the calls jellyfin-web 10.10.x and 10.11.x make to
// log a user in and play one video with its built-in HTML video player, answered with the
// shapes of Jellyfin's own controllers and DTOs (each module cites its sources), plus the
// Matinee plugin's endpoints and its index.html/config.json rewrite, decided by the plugin's
// own Core running under Mono. See README.md.
//
//   import { startStandin } from './testdata/jellyfin-standin/server.js';
//   const jf = await startStandin({ webDir, version: '10.11.11', matinee: { serverUrl } });
//   jf.url … jf.state … jf.sessions … jf.unknown … await jf.stop();
//
//   node testdata/jellyfin-standin/server.js --web-dir DIR [--port N] [--version 10.10.7]
//        [--matinee-url http://127.0.0.1:3000] [--no-matinee]    (env: JELLYFIN_WEB_DIR)
//
// Modules, one per Jellyfin controller area (lib/): system.js, users.js, library.js,
// media.js, sessions.js (+ socket.js), matinee.js (plugin), core.js (Core under Mono),
// dto.js (the DTO shapes), http.js (routing, auth header parsing).

import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, normalize, extname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { authInfo, HttpError, readBody, redactUrl, Router, sendJson, sendText } from './lib/http.js';
import { systemRoutes } from './lib/system.js';
import { userRoutes } from './lib/users.js';
import { libraryRoutes } from './lib/library.js';
import { makeHlsSegments, mediaRoutes, sendFile } from './lib/media.js';
import { Sessions } from './lib/sessions.js';
import { acceptWebSocket } from './lib/socket.js';
import { matineeRoutes, rewriteWebFile } from './lib/matinee.js';
import { startCore, REPO } from './lib/core.js';
import { itemDto } from './lib/dto.js';

export const DEFAULT_CLIP = join(REPO, 'client-js', 'demo', 'clip.mp4');
export const DEFAULT_KEY = join(REPO, 'testdata', 'jwt', 'test-key.private.jwk.json');

/** A stable 32-hex id from a name (Jellyfin ids are Guids in "N" form). */
const idFor = (name) => createHash('md5').update(`matinee-standin/${name}`).digest('hex');

export const DEFAULT_USERS = [
  { name: 'Ann', password: 'ann-pw', admin: true },
  { name: 'Bob', password: 'bob-pw' },
  { name: 'Cleo', password: 'cleo-pw' },
];

const MIME = {
  '.html': 'text/html', '.js': 'application/javascript', '.mjs': 'application/javascript', '.css': 'text/css',
  '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml', '.ico': 'image/x-icon',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm', '.txt': 'text/plain', '.map': 'application/json', '.jpg': 'image/jpeg', '.gif': 'image/gif',
  '.mp3': 'audio/mpeg', '.webp': 'image/webp',
};

/**
 * @param {{webDir?: string|null, version?: string, host?: string, port?: number,
 *   users?: {name: string, password?: string, admin?: boolean, hidden?: boolean}[], clip?: string, keyFile?: string,
 *   matinee?: {serverUrl?: string, defaultControl?: string, defaultWaitForAll?: boolean,
 *     tokenLifetimeSeconds?: number}|null, apiKeys?: string[], quiet?: boolean,
 *   legacyAuth?: boolean}} [opts]  legacyAuth: accept Jellyfin's legacy ways of passing a token
 *   (default: on before 12.0, off from 12.0, as Jellyfin's EnableLegacyAuthorization)
 *   `matinee: null` is a Jellyfin without the plugin (no /Matinee routes, no rewrite).
 */
export async function startStandin(opts = {}) {
  const webDir = opts.webDir ?? process.env.JELLYFIN_WEB_DIR ?? null;
  const clip = opts.clip || DEFAULT_CLIP;
  const version = opts.version || '10.11.11';
  const [maj, min] = version.split('.').map(Number);
  const { size: clipSize } = statSync(clip);

  /** @type {any} */
  const state = {
    version,
    versionAtLeast: (a, b) => maj > a || (maj === a && min >= b),
    // Jellyfin 12 turns legacy authorization off by default (see lib/http.js authInfo).
    legacyAuth: opts.legacyAuth ?? maj < 12,
    serverId: idFor('server'),
    serverName: 'Matinee stand-in',
    libraryId: idFor('library/movies'),
    started: Date.now(),
    // hidden: Jellyfin 10.11 creates every user (the wizard's administrator too) hidden from the
    // login screen (UserPolicy.IsHidden true), so /Users/Public lists nobody unless told otherwise.
    users: (opts.users || DEFAULT_USERS).map((u) => ({ id: idFor(`user/${u.name}`), name: u.name, password: u.password || '', admin: Boolean(u.admin), hidden: u.hidden ?? true, lastLogin: 0 })),
    apiKeys: new Set(opts.apiKeys || []),
    matinee: opts.matinee === null ? null : { defaultControl: 'host', defaultWaitForAll: true, tokenLifetimeSeconds: 0, ...(opts.matinee || {}) },
    displayPreferences: new Map(),
    userDataMap: new Map(),
    playbackInfos: [],
    tokensIssued: [],
    rewrites: [],
    segmentsServed: 0,
    /** every request: {method, path (credentials masked), status, user} */
    log: [],
    /** requests no route answered: {method, path} */
    unknown: [],
  };
  const media = (name, extra = {}) => ({
    file: clip, path: `/media/movies/${name}/${name}.mp4`, container: 'mp4', size: clipSize,
    videoCodec: 'h264', audioCodec: 'aac', width: 640, height: 360, fps: 25, videoBitrate: 40000, audioBitrate: 24000, ...extra,
  });
  state.items = [
    { id: idFor('item/clock-a'), name: 'The Clock', year: 2024, created: state.started - 3000, runTimeTicks: 600_000_000, etag: idFor('etag/a'), overview: 'A clip that shows its own time.', media: media('The Clock (2024)'), transcodeReasons: '' },
    { id: idFor('item/clock-b'), name: 'The Clock Returns', year: 2025, created: state.started - 2000, runTimeTicks: 600_000_000, etag: idFor('etag/b'), overview: 'The sequel: the same clock.', media: media('The Clock Returns (2025)'), transcodeReasons: '' },
    // Two audio and two subtitle languages, and a second film with three audio languages in
    // another order, so a track chosen by language lands on another index (issue 23, item 6).
    {
      id: idFor('item/clock-bilingual'), name: 'The Clock Bilingual', year: 2024, created: state.started - 2600, runTimeTicks: 600_000_000, etag: idFor('etag/d'), overview: 'The clock, in English and in French.',
      media: media('The Clock Bilingual (2024)', { tracks: { audio: [{ language: 'eng' }, { language: 'fra', title: 'Version française' }], subtitles: [{ language: 'eng' }, { language: 'fra' }] } }),
      transcodeReasons: '',
    },
    {
      id: idFor('item/clock-trilingual'), name: 'The Clock Trilingual', year: 2025, created: state.started - 1600, runTimeTicks: 600_000_000, etag: idFor('etag/e'), overview: 'The sequel, in three languages.',
      media: media('The Clock Trilingual (2025)', { tracks: { audio: [{ language: 'eng' }, { language: 'deu' }, { language: 'fra' }], subtitles: [{ language: 'deu' }, { language: 'eng' }, { language: 'fra' }] } }),
      transcodeReasons: '',
    },
    // A source the browser cannot play as is (HEVC/AC-3 in Matroska): PlaybackInfo sends HLS.
    {
      id: idFor('item/clock-hls'), name: 'The Clock Transcoded', year: 2026, created: state.started - 1000, runTimeTicks: 600_000_000, etag: idFor('etag/c'), overview: 'Played through an HLS transcode.',
      media: media('The Clock Transcoded (2026)', { container: 'mkv', path: '/media/movies/The Clock Transcoded (2026)/The Clock Transcoded (2026).mkv', videoCodec: 'hevc', audioCodec: 'ac3' }),
      transcodeReasons: 'ContainerNotSupported,VideoCodecNotSupported,AudioCodecNotSupported',
    },
  ];
  // A series of three short episodes (issue 23, item 5: the queue and Jellyfin's next-up). Kept
  // apart from `items` (the movie library's listing stays as it was); found by id like any item.
  state.series = { id: idFor('series/clock'), name: 'The Clock Series', seasonId: idFor('season/clock-1'), seasonName: 'Season 1' };
  state.episodes = [1, 2, 3].map((n) => ({
    id: idFor(`item/clock-s01e0${n}`), name: `Tick ${n}`, year: 2026, created: state.started - 900 + n, runTimeTicks: 600_000_000,
    etag: idFor(`etag/s01e0${n}`), overview: `Episode ${n} of the clock.`, transcodeReasons: '',
    media: media(`The Clock Series S01E0${n}`, { path: `/media/shows/The Clock Series/Season 01/The Clock Series S01E0${n}.mp4` }),
    episode: { series: state.series, season: 1, index: n },
  }));
  state.userById = (id) => state.users.find((u) => u.id === String(id).replace(/-/g, '').toLowerCase()) || null;
  state.itemById = (id) => {
    const key = String(id).replace(/-/g, '').toLowerCase();
    return state.items.find((i) => i.id === key) || state.episodes.find((i) => i.id === key) || null;
  };
  state.userData = (userId, itemId) => {
    const k = `${userId}/${itemId}`;
    if (!state.userDataMap.has(k)) state.userDataMap.set(k, { positionTicks: 0, playCount: 0, played: false, lastPlayed: 0 });
    return state.userDataMap.get(k);
  };
  let hlsPromise = null;
  state.hls = () => (hlsPromise ||= makeHlsSegments(clip));

  const sessions = new Sessions({
    serverId: state.serverId,
    itemDto: (userId, itemId) => { const u = state.userById(userId); const i = state.itemById(itemId); return u && i ? itemDto(state, u, i, { nowPlaying: true }) : null; },
    queueFullItems: !state.versionAtLeast(12, 0),
  });
  state.sessions = sessions;
  // Playback reports keep the user's resume position (SessionManager.OnPlaybackProgress/Stopped).
  const keepPosition = (s, b) => {
    if (!b.ItemId || typeof b.PositionTicks !== 'number') return;
    const d = state.userData(s.userId, String(b.ItemId).replace(/-/g, '').toLowerCase());
    d.positionTicks = b.PositionTicks;
    d.lastPlayed = Date.now();
  };
  sessions.on('progress', keepPosition);
  sessions.on('stopped', keepPosition);

  const core = state.matinee ? await startCore(opts.keyFile || DEFAULT_KEY) : null;

  const router = new Router();
  systemRoutes(router, state);
  userRoutes(router, state);
  libraryRoutes(router, state);
  mediaRoutes(router, state);
  sessions.routes(router);
  if (core) matineeRoutes(router, state, core);

  const serveWeb = async (req, res, path) => {
    if (!webDir) throw new HttpError(404, 'no jellyfin-web folder configured');
    let rel = decodeURIComponent(path.slice('/web/'.length)) || 'index.html';
    const file = normalize(join(webDir, rel));
    if (!file.startsWith(normalize(webDir) + sep) || !existsSync(file) || !statSync(file).isFile()) throw new HttpError(404, '');
    rel = file.slice(normalize(webDir).length);
    let body = await readFile(file);
    const headers = { 'Content-Type': `${MIME[extname(file).toLowerCase()] || 'application/octet-stream'}${/\.(html|js|css|json)$/.test(file) ? '; charset=utf-8' : ''}` };
    if (core) {
      const r = await rewriteWebFile(core, state, path === '/web/' ? '/web/' : `/web${rel.split(sep).join('/')}`, body);
      if (r) { body = r.body; Object.assign(headers, r.headers); }
    }
    headers['Content-Length'] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url || '/', state.origin);
    const entry = { method: req.method, path: redactUrl(url), status: 0, user: null };
    state.log.push(entry);
    if (state.log.length > 20000) state.log.splice(0, 10000);
    res.on('finish', () => { entry.status = res.statusCode; });
    // jellyfin-web runs on the same origin; CORS as Jellyfin's default policy (any origin) for tools.
    res.setHeader('Access-Control-Allow-Origin', '*');
    try {
      const path = url.pathname;
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, POST, DELETE', 'Access-Control-Allow-Headers': '*' });
        res.end();
        return;
      }
      // Jellyfin.Server/Startup.cs: "/" and "/web" redirect to the web client.
      if (path === '/' || /^\/web$/i.test(path)) { res.writeHead(302, { Location: '/web/' }); res.end(); return; }
      if (/^\/web\//i.test(path) && (req.method === 'GET' || req.method === 'HEAD')) { await serveWeb(req, res, path); return; }
      const found = router.match(req.method || 'GET', path);
      if (!found || !found.route) {
        state.unknown.push({ method: req.method, path: entry.path });
        if (!opts.quiet) console.error(`[jellyfin stand-in] unknown endpoint ${req.method} ${entry.path}`);
        sendText(res, found?.methodNotAllowed ? 405 : 404, '');
        return;
      }
      const auth = authInfo(req, url, state.legacyAuth);
      const session = sessions.byToken(auth.token);
      const isApiKey = !session && Boolean(auth.token) && state.apiKeys.has(auth.token);
      const user = session ? state.userById(session.userId) : null;
      entry.user = user?.name || (isApiKey ? 'api-key' : null);
      const need = found.route.auth;
      // [Authorize]: a valid token is needed (CustomAuthenticationHandler answers 401 otherwise).
      if (need !== 'anonymous' && !session && !(need === 'user-or-apikey' && isApiKey)) throw new HttpError(401, '');
      if (need === 'admin' && !user?.admin) throw new HttpError(403, '');
      if (session) session.lastActivity = Date.now();
      const ctx = { req, res, url, params: found.params, auth, token: auth.token, session, user, isApiKey, state, body: null };
      if (req.method === 'POST' || req.method === 'DELETE') ctx.body = await readBody(req);
      const out = (await found.route.handler(ctx)) || { status: 204 };
      if (out.file) { sendFile(req, res, out); return; }
      const headers = out.headers || {};
      if (out.json !== undefined) { sendJson(res, out.status || 200, out.json, headers); return; }
      if (out.text !== undefined) { sendText(res, out.status || 200, out.text, out.type, headers); return; }
      if (out.body !== undefined || out.bytes !== undefined) {
        const body = out.body ?? out.bytes;
        res.writeHead(out.status || 200, { 'Content-Type': out.type || 'application/octet-stream', 'Content-Length': body.length, ...headers });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      res.writeHead(out.status || 204, headers);
      res.end();
    } catch (e) {
      if (e instanceof HttpError) {
        if (!res.headersSent) sendText(res, e.status, e.message);
        else res.destroy();
        return;
      }
      console.error('[jellyfin stand-in] internal error', e);
      if (!res.headersSent) sendText(res, 500, 'internal error');
      else res.destroy();
    }
  });

  // /socket: jellyfin-web's ApiClient WebSocket, authenticated like any request
  // (Emby.Server.Implementations/HttpServer/WebSocketManager.cs → IAuthService.Authenticate → AuthorizationContext): jellyfin-web
  // passes ?api_key= (10.10) or ?ApiKey= (10.11+), native clients the Authorization header.
  const sockets = new Set();
  server.on('upgrade', (req, socket) => {
    const url = new URL(req.url || '/', state.origin);
    state.log.push({ method: 'WS', path: redactUrl(url), status: 101, user: null });
    const token = authInfo(req, url, state.legacyAuth).token;
    const session = /^\/socket\/?$/i.test(url.pathname) && token ? sessions.byToken(token) : null;
    if (!session) {
      if (!/^\/socket\/?$/i.test(url.pathname)) {
        state.unknown.push({ method: 'WS', path: redactUrl(url) });
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      // WebSocketManager.WebSocketRequestHandler throws SecurityException("Token is required"),
      // which ExceptionMiddleware answers with 403 (10.11.11 and 12.0, seen on both real servers).
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const conn = acceptWebSocket(req, socket, {
      onMessage: (msg) => {
        if (msg.MessageType === 'KeepAlive') conn?.send('KeepAlive');
      },
      onClose: () => { sockets.delete(socket); if (session.controller === conn) sessions.setController(session, null); },
    });
    if (!conn) return;
    sockets.add(socket);
    sessions.setController(session, conn);
    conn.send('ForceKeepAlive', 30);
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host || '127.0.0.1', resolve);
  });
  const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
  state.port = addr.port;
  state.origin = `http://${addr.address}:${addr.port}`;

  return {
    url: state.origin,
    state,
    sessions,
    core,
    unknown: state.unknown,
    /** The user record by name (its id, password). */
    user: (name) => state.users.find((u) => u.name === name),
    item: (name) => state.items.find((i) => i.name === name) || state.episodes.find((i) => i.name === name),
    async stop() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
      await core?.stop();
      if (hlsPromise) await (await hlsPromise).cleanup();
    },
  };
}

// CLI: run it by hand in front of a jellyfin-web build.
if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const args = process.argv.slice(2);
  const arg = (k) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
  const matineeUrl = arg('--matinee-url');
  const jf = await startStandin({
    webDir: arg('--web-dir') || process.env.JELLYFIN_WEB_DIR || null,
    port: arg('--port') ? Number(arg('--port')) : 8096,
    version: arg('--version'),
    matinee: args.includes('--no-matinee') ? null : { serverUrl: matineeUrl || '' },
  });
  console.log(`jellyfin stand-in ${jf.state.version} listening on ${jf.url} (users: ${jf.state.users.map((u) => `${u.name}/${u.password}`).join(', ')})`);
  const stop = async () => { await jf.stop(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
