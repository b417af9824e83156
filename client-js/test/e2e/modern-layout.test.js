// @ts-check
// jellyfin-web 12's modern layout ("Auto" in 12) hides the legacy header where the Watch party
// button lived, so a guest could not join by code until something played. In the page shell's
// modern layout (fixtures/web: ?layout=modern, the MUI toolbar with its Search link), the
// button is in the toolbar, survives a re-render of it, and a guest joins from there.

import test from 'node:test';
import assert from 'node:assert/strict';
import { until } from './harness.js';
import { stackAndBrowser, hostFromOsd, openJellyfin, expose } from './standin-harness.js';

const TOOLBAR_BUTTON = '.MuiToolbar-root .btnMatineeToolbar';

test('modern layout: the Watch party button in the toolbar; a guest joins by code from it', { timeout: 120_000 }, async (t) => {
  const { stack, browser } = await stackAndBrowser(t);
  const clock = stack.jf.item('The Clock');
  const { code } = await hostFromOsd(browser, stack, 'Ann');

  const bob = await openJellyfin(browser, stack, 'Bob', 'layout=modern');
  await until(bob, (sel) => document.querySelector(`${sel}:not([hidden])`) !== null, TOOLBAR_BUTTON);
  assert.equal(await bob.evaluate((sel) => document.querySelector(sel)?.nextElementSibling?.getAttribute('href'), TOOLBAR_BUTTON), '#/search', 'just before Search');
  assert.equal(await bob.isVisible('.skinHeader .btnMatineeHeader'), false, 'the legacy header is hidden in this layout');
  assert.equal(await bob.isVisible(TOOLBAR_BUTTON), true);

  // React renders the toolbar again (a route change): the button comes back.
  await bob.evaluate(() => /** @type {any} */ (window).__jf.renderModernToolbar());
  await until(bob, (sel) => document.querySelector(`${sel}:not([hidden])`) !== null, TOOLBAR_BUTTON);

  await bob.click(TOOLBAR_BUTTON);
  await until(bob, () => !(/** @type {HTMLElement} */ (document.querySelector('.matinee-panel'))).hidden);
  const [panel, button] = await bob.evaluate((sel) => ['.matinee-panel', sel].map((s) => {
    const r = /** @type {Element} */ (document.querySelector(s)).getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, right: r.right };
  }), TOOLBAR_BUTTON);
  assert.ok(panel.top >= button.bottom && panel.top - button.bottom < 24, 'hangs below the toolbar button');
  assert.ok(Math.abs(panel.right - button.right) <= 1);
  await bob.fill('.matinee-code-input', code);
  await bob.click('.matinee-join-button');
  await until(bob, (id) => /** @type {any} */ (window).__jf.playbackManager.currentItem(/** @type {any} */ (window).__jf.player)?.Id === id, clock.id, 20_000);
  await expose(bob);
  assert.equal(await bob.evaluate(() => /** @type {any} */ (window).matinee.manager.room.code), code);
});

// The dashboard (10.11 and 12, every layout) hides the legacy header too, and its toolbar has
// no Search link: Help and the user menu. The button goes before the user menu there.
test('dashboard toolbar: the Watch party button before the user menu, back after a render', { timeout: 120_000 }, async (t) => {
  const { stack, browser } = await stackAndBrowser(t);
  const ann = await openJellyfin(browser, stack, 'Ann', 'page=dashboard');
  await until(ann, (sel) => document.querySelector(`${sel}:not([hidden])`) !== null, TOOLBAR_BUTTON);
  const next = () => ann.evaluate((sel) => document.querySelector(sel)?.nextElementSibling?.querySelector('button')?.getAttribute('aria-controls'), TOOLBAR_BUTTON);
  assert.equal(await next(), 'app-user-menu', 'just before the user menu');
  assert.equal(await ann.isVisible('.skinHeader .btnMatineeHeader'), false, 'the legacy header is hidden on the dashboard');
  assert.equal(await ann.locator('.btnMatineeWatchParty:visible').count(), 1);
  await ann.evaluate(() => /** @type {any} */ (window).__jf.renderModernToolbar());
  await until(ann, (sel) => document.querySelector(`${sel}:not([hidden])`) !== null, TOOLBAR_BUTTON);
  assert.equal(await next(), 'app-user-menu');
  await ann.click(TOOLBAR_BUTTON);
  await until(ann, () => !(/** @type {HTMLElement} */ (document.querySelector('.matinee-panel'))).hidden);
  await ann.click('.matinee-create');
  await until(ann, () => /^[A-Z0-9]{6}$/.test(document.querySelector('.matinee-room-code')?.textContent || ''));
});

// The modern layout's video page has its own top bar (a second `.skinHeader`, after the hidden
// legacy one): the panel and the party layer keep below it, as they keep below the legacy one.
test('modern layout, video page: the panel and the party layer stay below its top bar', { timeout: 120_000 }, async (t) => {
  const { stack, browser } = await stackAndBrowser(t);
  const { page: ann } = await hostFromOsd(browser, stack, 'Ann', 'layout=modern');
  await until(ann, () => !(/** @type {HTMLElement} */ (document.querySelector('.matinee-panel'))).hidden);
  await until(ann, () => document.querySelector('.matinee-overlay') !== null);
  const [header, panelTop, overlayTop] = await ann.evaluate(() => {
    const p = /** @type {HTMLElement} */ (document.querySelector('.matinee-panel'));
    return [
      document.querySelector('.modernVideoHeader')?.getBoundingClientRect().bottom ?? NaN,
      // the highest the panel may grow: its bottom edge less its maximum height
      p.getBoundingClientRect().bottom - parseFloat(p.style.maxHeight),
      /** @type {Element} */ (document.querySelector('.matinee-overlay')).getBoundingClientRect().top,
    ];
  });
  assert.ok(header >= 48, `the video page's top bar is there (${header})`);
  assert.ok(panelTop >= header, `the panel may grow up to ${panelTop}, below the bar's ${header}`);
  assert.ok(overlayTop >= header, `the party layer starts at ${overlayTop}, below the bar's ${header}`);
});
