// @ts-check
// The party over the video, in the page shell laid out like jellyfin-web's video OSD
// (fixtures/web/), against the Jellyfin stand-in and a real session server: who-did-what notices
// (one at a time, even under a flood), chat over the video and its key, reactions; always clear
// of the header, the OSD's bottom bar and the subtitles' part of the picture; names and
// messages shown as text. `MATINEE_SCREENSHOTS=dir` saves what it looked like (1280×800).

import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launchBrowser, settle, until } from './harness.js';
import { startStack, WEB, hostFromOsd, expose } from './standin-harness.js';

const HTML_NAME = '<img src=x onerror="window.__pwned=1">Eve';
const USERS = [
  { name: 'Ann', password: 'ann-pw', admin: true },
  { name: 'Bob', password: 'bob-pw' },
  { name: 'Cleo', password: 'cleo-pw' },
  { name: HTML_NAME, password: 'eve-pw' },
];

/** @param {import('playwright-core').Page} page @param {string} sel */
const box = (page, sel) => page.evaluate((s) => {
  const el = document.querySelector(s);
  if (!el) return null;
  const r = el.getBoundingClientRect();
  return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
}, sel);

/** Where the overlay must never be: the header, the OSD bar (without its gradient padding)
 *  and the bottom 40 % of the picture, where jellyfin-web draws subtitles. */
const forbidden = (page) => page.evaluate(() => {
  const header = /** @type {HTMLElement} */ (document.querySelector('.skinHeader')).getBoundingClientRect();
  const osd = /** @type {HTMLElement} */ (document.querySelector('.videoOsdBottom'));
  const pad = parseFloat(getComputedStyle(osd).paddingTop) || 0;
  const osdTop = osd.getBoundingClientRect().top + pad;
  const v = /** @type {HTMLVideoElement} */ (document.querySelector('video.htmlvideoplayer'));
  const r = v.getBoundingClientRect();
  const scale = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
  const picTop = r.top + (r.height - v.videoHeight * scale) / 2;
  const subtitleLine = picTop + v.videoHeight * scale * 0.6;
  return { headerBottom: header.bottom, osdTop, subtitleLine };
});

/** Asserts that every shown part of the overlay on `page` is clear of the forbidden areas. */
async function assertClear(page, what) {
  const f = await forbidden(page);
  const parts = await page.evaluate(() => [...document.querySelectorAll('.matinee-overlay, .matinee-notice:not([hidden]), .matinee-chat-feed-line, .matinee-chat-overlay-form:not([hidden])')]
    .map((el) => { const r = el.getBoundingClientRect(); return { cls: el.className, top: r.top, bottom: r.bottom }; }));
  for (const p of parts) {
    assert.ok(p.top >= f.headerBottom, `${what}: ${p.cls} top ${p.top} under the header (${f.headerBottom})`);
    assert.ok(p.bottom <= f.osdTop, `${what}: ${p.cls} bottom ${p.bottom} over the OSD bar (${f.osdTop})`);
    assert.ok(p.bottom <= f.subtitleLine, `${what}: ${p.cls} bottom ${p.bottom} over the subtitles' part (${f.subtitleLine})`);
  }
}

