// @ts-check
// Where the watch-party panel opens in the page shell laid out like jellyfin-web's video OSD
// (fixtures/web/index.html: fixed header, full-screen letterboxed video, the bottom bar with
// title, time row and buttons): never over jellyfin-web's controls, next to the button that
// opened it, in the theme's colours, and usable on a phone. `MATINEE_SCREENSHOTS=dir` saves
// what it looked like.

import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { HLS_JS, until } from './harness.js';
import { stackAndBrowser, openJellyfin, hostFromOsd } from './standin-harness.js';

/** @param {import('playwright-core').Page} page @param {string} sel */
const box = (page, sel) => page.evaluate((s) => {
  const r = /** @type {Element} */ (document.querySelector(s)).getBoundingClientRect();
  return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
}, sel);
const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
/** Relative luminance of a CSS rgb()/rgba() colour (0 black … 1 white). */
const lum = (css) => {
  const [r, g, b] = (css.match(/[\d.]+/g) || []).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
};

async function shot(page, name) {
  if (process.env.MATINEE_SCREENSHOTS) await page.screenshot({ path: join(process.env.MATINEE_SCREENSHOTS, name) });
}

/** The parts of jellyfin-web's OSD that must stay visible: the time row (position, seek bar,
 *  remaining time) and the buttons. */
async function osdControls(page) {
  return [await box(page, '.osdTimeRow'), await box(page, '.osdControls .buttons'), await box(page, '.osdTitle')];
}

/** Opens the panel with `button`, in a room with chat, and returns its box. */
async function openWith(page, button) {
  await page.click(button);
  await until(page, () => !(/** @type {HTMLElement} */ (document.querySelector('.matinee-panel'))).hidden);
  return box(page, '.matinee-panel');
}

