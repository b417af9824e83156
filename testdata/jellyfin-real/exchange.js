// @ts-check
// Speaks the calls of endpoints.js to a Jellyfin (the real one when recording, the stand-in
// when testing) and compares answers by shape. Used by record.mjs and by
// testdata/jellyfin-standin/test/real-shapes.test.js.

import WebSocket from 'ws';
import { ENDPOINTS } from './endpoints.js';

const CLIENT = 'Jellyfin Web';
const VERSION = '10.11.11';

/** jellyfin-web's Authorization header. */
export function authHeader(deviceId, token) {
  const base = `MediaBrowser Client="${CLIENT}", Device="Chrome", DeviceId="${deviceId}", Version="${VERSION}"`;
  return token ? `${base}, Token="${token}"` : base;
}

/** Fills {placeholders} in a string, or deeply in an object. */
export function fill(v, ids) {
  if (typeof v === 'string') return v.replace(/\{(\w+)\}/g, (m, k) => (k in ids ? ids[k] : m));
  if (Array.isArray(v)) return v.map((x) => fill(x, ids));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, ids)]));
  return v;
}

/**
 * @param {string} base @param {string} method @param {string} path
 * @param {{token?: string|null, deviceId?: string, query?: Record<string, string>, body?: any}} o
 */
export async function request(base, method, path, { token = null, deviceId = 'matinee-recorder', query, body } = {}) {
  const u = new URL(base + path);
  for (const [k, v] of Object.entries(query || {})) u.searchParams.set(k, v);
  /** @type {Record<string, string>} */
  const headers = { Authorization: authHeader(deviceId, token) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(u, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  const contentType = (r.headers.get('content-type') || '').split(';')[0].trim() || null;
  let json;
  if (text && /json/.test(contentType || '')) {
    try { json = JSON.parse(text); } catch { json = undefined; }
  }
  return { status: r.status, contentType, json, text };
}

export async function login(base, name, password, deviceId) {
  const r = await request(base, 'POST', '/Users/AuthenticateByName', { deviceId, body: { Username: name, Pw: password } });
  if (r.status !== 200 || !r.json) throw new Error(`login ${name}: ${r.status} ${r.text.slice(0, 200)}`);
  return r.json;
}

/** Opens /socket with the token in the Authorization header and keeps every message. */
export function openSocket(base, token, deviceId) {
  const url = `${base.replace(/^http/, 'ws')}/socket`;
  const ws = new WebSocket(url, { headers: { Authorization: authHeader(deviceId, token) } });
  /** @type {any[]} */
  const messages = [];
  ws.on('message', (d) => {
    try {
      const m = JSON.parse(String(d));
      messages.push(m);
      if (m.MessageType === 'ForceKeepAlive') ws.send(JSON.stringify({ MessageType: 'KeepAlive' }));
    } catch { messages.push({ unparsed: String(d) }); }
  });
  const open = new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); ws.once('unexpected-response', (_, res) => reject(new Error(`socket: ${res.statusCode}`))); });
  return { ws, messages, open, close: () => ws.close() };
}

/**
 * Signs in as the three roles and finds the ids the placeholders stand for.
 * @param {string} base
 * @param {{admin: [string, string], user: [string, string], other: string, directItem: string, transcodeItem: string}} who
 */
export async function setUp(base, who) {
  const admin = await login(base, who.admin[0], who.admin[1], 'matinee-recorder-admin');
  const user = await login(base, who.user[0], who.user[1], 'matinee-recorder-user');
  const tv = await login(base, who.user[0], who.user[1], 'matinee-recorder-tv');
  const socket = openSocket(base, tv.AccessToken, 'matinee-recorder-tv');
  await socket.open;
  const users = await request(base, 'GET', '/Users', { token: admin.AccessToken, deviceId: 'matinee-recorder-admin' });
  const other = (users.json || []).find((u) => u.Name === who.other);
  if (!other) throw new Error(`no user ${who.other}`);
  const ids = { userId: user.User.Id, otherUserId: other.Id, sessionId: tv.SessionInfo.Id };
  const views = await request(base, 'GET', '/UserViews', { token: user.AccessToken, deviceId: 'matinee-recorder-user', query: { userId: ids.userId } });
  const lib = (views.json?.Items || []).find((v) => v.CollectionType === 'movies');
  if (!lib) throw new Error('no movies library');
  const items = await request(base, 'GET', '/Items', { token: user.AccessToken, deviceId: 'matinee-recorder-user', query: { userId: ids.userId, parentId: lib.Id, Recursive: 'true', IncludeItemTypes: 'Movie' } });
  const byName = (n) => {
    const it = (items.json?.Items || []).find((i) => i.Name === n);
    if (!it) throw new Error(`no item ${n}`);
    return it.Id;
  };
  Object.assign(ids, { libraryId: lib.Id, itemId: byName(who.directItem), transcodeItemId: byName(who.transcodeItem) });
  const tokens = { admin: admin.AccessToken, user: user.AccessToken, tv: tv.AccessToken, anonymous: null };
  return { ids, tokens, socket, login: { name: who.user[0], password: who.user[1] }, logins: { admin, user, tv }, serverId: user.ServerId };
}

