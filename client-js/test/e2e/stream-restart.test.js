// @ts-check
// jellyfin-web restarting the host's stream by itself is not the host moving the room.
// After a media error htmlVideoPlayer loads the stream again and seeks the new source to where
// the old one was (genuine 10.10.7: Chromium's own HLS player failed on a rewind, jellyfin-web
// reloaded it and seeked it back to the position before the rewind, and the room followed
// there). The mechanism, on the page shell: the host's <video> gets its source again and is
// seeked before it plays; the room must stay where it is and the host's player come back to it.

import test from 'node:test';
import assert from 'node:assert/strict';
import { settle, until } from './harness.js';
import { hostAndGuest } from './standin-harness.js';

test('a stream jellyfin-web restarts itself and seeks elsewhere does not move the room', { timeout: 120_000 }, async (t) => {
  const { ann, bob } = await hostAndGuest(t);
  const pages = [ann, bob];
  await settle(pages, 30000);
  const before = await bob.evaluate(() => /** @type {any} */ (window).matinee.manager.room.state.seq);
  const roomAt = await ann.evaluate(() => /** @type {any} */ (window).matinee.manager.core.targetPosition());

  // htmlVideoPlayer's recovery: the same stream as a new source, seeked on load to another
  // position (20 s away from the room's), then played.
  await ann.evaluate((to) => {
    const v = /** @type {any} */ (window).__jf.video();
    const src = v.src;
    v.addEventListener('loadedmetadata', () => { v.currentTime = to; v.play().catch(() => {}); }, { once: true });
    v.src = src;
  }, roomAt + 20);
  await until(ann, () => /** @type {any} */ (window).__jf.video().seeking === false && /** @type {any} */ (window).__jf.video().readyState >= 2, undefined, 20000);
  await new Promise((r) => setTimeout(r, 2000));

  const st = await bob.evaluate(() => /** @type {any} */ (window).matinee.manager.room.state);
  assert.equal(st.seq, before, `the room did not change (it got ${st.reason} at ${st.position})`);
  await settle(pages, 20000);
  const [a, b] = await Promise.all(pages.map((p) => p.evaluate(() => /** @type {any} */ (window).__jf.video().currentTime)));
  assert.ok(Math.abs(a - b) < 0.25, `host ${a.toFixed(3)} s and guest ${b.toFixed(3)} s play together`);
  assert.ok(b < roomAt + 15, `the guest was not sent to the restart's position (${b.toFixed(3)} s)`);
});