test('the panel: clear of jellyfin-web\'s controls, next to its button, in the theme, on a phone', { timeout: 120_000 }, async (t) => {
  const { stack, browser } = await stackAndBrowser(t);
  const clock = stack.jf.item('The Clock');

  await t.test('desktop, dark theme: from the OSD it stands above the bar; from the header it hangs below the button', async () => {
    const ann = await openJellyfin(browser, stack, 'Ann', `autoplay=${clock.id}`);
    await until(ann, () => document.querySelector('.osdControls .btnMatineeWatchParty:not([hidden])') !== null);
    let panel = await openWith(ann, '.osdControls .btnMatineeWatchParty');
    await ann.click('.matinee-create');
    await until(ann, () => /^[A-Z0-9]{6}$/.test(document.querySelector('.matinee-room-code')?.textContent || ''));
    await ann.fill('.matinee-chat-input', 'Popcorn ready?');
    await ann.press('.matinee-chat-input', 'Enter');
    await until(ann, () => document.querySelectorAll('.matinee-chat-line').length === 1);
    panel = await box(ann, '.matinee-panel');
    for (const c of await osdControls(ann)) assert.ok(!overlaps(panel, c), `panel ${JSON.stringify(panel)} over ${JSON.stringify(c)}`);
    const osdButton = await box(ann, '.osdControls .btnMatineeWatchParty');
    assert.ok(Math.abs(panel.right - osdButton.right) <= 1, 'right edge on the button\'s');
    assert.ok(panel.bottom <= osdButton.top, 'above it');
    await shot(ann, 'jellyfin-panel.png');

    // Text colours: the theme's light text, on the reaction buttons too.
    const colours = await ann.evaluate(() => ({
      panel: getComputedStyle(/** @type {Element} */ (document.querySelector('.matinee-panel'))).color,
      reaction: getComputedStyle(/** @type {Element} */ (document.querySelector('.matinee-reaction'))).color,
      button: getComputedStyle(/** @type {Element} */ (document.querySelector('.matinee-leave'))).color,
    }));
    assert.ok(lum(colours.panel) > 0.6, `panel text ${colours.panel}`);
    assert.equal(colours.reaction, colours.panel, 'reaction buttons take the panel\'s text colour');
    assert.equal(colours.button, colours.panel);

    await ann.click('.matinee-close');
    panel = await openWith(ann, '.skinHeader .btnMatineeHeader');
    const headerButton = await box(ann, '.skinHeader .btnMatineeHeader');
    const header = await box(ann, '.skinHeader');
    assert.ok(panel.top >= header.bottom && panel.top - headerButton.bottom < 24, `hangs below the header button (top ${panel.top})`);
    assert.ok(Math.abs(panel.right - headerButton.right) <= 1, 'right edge on the button\'s');
    for (const c of await osdControls(ann)) assert.ok(!overlaps(panel, c), 'clear of the OSD bar too');
    await ann.context().close();
  });

  await t.test('light theme: a light panel with dark text', async () => {
    const bob = await openJellyfin(browser, stack, 'Bob', `autoplay=${clock.id}&theme=light`);
    await until(bob, () => document.querySelector('.osdControls .btnMatineeWatchParty:not([hidden])') !== null);
    await openWith(bob, '.osdControls .btnMatineeWatchParty');
    const c = await bob.evaluate(() => {
      const p = /** @type {Element} */ (document.querySelector('.matinee-panel'));
      return { fg: getComputedStyle(p).color, bg: getComputedStyle(p).backgroundColor };
    });
    assert.ok(lum(c.fg) < 0.3, `text ${c.fg}`);
    assert.ok(lum(c.bg) > 0.8, `background ${c.bg}`);
    await bob.context().close();
  });

  await t.test('a 390×844 phone: full width with even margins, clear of the bar, half the picture or more in view', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    const cleo = await openJellyfin({ newContext: () => context }, stack, 'Cleo', `autoplay=${clock.id}`);
    await until(cleo, () => document.querySelector('.osdControls .btnMatineeWatchParty:not([hidden])') !== null);
    await openWith(cleo, '.osdControls .btnMatineeWatchParty');
    await cleo.click('.matinee-create');
    await until(cleo, () => /^[A-Z0-9]{6}$/.test(document.querySelector('.matinee-room-code')?.textContent || ''));
    const panel = await box(cleo, '.matinee-panel');
    const width = await cleo.evaluate(() => document.documentElement.clientWidth);
    assert.ok(Math.abs(panel.left - (width - panel.right)) <= 1, `even margins (${panel.left} / ${width - panel.right})`);
    assert.ok(panel.left >= 8);
    for (const c of await osdControls(cleo)) assert.ok(!overlaps(panel, c), `panel ${JSON.stringify(panel)} over ${JSON.stringify(c)}`);
    const picture = await cleo.evaluate(() => {
      const v = /** @type {HTMLVideoElement} */ (document.querySelector('video.htmlvideoplayer'));
      const r = v.getBoundingClientRect();
      const h = r.width * v.videoHeight / v.videoWidth;
      return { top: r.top + (r.height - h) / 2, bottom: r.top + (r.height + h) / 2 };
    });
    const covered = Math.max(0, Math.min(panel.bottom, picture.bottom) - Math.max(panel.top, picture.top));
    assert.ok(covered <= (picture.bottom - picture.top) / 2 + 1, `covers ${covered.toFixed(0)} of the picture's ${(picture.bottom - picture.top).toFixed(0)} px`);
    await shot(cleo, 'jellyfin-panel-phone.png');
    await context.close();
  });
});

// A panel opened before the player's page exists (an invite link opens it on the home page) is
// placed for a page without the OSD; when the video page then appears it moves next to the
// OSD's button, clear of the controls (genuine jellyfin-web 12 on a phone: it covered the OSD).
test('a panel open before the video page moves clear of the OSD when it appears (phone)', { timeout: 120_000 }, async (t) => {
  const { stack, browser } = await stackAndBrowser(t);
  const { code } = await hostFromOsd(browser, stack, 'Ann');
  const context = await browser.browser.newContext({ viewport: { width: 390, height: 844 } });
  t.after(() => context.close());
  const bob = await context.newPage();
  await context.route('**/web/hls.min.js', async (route) => route.fulfill({ body: await readFile(HLS_JS), contentType: 'text/javascript' }));
  await bob.goto(`${stack.jf.url}/web/index.html?user=Bob&pw=bob-pw&matinee=${code}`);
  await until(bob, () => !(/** @type {HTMLElement|null} */ (document.querySelector('.matinee-panel')))?.hidden, undefined, 20000);
  await until(bob, () => document.querySelector('.osdControls .btnMatineeWatchParty:not([hidden])') !== null && (/** @type {any} */ (window).__jf.video()?.currentTime || 0) > 0.5, undefined, 20000);
  await until(bob, () => !(/** @type {HTMLElement} */ (document.querySelector('.matinee-panel'))).hidden);
  await new Promise((r) => setTimeout(r, 300));
  const panel = await box(bob, '.matinee-panel');
  for (const c of await osdControls(bob)) assert.ok(!overlaps(panel, c), `panel ${JSON.stringify(panel)} over ${JSON.stringify(c)}`);
});
