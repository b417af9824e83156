// @ts-check
// The Jellyfin stand-in (testdata/jellyfin-standin) and a real session server that trusts it:
// the session server fetches the plugin's JWKS from the stand-in (`jellyfin.url`) exactly as
// it does from a real Jellyfin, and admits the stand-in's origin.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, HLS_JS, launchBrowser, spawnServer, startSampling, until } from './harness.js';
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

/** The page shell shaped like jellyfin-web's (fixtures/web/). */
export const WEB = join(ROOT, 'client-js', 'test', 'e2e', 'fixtures', 'web');
const USERS = { Ann: 'ann-pw', Bob: 'bob-pw', Cleo: 'cleo-pw' };

/** Opens the page shell as `user` (signed in through the stand-in); `query` adds to the URL. */
export async function openJellyfin(browser, stack, user, query = '', log = []) {
  const context = await browser.newContext();
  // hls.js, as jellyfin-web bundles it (the shell's <script defer src="hls.min.js">).
  await context.route('**/web/hls.min.js', async (route) => route.fulfill({ body: await readFile(HLS_JS), contentType: 'text/javascript' }));
  const page = await context.newPage();
  page.on('pageerror', (e) => { log.push(`pageerror ${e.message}`); console.error(`[${user}] page error:`, e.message); });
  page.on('console', (m) => { if (m.type() === 'error') console.error(`[${user}]`, m.text()); });
  const q = new URLSearchParams({ user, pw: USERS[user] });
  await page.goto(`${stack.jf.url}/web/index.html?${q}${query ? `&${query}` : ''}`);
  await until(page, () => /** @type {any} */ (window).__jf?.ready === true);
  return page;
}

/** The client's objects, for measuring (as the demo page exposes them). */
export async function expose(page) {
  await until(page, () => Boolean(/** @type {any} */ (window).__jf.plugin?.app));
  await page.evaluate(async () => {
    const w = /** @type {any} */ (window);
    const app = await w.__jf.plugin.app.ensure();
    w.matinee = { manager: app.manager, panel: app.panel, player: app.manager.player, video: w.__jf.video() };
  });
  await until(page, () => /** @type {any} */ (window).matinee.manager.connection.status === 'open');
  await startSampling(page);
}

/**
 * A stand-in stack and a browser for one test, both closed after it (`t.after`).
 * @param {{after: (fn: () => Promise<void>) => void}} t
 */
export async function stackAndBrowser(t) {
  const stack = await startStack({ webDir: WEB, version: '10.11.11' });
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await stack.stop();
  });
  return { stack, browser };
}

/**
 * Opens the page shell as `user` playing `item` (The Clock by default), and creates a room from
 * the video OSD's Watch party button. Returns the page and the room code.
 * @param {any} browser @param {any} stack @param {string} user @param {string} [query] @param {string} [item]
 */
export async function hostFromOsd(browser, stack, user, query = '', item = 'The Clock') {
  const page = await openJellyfin(browser, stack, user, `autoplay=${stack.jf.item(item).id}${query ? `&${query}` : ''}`);
  await until(page, () => /** @type {any} */ (window).__jf.video()?.currentTime > 0.5);
  await page.click('.osdControls .btnMatineeWatchParty');
  await page.click('.matinee-create');
  await until(page, () => /^[A-Z0-9]{6}$/.test(document.querySelector('.matinee-room-code')?.textContent || ''));
  return { page, code: await page.textContent('.matinee-room-code') || '' };
}

/**
 * A stand-in stack and a browser for one test (closed after it), with Ann hosting a room from
 * the OSD while The Clock plays and Bob joined by the invite link, both exposed for measuring.
 * @param {{after: (fn: () => Promise<void>) => void}} t
 */
export async function hostAndGuest(t) {
  const { stack, browser } = await stackAndBrowser(t);
  const { page: ann, code } = await hostFromOsd(browser, stack, 'Ann');
  await expose(ann);
  const bob = await openJellyfin(browser, stack, 'Bob', `matinee=${code}`);
  await until(bob, () => Boolean(/** @type {any} */ (window).__jf.video()), undefined, 20000);
  await expose(bob);
  return { stack, browser, ann, bob, code };
}

/** The panel's box on the page, for a screenshot of it alone. @param {any} page */
export async function panelBox(page) {
  const box = await page.locator('.matinee-panel').boundingBox();
  if (!box) throw new Error('the panel is not shown');
  return box;
}
