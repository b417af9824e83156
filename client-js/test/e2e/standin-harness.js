// @ts-check
// The Jellyfin stand-in (testdata/jellyfin-standin) and a real session server that trusts it:
// the session server fetches the plugin's JWKS from the stand-in (`jellyfin.url`) exactly as
// it does from a real Jellyfin, and admits the stand-in's origin.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startStandin } from '../../../testdata/jellyfin-standin/server.js';

/**
 * Starts `matinee-server` (not demo mode: tokens required) for a Jellyfin at `jellyfinUrl`.
 * @param {{jellyfinUrl: string, origins: string[], env?: Record<string, string>}} o
 */
export async function startSessionServer({ jellyfinUrl, origins, env: extra = {} }) {
  const bin = process.env.MATINEE_SERVER_BIN;
  if (!bin || !existsSync(bin)) throw new Error('MATINEE_SERVER_BIN must point at a built matinee-server (run `make test-browser`)');
  const env = {
    ...process.env,
    RUST_LOG: process.env.RUST_LOG || 'warn',
    MATINEE_JELLYFIN__URL: jellyfinUrl,
    MATINEE_SERVER__ALLOWED_ORIGINS: origins.join(','),
    // Rooms in memory: a test server keeps no files between runs.
    MATINEE_STORE__BACKEND: 'memory',
    ...extra,
  };
  const child = spawn(bin, ['--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`session server did not start:\n${stderr}`)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/(\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(`http://${m[1]}`); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`session server exited (${code}):\n${stderr}`)); });
  });
  return {
    base,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * The stand-in with the Matinee plugin configured to use a fresh session server.
 * @param {Parameters<typeof startStandin>[0]} [opts]
 */
export async function startStack(opts = {}) {
  const jf = await startStandin({ quiet: true, ...opts, matinee: opts.matinee === null ? null : { ...(opts.matinee || {}) } });
  let server = null;
  try {
    server = await startSessionServer({ jellyfinUrl: jf.url, origins: [jf.url] });
  } catch (e) {
    await jf.stop();
    throw e;
  }
  if (jf.state.matinee && jf.state.matinee.serverUrl === undefined) jf.state.matinee.serverUrl = server.base;
  return {
    jf,
    server,
    async stop() {
      await server.stop();
      await jf.stop();
    },
  };
}
