#!/usr/bin/env node
// Records a real Jellyfin server's answers to the calls in endpoints.js as fixtures, with
// personal data replaced by placeholders (README.md). Needs a server set up with its wizard:
// an administrator, two plain users, a film library with a directly playable film and one
// the browser cannot play.
//
//   node testdata/jellyfin-real/record.mjs --url http://127.0.0.1:8096 \
//     --admin Ann:PASSWORD --user Bob:PASSWORD --other Cleo \
//     --direct "Test Pattern" --transcode "Test Pattern HEVC" [--matinee] [--out DIR]
//
// --matinee also records the plugin's endpoints (the plugin must be installed).

import { mkdir, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { ENDPOINTS, MATINEE_ENDPOINTS, SOCKET_MESSAGES } from './endpoints.js';
import { call, setUp, request } from './exchange.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]);
  return acc;
}, /** @type {[string, any][]} */ ([])));
for (const k of ['url', 'admin', 'user', 'other', 'direct', 'transcode']) {
  if (!args[k]) { console.error(`missing --${k}`); process.exit(2); }
}
const split = (s) => { const i = s.indexOf(':'); return [s.slice(0, i), s.slice(i + 1)]; };
const base = String(args.url).replace(/\/$/, '');

const ctx = await setUp(base, { admin: split(args.admin), user: split(args.user), other: args.other, directItem: args.direct, transcodeItem: args.transcode });
const info = (await request(base, 'GET', '/System/Info', { token: ctx.tokens.admin })).json;
const version = info.Version;
const out = args.out || join(HERE, version);
await mkdir(out, { recursive: true });

// ---- placeholders: every id, token and name that belongs to this installation ----
const hex = (label) => createHash('md5').update(`matinee-fixture/${label}`).digest('hex');
/** @type {[string, string][]} */
const swaps = [];
const swapId = (real, label) => {
  if (!real) return;
  const r = String(real).replace(/-/g, '').toLowerCase();
  const p = hex(label);
  const dashed = (h) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  swaps.push([r, p], [dashed(r), dashed(p)], [r.toUpperCase(), p.toUpperCase()]);
};
for (const [role, l] of Object.entries(ctx.logins)) {
  swapId(l.AccessToken, `token/${role}`);
  swapId(l.SessionInfo?.Id, `session/${role}`);
}
swapId(ctx.serverId, 'server');
swapId(ctx.ids.userId, 'user');
swapId(ctx.ids.otherUserId, 'other-user');
swapId(ctx.logins.admin.User.Id, 'admin');
swapId(ctx.ids.libraryId, 'library');
swapId(ctx.ids.itemId, 'item/direct');
swapId(ctx.ids.transcodeItemId, 'item/transcode');
/** Strings replaced as text: machine paths (the host's name is replaced where it is a whole value). */
const texts = [];
for (const k of ['ProgramDataPath', 'WebPath', 'ItemsByNamePath', 'CachePath', 'LogPath', 'InternalMetadataPath', 'TranscodingTempPath']) {
  if (typeof info[k] === 'string') texts.push([info[k], `/${k.replace(/Path$/, '').toLowerCase()}`]);
}
if (args['media-root']) texts.push([String(args['media-root']), '/media']);

const placeholders = (v) => {
  if (typeof v === 'string') {
    if (v === info.ServerName) return 'jellyfin';
    // A JWT (the plugin's /Matinee/Token): its claims get the placeholders, its signature goes.
    const jwt = /^(eyJ[\w-]*)\.(eyJ[\w-]*)\.[\w-]+$/.exec(v);
    if (jwt) {
      const claims = placeholders(JSON.parse(Buffer.from(jwt[2], 'base64url').toString('utf8')));
      return `${jwt[1]}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${Buffer.from('signature-removed').toString('base64url')}`;
    }
    let s = v;
    for (const [a, b] of texts) s = s.split(a).join(b);
    for (const [a, b] of swaps) s = s.split(a).join(b);
    // Ids this run did not name (other items, play sessions, etags): stable placeholders.
    s = s.replace(/\b[0-9a-f]{32}\b/g, (m) => (swaps.some(([, b]) => b === m) ? m : hex(`other/${m}`)));
    return s;
  }
  if (Array.isArray(v)) return v.map(placeholders);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => {
      if (/^(RemoteEndPoint|LocalAddress|LocalAddresses)$/.test(k)) return [k, typeof x === 'string' ? '127.0.0.1' : x];
      return [k, placeholders(x)];
    }));
  }
  return v;
};

const write = async (name, data) => {
  const text = `${JSON.stringify(placeholders(data), null, 2)}\n`;
  for (const [a] of [...swaps, ...texts]) if (a.length > 6 && text.includes(a)) throw new Error(`${name}: ${a.slice(0, 4)}… left in`);
  const left = /"(?:\/work\/|\/root\/|\/home\/)[^"]*"/.exec(text);
  if (left) throw new Error(`${name}: a machine path is left in: ${left[0]}`);
  await writeFile(join(out, `${name}.json`), text);
};

const list = [...ENDPOINTS, ...(args.matinee ? MATINEE_ENDPOINTS : [])];
for (const ep of list) {
  const r = await call(base, ctx, ep);
  await write(ep.name, { request: { method: ep.method, path: ep.path, query: ep.query, as: ep.as }, status: r.status, contentType: r.contentType, body: r.json ?? null });
  console.log(`${ep.name}: ${r.status}`);
}
await new Promise((r) => setTimeout(r, 500));
for (const type of SOCKET_MESSAGES) {
  const m = ctx.socket.messages.find((x) => x.MessageType === type);
  if (m) await write(`socket-${type.toLowerCase()}`, { message: m });
  console.log(`socket ${type}: ${m ? 'recorded' : 'not seen'}`);
}
ctx.socket.close();
await write('versions', { Version: version, ProductName: info.ProductName, OperatingSystem: info.OperatingSystem });
console.log(`recorded ${list.length} calls from Jellyfin ${version} into ${out}`);
