// @ts-check
// The lobby's ready check in Chromium against the Jellyfin stand-in and a real session server:
// the host asks "Ready?" from the panel while paused, the guest answers from its panel, both
// lists show who is ready, and the room starts for everyone when all are ready.

import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { until } from './harness.js';
import { hostAndGuest, panelBox } from './standin-harness.js';

/** @param {any} page */
const playing = (page) => page.evaluate(() => /** @type {any} */ (window).matinee.manager.room.state.playing);

test('ready check: asked from the host\'s panel, answered from the guest\'s, the room starts', { timeout: 120_000 }, async (t) => {
  const { ann, bob } = await hostAndGuest(t);
  await until(ann, () => /** @type {any} */ (window).matinee.manager.room.state.playing === true);
  // Playing: no "Ready?" (a ready check is for a paused room).
  assert.equal(await ann.isVisible('.matinee-ready-check'), false);
  await ann.evaluate(() => /** @type {any} */ (window).matinee.manager.pause());
  await until(bob, () => /** @type {any} */ (window).matinee.manager.room.state.playing === false);
  await until(ann, () => !(/** @type {HTMLElement|null} */ (document.querySelector('.matinee-ready-check'))?.hidden));
  assert.equal(await bob.evaluate(() => /** @type {HTMLElement|null} */ (document.querySelector('.matinee-ready-check'))?.hidden), true, 'a guest without the playback right cannot ask');

  await ann.click('.matinee-ready-check');
  await until(bob, () => /** @type {any} */ (window).matinee.manager.readyState !== null);
  // The asker counts as ready (shown once the throttled `members` carries the answers).
  await until(bob, () => /1 of 2/.test(document.querySelector('.matinee-ready-progress')?.textContent || ''));
  assert.equal(await ann.evaluate(() => document.querySelector('.matinee-badge-ready') !== null), true);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(await playing(ann), false, 'nobody starts before everyone is ready');
  if (process.env.MATINEE_SCREENSHOTS) await bob.screenshot({ path: join(process.env.MATINEE_SCREENSHOTS, 'ready-check.png'), clip: await panelBox(bob) });

  await bob.click('.matinee-ready-yes');
  await until(ann, () => /** @type {any} */ (window).matinee.manager.room.state.playing === true);
  await until(bob, () => /** @type {any} */ (window).matinee.manager.room.state.playing === true);
  await until(ann, () => /All|Everyone/.test(document.querySelector('.matinee-alert')?.textContent || ''));
  assert.equal(await ann.evaluate(() => /** @type {any} */ (window).matinee.manager.readyState), null);
});
