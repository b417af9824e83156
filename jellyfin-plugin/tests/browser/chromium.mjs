// Headless Chromium for the plugin's browser scripts (script-order.mjs, config-page.mjs):
// Debian's chromium (or CHROMIUM_PATH) driven by playwright-core, a fresh profile per run,
// removed afterwards.
//
//   await withChromiumTab('matinee-plugin-x-', async (tab) => { … });
//
// Exits the process with 3 when no Chromium is installed (the NUnit tests check for one
// before they run a script, so this is a clear error, never a silent pass).
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/**
 * @template T
 * @param {string} profilePrefix the temporary profile folder's name prefix
 * @param {(tab: import('playwright-core').Page) => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withChromiumTab(profilePrefix, fn) {
  const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']
    .find((p) => p && existsSync(p));
  if (!executablePath) {
    console.error('Chromium not found: install the Debian `chromium` package or set CHROMIUM_PATH');
    process.exit(3);
  }
  const profile = await mkdtemp(join(tmpdir(), profilePrefix));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    return await fn(await context.newPage());
  } finally {
    await context?.close().catch(() => {});
    await rm(profile, { recursive: true, force: true });
  }
}
