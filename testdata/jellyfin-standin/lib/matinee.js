// The Matinee plugin's endpoints, as jellyfin-plugin/Jellyfin.Plugin.Matinee/Api/MatineeController.cs
// serves them, and its index.html/config.json rewrite as Web/WebRewriteMiddleware.cs applies it.
// Every decision that the plugin makes in Core (which paths are rewritten, the rewrites
// themselves, which client file names exist and their types, the JWT, the JWKS, the token
// lifetime and URL normalisation) is made by Core itself, running under Mono (core.js). What
// lives here is only the ASP.NET glue: status codes, headers and the claims checks.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import { HttpError } from './http.js';
import { REPO } from './core.js';

export const CLIENT_SRC = join(REPO, 'client-js', 'src');
// The csproj embeds client-js/src/**/*.{js,mjs,css,json} (Jellyfin.Plugin.Matinee.csproj).
const EMBEDDED = /\.(js|mjs|css|json)$/;

/** <MatineeVersion> from jellyfin-plugin/Directory.Build.props. */
export function pluginVersion() {
  const props = readFileSync(join(REPO, 'jellyfin-plugin', 'Directory.Build.props'), 'utf8');
  const m = /<MatineeVersion>([^<]+)<\/MatineeVersion>/.exec(props);
  return m ? m[1].trim() : '0.0.0';
}

/**
 * @param {import('./http.js').Router} router
 * @param {any} state  state.matinee: {serverUrl, defaultControl, defaultWaitForAll, tokenLifetimeSeconds}
 * @param {Awaited<ReturnType<typeof import('./core.js').startCore>>} core
 */
export function matineeRoutes(router, state, core) {
  const version = pluginVersion();
  // MatineeContext.FullVersion: the assembly version, x.y.z.<ABI revision> (Directory.Build.props:
  // 10 for the 10.10 build, 11 for 10.11, 12 for 12.0).
  const revision = state.versionAtLeast(12, 0) ? 12 : state.versionAtLeast(10, 11) ? 11 : 10;
  const fullVersion = `${version}.${revision}`;
  state.pluginFullVersion = fullVersion;

  const serveClientFile = async (ctx, path) => {
    const { resource, contentType } = await core.asset(path);
    if (!resource) throw new HttpError(404, '');
    const file = normalize(join(CLIENT_SRC, resource.slice('matinee-client/'.length)));
    if (!file.startsWith(CLIENT_SRC + sep) || !EMBEDDED.test(file) || !existsSync(file) || !statSync(file).isFile()) throw new HttpError(404, '');
    const etag = `"${fullVersion}"`;
    const headers = { 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', ETag: etag };
    // FileStreamResult evaluates If-None-Match itself (lists, weak tags, "*").
    const inm = ctx.req.headers['if-none-match'];
    if (inm && inm.split(',').map((s) => s.trim().replace(/^W\//, '')).some((t) => t === etag || t === '*')) {
      return { status: 304, headers };
    }
    return { body: await readFile(file), type: contentType, headers };
  };
  router.add('GET', '/Matinee/ClientScript', (ctx) => serveClientFile(ctx, 'loader.js'), { auth: 'anonymous' });
  router.add('GET', '/Matinee/Client/{**path}', (ctx) => serveClientFile(ctx, ctx.params.path), { auth: 'anonymous' });

  router.add('GET', '/Matinee/Jwks', async () => ({
    text: await core.jwks(), type: 'application/json; charset=utf-8', headers: { 'Cache-Control': 'public, max-age=300' },
  }), { auth: 'anonymous' });

  router.add('GET', '/Matinee/Token', async (ctx) => {
    const headers = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
    // Plain [Authorize] admits API keys (their user id is Guid.Empty): refused here.
    if (ctx.isApiKey || !ctx.user) {
      return { status: 403, json: { Code: 'forbidden', Message: 'Matinee tokens are issued to signed-in users only, not to API keys.' }, headers };
    }
    const name = ctx.user.name.slice(0, 256); // JwtIssuer.MaxNameLength
    const lifetime = await core.lifetime(state.matinee.tokenLifetimeSeconds ?? 0);
    const token = await core.token(ctx.user.id, name, state.serverId, Math.floor(Date.now() / 1000), lifetime);
    state.tokensIssued.push({ userId: ctx.user.id, at: Date.now() });
    return { json: { Token: token, ExpiresIn: lifetime }, headers };
  }, { auth: 'user-or-apikey' });

  router.add('GET', '/Matinee/Config', async () => {
    const m = state.matinee;
    return {
      json: {
        ServerUrl: (await core.normalizeServerUrl(m.serverUrl || '')) || '',
        Version: version,
        DefaultControl: await core.normalizeControl(m.defaultControl || ''),
        DefaultWaitForAll: m.defaultWaitForAll !== false,
        TokenLifetimeSeconds: await core.lifetime(m.tokenLifetimeSeconds ?? 0),
      },
      headers: { 'Cache-Control': 'no-cache' },
    };
  }, { auth: 'user-or-apikey' });
}

/**
 * WebRewriteMiddleware for one GET under /web: Core classifies the path; Index and Config
 * responses with status 200 are rewritten by Core, validators dropped and no-cache set.
 * Anything Core declines is served unchanged (the middleware fails open).
 * @returns {Promise<{body: Buffer, headers: Record<string,string>}|null>} null: not ours to rewrite
 */
export async function rewriteWebFile(core, state, path, original) {
  const match = await core.classify('', path);
  if (match.file === 'None') return null;
  const text = original.toString('utf8');
  if (match.file === 'Index') {
    const r = await core.rewriteIndex(text, match.baseUrl, state.pluginFullVersion);
    state.rewrites.push({ path, outcome: r.outcome });
    if (r.outcome !== 'Inserted' && r.outcome !== 'Replaced') return null;
    return { body: Buffer.from(r.html, 'utf8'), headers: { 'Cache-Control': 'no-cache' } };
  }
  const r = await core.rewriteConfig(text);
  state.rewrites.push({ path, outcome: r.outcome });
  if (r.outcome !== 'Added') return null;
  return { body: Buffer.from(r.json, 'utf8'), headers: { 'Cache-Control': 'no-cache' } };
}