/** Opens the page shell as `user` (signed in through the stand-in) with `query`. */
async function open(browser, stack, user, password, query) {
  const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${user}] page error:`, e.message));
  await page.goto(`${stack.jf.url}/web/index.html?${new URLSearchParams({ user, pw: password })}&${query}`);
  await until(page, () => /** @type {any} */ (window).__jf?.ready === true);
  return page;
}

/** Counts, from now on, the most notices ever shown at once on `page` (a MutationObserver). */
/** Waits until `page` has shown the notice `text` (at any moment since watchNotices). */
const untilSeen = (page, text, timeout = 20000) => until(page, (x) => /** @type {any} */ (window).__noticeTexts.includes(x), text, timeout);

const watchNotices = (page) => page.evaluate(() => {
  const w = /** @type {any} */ (window);
  w.__maxNotices = 0;
  w.__noticeTexts = [];
  const count = () => {
    const shown = [...document.querySelectorAll('.matinee-notice')].filter((el) => !(/** @type {HTMLElement} */ (el)).hidden && el.textContent);
    w.__maxNotices = Math.max(w.__maxNotices, shown.length);
    for (const el of shown) if (w.__noticeTexts.at(-1) !== el.textContent) w.__noticeTexts.push(el.textContent);
  };
  new MutationObserver(count).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['hidden'] });
});

test('over the video: who did what, chat and its key, reactions — clear of the controls and subtitles', { timeout: 240_000 }, async (t) => {
  const stack = await startStack({ webDir: WEB, version: '10.11.11', users: USERS });
  const browser = await launchBrowser();
  // 1280×800 pages (the documentation's screenshots).
  const sized = { newContext: () => browser.browser.newContext({ viewport: { width: 1280, height: 800 } }) };
  t.after(async () => {
    await browser.close();
    await stack.stop();
  });
  const { page: ann, code } = await hostFromOsd(sized, stack, 'Ann');
  await expose(ann);
  await ann.click('.matinee-close');
  await watchNotices(ann);
  const bob = await open(browser, stack, 'Bob', 'bob-pw', `matinee=${code}`);
  await until(bob, () => Boolean(/** @type {any} */ (window).__jf.video()), undefined, 20000);
  await expose(bob);
  await bob.click('.matinee-close');
  await watchNotices(bob);

  await t.test('a join and the host\'s pause and seek show on the others\' screens, by name', async () => {
    await until(ann, () => document.querySelector('.matinee-notice')?.textContent === 'Bob joined');
    await assertClear(ann, 'join notice');
    // Once Bob plays in sync (his start may make the room wait for him first).
    await settle([ann, bob], 30000);
    await ann.evaluate(() => /** @type {any} */ (window).__jf.video().pause());
    await untilSeen(bob, 'Ann paused');
    await ann.evaluate(() => /** @type {any} */ (window).matinee.manager.seek(15.2));
    await untilSeen(bob, 'Ann seeked to 0:15');
    await until(bob, () => document.querySelector('.matinee-notice')?.textContent === 'Ann seeked to 0:15');
    await assertClear(bob, 'seek notice');
    if (process.env.MATINEE_SCREENSHOTS) {
      await bob.screenshot({ path: join(process.env.MATINEE_SCREENSHOTS, 'party-notice.png') });
    }
    const annSaw = await ann.evaluate(() => /** @type {any} */ (window).__noticeTexts);
    assert.ok(annSaw.includes('Bob joined') && !annSaw.some((x) => x.startsWith('Ann ')), `Ann's own actions are not announced to her: ${annSaw}`);
  });

  await t.test('a flood of events: never two notices at once, and the last one wins', async () => {
    // 30 seeks in a burst (within the server's 20/s, burst 40) and pauses between them.
    await ann.evaluate(() => {
      const m = /** @type {any} */ (window).matinee.manager;
      for (let i = 1; i <= 30; i++) m.seek(i);
    });
    await until(bob, () => document.querySelector('.matinee-notice')?.textContent === 'Ann seeked to 0:30');
    assert.equal(await bob.evaluate(() => /** @type {any} */ (window).__maxNotices), 1);
    assert.equal(await bob.evaluate(() => document.querySelectorAll('.matinee-notice').length), 1);
    // The board drains: gone a few seconds after the flood (hold 4 s).
    await until(bob, () => (/** @type {HTMLElement} */ (document.querySelector('.matinee-notice'))).hidden, undefined, 12000);
  });

  await t.test('`c` opens the chat line over the video; Enter sends; keys typed do not reach jellyfin-web', async () => {
    await bob.evaluate(() => {
      const w = /** @type {any} */ (window);
      w.__keysAtDocument = [];
      document.addEventListener('keydown', (e) => w.__keysAtDocument.push(e.key));
    });
    await bob.focus('body');
    await bob.keyboard.press('c');
    await until(bob, () => document.activeElement?.classList.contains('matinee-chat-overlay-input') === true);
    assert.equal(await bob.inputValue('.matinee-chat-overlay-input'), '', 'the c itself is not typed');
    await assertClear(bob, 'chat input');
    await bob.keyboard.type('Popcorn ready? k f m');
    assert.deepEqual(await bob.evaluate(() => /** @type {any} */ (window).__keysAtDocument), [], 'no key reached the document');
    await bob.keyboard.press('Enter');
    await until(ann, () => document.querySelector('.matinee-chat-feed-line .matinee-chat-text')?.textContent === 'Popcorn ready? k f m');
    assert.equal(await ann.textContent('.matinee-chat-feed-line .matinee-chat-name'), 'Bob');
    assert.equal(await bob.isHidden('.matinee-chat-overlay-form'), true, 'the line closes after sending');
    await assertClear(ann, 'chat line');
    if (process.env.MATINEE_SCREENSHOTS) {
      // Ann answers, and starts another message in the chat line (no emoji: the test machine
      // has no colour emoji font).
      await ann.evaluate(() => /** @type {any} */ (window).matinee.manager.chat('Ready! Starting from the top'));
      await until(ann, () => document.querySelectorAll('.matinee-chat-feed-line').length === 2);
      await ann.focus('body');
      await ann.keyboard.press('c');
      await until(ann, () => document.activeElement?.classList.contains('matinee-chat-overlay-input') === true);
      await ann.keyboard.type('Shh, it starts');
      await assertClear(ann, 'chat line open');
      await ann.screenshot({ path: join(process.env.MATINEE_SCREENSHOTS, 'party-chat.png') });
      await ann.keyboard.press('Escape');
    }
    await ann.evaluate(() => /** @type {any} */ (window).matinee.manager.react('🎉'));
    await until(bob, () => document.querySelector('.matinee-overlay .matinee-float-emoji')?.textContent === '🎉');
    assert.equal(await bob.evaluate(() => document.querySelectorAll('.matinee-panel .matinee-chat-line').length), await ann.evaluate(() => document.querySelectorAll('.matinee-panel .matinee-chat-line').length), 'the panel keeps the history');
    // It fades: gone from over the video after its few seconds, still in the panel.
    await until(ann, () => document.querySelectorAll('.matinee-chat-feed-line').length === 0, undefined, 15000);
    assert.ok(await ann.evaluate(() => document.querySelectorAll('.matinee-panel .matinee-chat-line').length) >= 1);
  });

  await t.test('`c` while typing in a field is a letter; Escape closes the line', async () => {
    await bob.evaluate(() => /** @type {any} */ (window).matinee.panel.open());
    await bob.focus('.matinee-panel .matinee-chat-input');
    await bob.keyboard.type('abc');
    assert.equal(await bob.inputValue('.matinee-panel .matinee-chat-input'), 'abc');
    assert.equal(await bob.isHidden('.matinee-chat-overlay-form'), true);
    await bob.fill('.matinee-panel .matinee-chat-input', '');
    await bob.evaluate(() => /** @type {any} */ (window).matinee.panel.close());
    await bob.focus('body');
    await bob.keyboard.press('c');
    await until(bob, () => document.activeElement?.classList.contains('matinee-chat-overlay-input') === true);
    await bob.keyboard.type('never sent');
    await bob.keyboard.press('Escape');
    assert.equal(await bob.isHidden('.matinee-chat-overlay-form'), true);
    await bob.waitForTimeout(500);
    assert.ok(!(await ann.evaluate(() => [...document.querySelectorAll('.matinee-chat-text')].some((e) => e.textContent === 'never sent'))));
  });

  await t.test('in fullscreen the line lives inside the fullscreen element', async () => {
    await bob.evaluate(() => /** @type {HTMLElement} */ (document.getElementById('videoOsdPage')).requestFullscreen());
    await until(bob, () => document.fullscreenElement?.id === 'videoOsdPage');
    await bob.focus('body');
    await bob.keyboard.press('c');
    await until(bob, () => document.activeElement?.classList.contains('matinee-chat-overlay-input') === true);
    assert.ok(await bob.evaluate(() => Boolean(document.fullscreenElement?.contains(document.querySelector('.matinee-overlay')))), 'the overlay moved into the fullscreen element');
    await bob.keyboard.type('from fullscreen');
    await bob.keyboard.press('Enter');
    await until(ann, () => [...document.querySelectorAll('.matinee-chat-feed-line .matinee-chat-text')].some((e) => e.textContent === 'from fullscreen'));
    assert.equal(await bob.evaluate(() => document.fullscreenElement?.id ?? null), 'videoOsdPage', 'still fullscreen');
    await bob.evaluate(() => document.exitFullscreen());
    await until(bob, () => document.fullscreenElement === null && document.querySelector('.matinee-overlay')?.parentElement === document.body);
  });

  await t.test('bad input: HTML in a name and a message stays text; 500 characters stay in their box', async () => {
    const eve = await open(browser, stack, HTML_NAME, 'eve-pw', `matinee=${code}`);
    // The name as written, cut to 32 characters (ui/notices.js), as text.
    const shown = `${[...HTML_NAME].slice(0, 31).join('')}… joined`;
    await until(ann, (text) => document.querySelector('.matinee-notice')?.textContent === text, shown, 20000);
    assert.equal(await ann.evaluate(() => document.querySelectorAll('.matinee-overlay img').length), 0);
    await until(eve, () => Boolean(/** @type {any} */ (window).__jf.video()), undefined, 20000);
    await expose(eve);
    const html = '<b>bold</b><img src=x onerror="window.__pwned=2">';
    await eve.evaluate((text) => /** @type {any} */ (window).matinee.manager.chat(text), html);
    await until(ann, (text) => [...document.querySelectorAll('.matinee-chat-feed-line .matinee-chat-text')].some((e) => e.textContent === text), html);
    assert.equal(await ann.evaluate(() => document.querySelectorAll('.matinee-overlay img, .matinee-overlay b, .matinee-panel img').length), 0, 'no element from the text');
    assert.equal(await ann.evaluate(() => /** @type {any} */ (window).__pwned ?? null), null);
  });

  await t.test('a message of 500 characters is sent whole and stays in its box; 501 is refused', async () => {
    await bob.focus('body');
    await bob.keyboard.press('c');
    await until(bob, () => document.activeElement?.classList.contains('matinee-chat-overlay-input') === true);
    await bob.keyboard.type(`${'word '.repeat(99)}last!`);
    assert.equal((await bob.inputValue('.matinee-chat-overlay-input')).length, 500);
    await bob.keyboard.type('more');
    assert.equal((await bob.inputValue('.matinee-chat-overlay-input')).length, 500, 'the input takes no 501st character');
    await bob.keyboard.press('Enter');
    await until(ann, () => [...document.querySelectorAll('.matinee-chat-feed-line .matinee-chat-text')].some((e) => (e.textContent || '').length === 500));
    await assertClear(ann, 'a 500-character message');
    const line = await ann.evaluate(() => {
      const el = [...document.querySelectorAll('.matinee-chat-feed-line')].find((e) => (e.textContent || '').length > 500);
      return el ? el.getBoundingClientRect().height / (parseFloat(getComputedStyle(el).fontSize) * 1.25) : null;
    });
    assert.ok(line !== null && line <= 4, `clamped to three lines (${line})`);
    const refused = await bob.evaluate(() => {
      try { /** @type {any} */ (window).matinee.manager.chat('x'.repeat(501)); return null; } catch (e) { return /** @type {any} */ (e).code; }
    });
    assert.equal(refused, 'too_large');
  });

  await t.test('in French for a member whose jellyfin-web speaks French', async () => {
    const cleo = await open(browser, stack, 'Cleo', 'cleo-pw', `matinee=${code}&locale=fr-fr`);
    await until(cleo, () => Boolean(/** @type {any} */ (window).__jf.video()), undefined, 20000);
    await expose(cleo);
    await watchNotices(cleo);
    await ann.evaluate(() => /** @type {any} */ (window).matinee.manager.seek(20));
    await untilSeen(cleo, 'Ann est allé à 0:20');
    await untilSeen(bob, 'Ann seeked to 0:20');
  });
});
