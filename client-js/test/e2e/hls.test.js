// @ts-check
// The same room with an HLS stream played through hls.js, as jellyfin-web plays transcodes:
// the host switches the room to the stream (everyone follows), then play, seek, pause.
// The stream is made from the demo clip with ffmpeg at test time and served by the server's
// demo media folder.

import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, openPage, measure, settle, until, sleep, makeHls, results } from './harness.js';

const BOUND_MS = 250;

test('HLS through hls.js: three pages follow the host onto the stream and stay in sync', { timeout: 180_000 }, async (t) => {
  const mediaDir = await mkdtemp(join(tmpdir(), 'matinee-media-'));
  const hlsPath = await makeHls(mediaDir);
  const server = await startServer({ mediaDir });
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.stop();
    await rm(mediaDir, { recursive: true, force: true });
    console.log(results.join('\n'));
  });

  const ann = await openPage(browser, server.base, { name: 'Ann', hls: true });
  const code = await ann.evaluate(async () => (await /** @type {any} */ (window).matinee.manager.createRoom()).code);
  const bob = await openPage(browser, server.base, { name: 'Bob', hls: true });
  const cat = await openPage(browser, server.base, { name: 'Cat', hls: true, query: `matinee=${code}` });
  await bob.evaluate((c) => /** @type {any} */ (window).matinee.manager.joinRoom(c), code);
  const pages = [ann, bob, cat];
  await Promise.all(pages.map((p) => until(p, () => /** @type {any} */ (window).matinee.manager.room?.members.length === 3)));
  for (const p of pages) {
    if (await p.isHidden('.matinee-panel')) await p.click('#btn-party');
  }

  await t.test('the host switches the room to the HLS stream; everyone follows through hls.js', async () => {
    await ann.fill('#url-input', `${server.base}${hlsPath}`);
    await ann.press('#url-input', 'Enter');
    for (const p of pages) {
      await until(p, () => {
        const m = /** @type {any} */ (window).matinee;
        return m.player.hls !== null && m.player.isStreaming() && m.video.readyState >= 1;
      }, undefined, 30000);
    }
    const media = await bob.evaluate(() => /** @type {any} */ (window).matinee.manager.room.state.media);
    assert.match(media.id, /index\.m3u8$/);
  });

  await t.test('play', async () => {
    await ann.click('#btn-play');
    await settle(pages, 20000);
    const { frame, clock } = await measure('play (HLS via hls.js, 3 pages)', pages);
    assert.ok(frame.n > 50 && clock.n > 50);
    assert.ok(frame.p95 < BOUND_MS && clock.p95 < BOUND_MS, `p95 ${frame.p95} / ${clock.p95}`);
  });

  await t.test('seek across segments', async () => {
    await ann.evaluate(() => /** @type {any} */ (window).matinee.manager.seek(31));
    await until(cat, () => /** @type {any} */ (window).matinee.video.currentTime > 30.5, undefined, 20000);
    await settle(pages, 20000);
    const { frame, clock } = await measure('seek to 31 s (HLS)', pages);
    assert.ok(frame.p95 < BOUND_MS && clock.p95 < BOUND_MS);
  });

  await t.test('a member starved of data makes the room wait, then all resume together', async () => {
    let slow = true;
    await bob.context().route('**/media/hls/*.ts', async (route) => {
      if (slow) await sleep(2500);
      await route.continue();
    });
    for (const p of pages) {
      await p.evaluate(() => {
        const w = /** @type {any} */ (window);
        w.__reasons = [];
        w.matinee.manager.on('state', (st) => w.__reasons.push([st.reason, st.waiting_for || []]));
      });
    }
    const bobId = await bob.evaluate(() => /** @type {any} */ (window).matinee.manager.room.you);
    // hls.js has the whole (short) clip buffered by now: drop Bob's buffer so the seek below
    // must fetch again, through the slow route.
    await bob.evaluate(() => {
      const { hls } = /** @type {any} */ (window).matinee.player;
      hls.trigger('hlsBufferFlushing', { startOffset: 0, endOffset: Number.POSITIVE_INFINITY, type: null });
    });
    await ann.evaluate(() => /** @type {any} */ (window).matinee.manager.seek(50));
    await until(ann, (id) => /** @type {any} */ (window).__reasons.some(([r, w]) => r === 'waiting' && w.includes(id)), bobId, 20000);
    await until(cat, () => /** @type {any} */ (window).matinee.video.paused);
    assert.match(await cat.textContent('.matinee-sync') || '', /Waiting for .*Bob/);
    slow = false;
    await settle(pages, 20000);
    const { frame, clock } = await measure('resume after waiting for a buffering member (HLS)', pages);
    assert.ok(frame.p95 < BOUND_MS && clock.p95 < BOUND_MS);
  });

  await t.test('chat is text, never HTML', async () => {
    await cat.fill('.matinee-chat-input', '<img src=x onerror="window.__pwned=1"><b>bold</b>');
    await cat.press('.matinee-chat-input', 'Enter');
    await until(ann, () => [...document.querySelectorAll('.matinee-chat-text')].some((l) => l.textContent?.startsWith('<img')));
    assert.equal(await ann.locator('.matinee-chat-text img, .matinee-chat-text b').count(), 0);
    assert.equal(await ann.evaluate(() => /** @type {any} */ (window).__pwned), undefined);
  });

  await t.test('pause', async () => {
    await ann.click('#btn-pause');
    await Promise.all(pages.map((p) => until(p, () => {
      const m = /** @type {any} */ (window).matinee;
      return m.video.paused && m.manager.room.state.playing === false && !m.video.seeking;
    })));
    await sleep(300);
    const ts = await Promise.all(pages.map((p) => p.evaluate(() => /** @type {any} */ (window).matinee.video.currentTime)));
    const spread = (Math.max(...ts) - Math.min(...ts)) * 1000;
    results.push(`# paused spread (HLS): ${spread.toFixed(1)} ms`);
    assert.ok(spread <= 45, `paused positions ${ts.join(', ')}`);
  });

  await t.test('server gone: the panel says so, and a request fails with a clear message', async () => {
    await ann.click('.matinee-leave');
    await server.stop();
    await until(ann, () => /reconnecting/.test(document.querySelector('.matinee-conn')?.textContent || ''));
    await ann.click('.matinee-create');
    await until(ann, () => /cannot be reached/.test(document.querySelector('.matinee-alert')?.textContent || ''));
  });
});
