// The Matinee plugin's Core under Mono: compiles lib/CoreCli.cs together with the Core sources
// (jellyfin-plugin/Jellyfin.Plugin.Matinee.Core/**/*.cs) with `mcs`, as
// jellyfin-plugin/tests/run-mono.sh does, and keeps one `mono` process answering line
// requests. The stand-in asks it for every rewrite, token, JWKS and asset-name decision, so
// what the browser gets is what the plugin would serve, not an imitation of it.
//
// The build is cached in the OS temp folder under a hash of the sources, so a test run
// compiles once (about a second) and later runs reuse it.

import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = join(HERE, '..', '..', '..');
export const CORE_DIR = join(REPO, 'jellyfin-plugin', 'Jellyfin.Plugin.Matinee.Core');
const CLI_SOURCE = join(HERE, 'CoreCli.cs');

function csFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'bin' && name !== 'obj') out.push(...csFiles(p));
    } else if (name.endsWith('.cs')) out.push(p);
  }
  return out;
}

/** Compiles the CLI (once per source hash); resolves to the .exe path. */
export async function buildCoreCli() {
  for (const tool of ['mcs', 'mono']) {
    try {
      await promisify(execFile)(tool, ['--version']);
    } catch {
      throw new Error(`jellyfin stand-in: '${tool}' is missing (Debian: apt-get install mono-mcs)`);
    }
  }
  const sources = [CLI_SOURCE, ...csFiles(CORE_DIR)];
  const hash = createHash('sha256');
  for (const f of sources) hash.update(f.slice(REPO.length)).update(readFileSync(f));
  const dir = join(tmpdir(), `matinee-standin-core-${hash.digest('hex').slice(0, 16)}`);
  const exe = join(dir, 'CoreCli.exe');
  if (existsSync(exe)) return exe;
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `CoreCli.${process.pid}.exe`);
  // Same compiler settings as run-mono.sh (C# 7.2 subset, warnings are errors).
  await promisify(execFile)('mcs', ['-nologo', '-target:exe', '-langversion:7.2', '-warnaserror+', '-nowarn:1591',
    `-out:${tmp}`, ...sources]);
  await rename(tmp, exe);
  return exe;
}

const b64 = (s) => Buffer.from(String(s ?? ''), 'utf8').toString('base64');
const unb64 = (s) => Buffer.from(s || '', 'base64').toString('utf8');

/**
 * Starts the Core process with `keyFile` (a private RSA JWK, the plugin's key file format).
 * @param {string} keyFile
 */
export async function startCore(keyFile) {
  const exe = await buildCoreCli();
  const child = spawn('mono', [exe, keyFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  /** @type {{resolve: (v: string[]) => void, reject: (e: Error) => void}[]} */
  const pending = [];
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const p = pending.shift();
      if (!p) continue;
      const parts = line.split('\t');
      if (parts[0] === 'ok') p.resolve(parts.slice(1));
      else p.reject(new Error(`Core: ${unb64(parts[1])}`));
    }
  });
  child.on('exit', (code) => {
    for (const p of pending.splice(0)) p.reject(new Error(`Core process exited (${code}): ${stderr}`));
  });
  child.stdin.on('error', () => {}); // reported through 'exit'

  /** @param {string[]} fields */
  const call = (...fields) => new Promise((resolve, reject) => {
    if (child.exitCode !== null) { reject(new Error(`Core process exited: ${stderr}`)); return; }
    pending.push({ resolve, reject });
    child.stdin.write(`${fields.join('\t')}\n`);
  });

  return {
    /** WebPaths.Classify → {file: 'None'|'Index'|'Config', baseUrl} */
    async classify(pathBase, path) {
      const [file, base] = await call('classify', b64(pathBase), b64(path));
      return { file, baseUrl: unb64(base) };
    },
    /** IndexHtmlRewriter.Rewrite → {outcome, html} */
    async rewriteIndex(html, baseUrl, version) {
      const [outcome, out] = await call('index', b64(html), b64(baseUrl), version);
      return { outcome, html: unb64(out) };
    },
    /** ConfigJsonRewriter.Rewrite → {outcome, json} */
    async rewriteConfig(json) {
      const [outcome, out] = await call('config', b64(json));
      return { outcome, json: unb64(out) };
    },
    /** ClientAssets.ResourceNameFor / ContentTypeFor → {resource, contentType} (null when refused) */
    async asset(path) {
      const [r, t] = await call('asset', b64(path));
      return { resource: unb64(r) || null, contentType: unb64(t) || null };
    },
    /** JwtIssuer.Issue */
    async token(userId, name, issuer, iat, lifetime) {
      const [jwt] = await call('token', userId, b64(name), issuer, String(iat), String(lifetime));
      return jwt;
    },
    async lifetime(configured) { return Number((await call('lifetime', String(configured)))[0]); },
    async normalizeServerUrl(url) { return unb64((await call('serverurl', b64(url)))[0]) || null; },
    async normalizeControl(v) { return unb64((await call('control', b64(v)))[0]); },
    async jwks() { return unb64((await call('jwks'))[0]); },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}
