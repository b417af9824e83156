// @ts-check
// The Jellyfin stand-in (testdata/jellyfin-standin) and a real session server that trusts it:
// the session server fetches the plugin's JWKS from the stand-in (`jellyfin.url`) exactly as
// it does from a real Jellyfin, and admits the stand-in's origin.

import { spawnServer } from './harness.js';
import { startStandin } from '../../../testdata/jellyfin-standin/server.js';

/**
 * Starts `matinee-server` (not demo mode: tokens required) for a Jellyfin at `jellyfinUrl`.
 * @param {{jellyfinUrl: string, origins: string[], env?: Record<string, string>}} o
 */
export async function startSessionServer({ jellyfinUrl, origins, env: extra = {} }) {
  return spawnServer([], {
    MATINEE_JELLYFIN__URL: jellyfinUrl,
    MATINEE_SERVER__ALLOWED_ORIGINS: origins.join(','),
    // Rooms in memory: a test server keeps no files between runs.
    MATINEE_STORE__BACKEND: 'memory',
    ...extra,
  });
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
