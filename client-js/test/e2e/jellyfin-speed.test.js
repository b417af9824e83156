// @ts-check
// Playback speed chosen in jellyfin-web's own menu (Settings → Playback Speed calls
// playbackManager.setPlaybackRate(rate, player), src/components/playback/playersettingsmenu.js)
// is the room's rate (DESIGN §8), and the menu (playbackManager.getPlaybackRate) shows the
// room's rate, not the momentary corrected one. Run in the page shell shaped like jellyfin-web
// (fixtures/web/) through the Jellyfin stand-in and a real session server.

import test from 'node:test';
import assert from 'node:assert/strict';
import { until, sleep } from './harness.js';
import { hostAndGuest } from './standin-harness.js';

/** What the speed menu does when a speed is picked. */
const pickSpeed = (page, rate) => page.evaluate((r) => { const w = /** @type {any} */ (window); w.__jf.playbackManager.setPlaybackRate(r, w.__jf.player); }, rate);
/** What the speed menu shows as checked. */
const menuSpeed = (page) => page.evaluate(() => { const w = /** @type {any} */ (window); return w.__jf.playbackManager.getPlaybackRate(w.__jf.player); });
const roomRate = (page) => page.evaluate(() => /** @type {any} */ (window).matinee.manager.room.state.rate);

/** How fast the picture really moved over `ms` (media seconds per wall second). */
async function measuredRate(page, ms = 2000) {
  return page.evaluate(async (span) => {
    const v = /** @type {any} */ (window).__jf.video();
    const p0 = v.currentTime;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, span));
    return (v.currentTime - p0) / ((performance.now() - t0) / 1000);
  }, ms);
}

test('a speed picked in jellyfin-web\'s menu becomes the room\'s rate', { timeout: 120_000 }, async (t) => {
  const { ann, bob } = await hostAndGuest(t);
  await until(ann, () => /** @type {any} */ (window).matinee.manager.room.state.playing === true);

  await t.test('the host picks 1.5×: the room, her player and the guest\'s play at 1.5×, and both menus say so', async () => {
    await pickSpeed(ann, 1.5);
    for (const p of [ann, bob]) await until(p, () => /** @type {any} */ (window).matinee.manager.room.state.rate === 1.5);
    await sleep(1000);
    for (const p of [ann, bob]) {
      assert.equal(await menuSpeed(p), 1.5);
      const r = await measuredRate(p);
      assert.ok(Math.abs(r - 1.5) < 0.2, `the picture moves at ${r.toFixed(3)}×`);
    }
    assert.ok(!(await ann.evaluate(() => sessionStorage.getItem('playbackRateSpeed'))), 'the room\'s rate is not saved as her own preferred speed');
  });

  await t.test('a guest in a host-controlled room cannot change it: his player stays at the room\'s rate', async () => {
    await pickSpeed(bob, 2);
    await sleep(1000);
    assert.equal(await roomRate(ann), 1.5);
    assert.equal(await menuSpeed(bob), 1.5);
    // Drift correction may nudge it by up to 10 % meanwhile; 2× it is not.
    const r = await measuredRate(bob);
    assert.ok(Math.abs(r - 1.5) < 0.2, `the picture moves at ${r.toFixed(3)}×`);
  });

  await t.test('picked while paused: shown at once, the room takes it with the host\'s next play', async () => {
    await ann.evaluate(() => /** @type {any} */ (window).__jf.video().pause());
    for (const p of [ann, bob]) await until(p, () => /** @type {any} */ (window).matinee.manager.room.state.playing === false);
    await pickSpeed(ann, 1);
    assert.equal(await menuSpeed(ann), 1);
    assert.equal(await roomRate(ann), 1.5, 'a pause carries no rate: the room keeps its rate while paused');
    await ann.evaluate(() => /** @type {any} */ (window).__jf.video().play());
    for (const p of [ann, bob]) await until(p, () => /** @type {any} */ (window).matinee.manager.room.state.playing === true && /** @type {any} */ (window).matinee.manager.room.state.rate === 1);
    assert.equal(await menuSpeed(bob), 1);
  });

  await t.test('out of the room the menu is jellyfin-web\'s own again', async () => {
    await ann.click('.matinee-leave');
    await pickSpeed(ann, 1.25);
    assert.equal(await ann.evaluate(() => /** @type {any} */ (window).__jf.video().playbackRate), 1.25);
    assert.equal(await menuSpeed(ann), 1.25);
    assert.equal(await ann.evaluate(() => sessionStorage.getItem('playbackRateSpeed')), '1.25');
  });
});