const DEVICE = { admin: 'matinee-recorder-admin', user: 'matinee-recorder-user', tv: 'matinee-recorder-tv', anonymous: 'matinee-recorder-anon', login: 'matinee-recorder-login' };

/** Runs one endpoint of endpoints.js; `login` entries sign the user in once more. */
export async function call(base, ctx, ep) {
  const role = ep.as;
  const body = role === 'login' ? { Username: ctx.login.name, Pw: ctx.login.password } : fill(ep.body, ctx.ids);
  const r = await request(base, ep.method, fill(ep.path, ctx.ids), {
    token: role === 'login' ? null : ctx.tokens[role], deviceId: DEVICE[role], query: fill(ep.query, ctx.ids), body,
  });
  return { status: r.status, contentType: r.status === 204 ? null : r.contentType, json: r.json };
}

/** All of ENDPOINTS in order, with the socket messages the tv session got meanwhile. */
export async function runAll(base, ctx, list = ENDPOINTS) {
  /** @type {Record<string, any>} */
  const out = {};
  for (const ep of list) out[ep.name] = await call(base, ctx, ep);
  await new Promise((r) => setTimeout(r, 300));
  return out;
}

// ---- shapes -------------------------------------------------------------------------------

/** JSON type name: string, number, boolean, null, array, object. */
export const typeOf = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Objects whose keys are data (image types, media source ids, preference names), not fields. */
export const MAPS = new Set(['ImageTags', 'ImageBlurHashes', 'CustomPrefs', 'Trickplay', 'ProviderIds', 'Primary', 'Backdrop', 'Thumb', 'Logo', 'Banner', 'Art', 'Arguments']);

/**
 * Every leaf path of a JSON value with the set of types seen there: arrays merge their
 * elements under `[]`, map-like objects merge their values under `{}`.
 * @returns {Map<string, Set<string>>}
 */
export function shapeOf(v, path = '', out = new Map(), key = '') {
  const t = typeOf(v);
  if (!out.has(path)) out.set(path, new Set());
  /** @type {Set<string>} */ (out.get(path)).add(t);
  if (t === 'array') for (const x of v) shapeOf(x, `${path}[]`, out);
  else if (t === 'object') {
    if (MAPS.has(key)) for (const x of Object.values(v)) shapeOf(x, `${path}{}`, out, '');
    else for (const [k, x] of Object.entries(v)) shapeOf(x, path ? `${path}.${k}` : k, out, k);
  }
  return out;
}

/**
 * Where `standin` does not fit `real`: a path the stand-in sends that the real answer does not
 * have, or has with another JSON type. Array elements and map values merge (above).
 * @returns {string[]}
 */
export function shapeProblems(real, standin) {
  const r = shapeOf(real);
  const s = shapeOf(standin);
  const problems = [];
  for (const [p, types] of s) {
    const rt = r.get(p);
    if (!rt) { problems.push(`${p || '(root)'}: sent by the stand-in, absent from the real answer`); continue; }
    for (const t of types) if (!rt.has(t)) problems.push(`${p || '(root)'}: stand-in ${t}, real ${[...rt].join('|')}`);
  }
  return problems;
}

/** Paths of `fields` (a.b, a[].b, [].b) missing from a JSON value. */
export function missingFields(value, fields) {
  const have = shapeOf(value);
  return fields.filter((f) => !have.has(f));
}
