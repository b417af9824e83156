// Request plumbing shared by the controller modules: a case-insensitive router (ASP.NET Core
// routing ignores case; jellyfin-web asks for both /Videos/… and /videos/…), Jellyfin's ways of
// passing a token, JSON bodies and replies, and a request log that never holds a token.

/** A 4xx/5xx answer thrown by a handler. */
export class HttpError extends Error {
  /** @param {number} status @param {string} [message] */
  constructor(status, message = '') {
    super(message);
    this.status = status;
  }
}

/**
 * Parses `MediaBrowser Client="…", Device="…", DeviceId="…", Version="…", Token="…"`
 * (Jellyfin.Server.Implementations/Security/AuthorizationContext.cs GetAuthorization, v10.10.7,
 * v10.11.11 and v12.0: the scheme is MediaBrowser, or Emby where legacy authorization is on;
 * values are URL-decoded).
 * @param {string|undefined} header
 * @param {boolean} [legacy]  accept the `Emby` scheme too
 * @returns {Record<string, string>|null}
 */
export function parseAuthorization(header, legacy = true) {
  if (!header) return null;
  const m = /^\s*(MediaBrowser|Emby)\s+(.*)$/is.exec(header);
  if (!m || (!legacy && m[1].toLowerCase() !== 'mediabrowser')) return null;
  const out = {};
  for (const part of m[2].split(',')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    let v = part.slice(i + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    try { v = decodeURIComponent(v); } catch { /* keep raw */ }
    out[k] = v;
  }
  return out;
}

/**
 * The caller's token and client fields, in AuthorizationContext's order: Authorization (or
 * X-Emby-Authorization) Token=, X-Emby-Token, X-MediaBrowser-Token, ?ApiKey=, ?api_key=.
 * With `legacy` off — Jellyfin 12's default (ServerConfiguration.EnableLegacyAuthorization,
 * false since the 12.0 migration DisableLegacyAuthorization) — only `Authorization: MediaBrowser
 * …Token=` and `?ApiKey=` count: AuthorizationContext.cs v12.0 reads X-Emby-Authorization,
 * X-Emby-Token, X-MediaBrowser-Token, ?api_key= and the Emby scheme only when it is on.
 * @param {import('node:http').IncomingMessage} req @param {URL} url @param {boolean} [legacy]
 */
export function authInfo(req, url, legacy = true) {
  const header = (/** @type {string|undefined} */ name) => /** @type {string|undefined} */ (req.headers[name]);
  const fields = parseAuthorization(req.headers.authorization, legacy)
    || (legacy ? parseAuthorization(header('x-emby-authorization')) : null) || {};
  const token = fields.Token
    || (legacy ? header('x-emby-token') || header('x-mediabrowser-token') : null)
    || queryGet(url, 'ApiKey')
    || (legacy ? queryGet(url, 'api_key') : null)
    || null;
  return { token, client: fields.Client, device: fields.Device, deviceId: fields.DeviceId, version: fields.Version };
}

/** ASP.NET model binding matches query keys without regard to case. */
export function queryGet(url, key) {
  const lower = key.toLowerCase();
  for (const [k, v] of url.searchParams) if (k.toLowerCase() === lower) return v;
  return null;
}

/** The URL as logged: query values that carry credentials are masked. */
export function redactUrl(url) {
  const u = new URL(url.href);
  for (const k of [...u.searchParams.keys()]) {
    if (/^(api_?key|token|accesstoken)$/i.test(k)) u.searchParams.set(k, '***');
  }
  return u.pathname + u.search;
}

/** Reads a request body (bounded) and parses it as JSON when it says so. */
export async function readBody(req, limit = 1 << 20) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > limit) throw new HttpError(413, 'request body too large');
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return null;
  if (/json/i.test(req.headers['content-type'] || '') || /^[[{]/.test(text.trim())) {
    try { return JSON.parse(text); } catch { throw new HttpError(400, 'invalid JSON body'); }
  }
  return text;
}

/** A JSON reply the way Jellyfin sends one (application/json; charset=utf-8). */
export function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res, status, text, type = 'text/plain; charset=utf-8', headers = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * A route table: add(method, '/Users/{userId}/Items/{itemId}', handler, {auth}).
 * `auth`: 'anonymous' | 'user' (a signed-in session's token) | 'admin'.
 */
export class Router {
  constructor() {
    /** @type {{method: string, rx: RegExp, names: string[], handler: Function, auth: string, pattern: string}[]} */
    this.routes = [];
  }

  /** @param {string} method @param {string} pattern @param {Function} handler @param {{auth?: string}} [o] */
  add(method, pattern, handler, { auth = 'user' } = {}) {
    const names = [];
    const rx = new RegExp(`^${pattern.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\{(\*\*)?(\w+)\}/g, (_, all, n) => {
      names.push(n);
      return all ? '(.+)' : '([^/]+)';
    })}/?$`, 'i');
    this.routes.push({ method: method.toUpperCase(), rx, names, handler, auth, pattern });
    return this;
  }

  /** @param {string} method @param {string} path */
  match(method, path) {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.rx.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const params = {};
      r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
      return { route: r, params };
    }
    return pathMatched ? { route: null, methodNotAllowed: true } : null;
  }
}
