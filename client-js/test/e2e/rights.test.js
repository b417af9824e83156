// @ts-check
// Rights per member in Chromium against the Jellyfin stand-in and a real session server: the
// host grants a guest the playback right from the panel's member list, the guest's panel says
// what it may do, the guest's pause drives the room, and the host takes the right back.

import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { until } from './harness.js';
import { hostAndGuest, panelBox } from './standin-harness.js';

/** @param {any} page */
const roomView = (page) => page.evaluate(() => {
  const m = /** @type {any} */ (window).matinee.manager;
  return { you: m.room.you, host: m.room.host, playing: m.room.state.playing, by: m.room.state.by, can: { playback: m.can('playback'), media: m.can('media') } };
});

test('rights: the host grants and takes back playback from the panel; the guest sees what it may do', { timeout: 120_000 }, async (t) => {
  const { ann, bob } = await hostAndGuest(t);
  const bobId = (await roomView(bob)).you;
  const annId = (await roomView(ann)).you;
  const toggle = `.matinee-member[data-member="${bobId}"] .matinee-right-playback`;
  const yourRights = () => bob.evaluate(() => document.querySelector('.matinee-your-rights')?.getAttribute('data-rights'));

  await t.test('without a grant the guest has no controls and its intents stay local', async () => {
    await until(ann, (sel) => document.querySelector(sel) !== null, toggle);
    assert.equal(await ann.getAttribute(toggle, 'aria-pressed'), 'false');
    assert.equal(await yourRights(), 'yourRightsNone');
    assert.equal(await bob.evaluate(() => document.querySelectorAll('.matinee-right, .matinee-kick, .matinee-make-host').length), 0, 'a guest gets no host controls');
    assert.deepEqual((await roomView(bob)).can, { playback: false, media: false });
    assert.equal(await bob.evaluate(() => /** @type {any} */ (window).matinee.manager.pause()), false);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await roomView(ann)).playing, true, 'the room played on');
  });

  await t.test('granted from the panel: the guest pauses the room', async () => {
    await ann.click(toggle);
    await until(ann, (sel) => document.querySelector(sel)?.getAttribute('aria-pressed') === 'true', toggle);
    await until(bob, () => document.querySelector('.matinee-your-rights')?.getAttribute('data-rights') === 'yourRightsPlayback');
    assert.deepEqual((await roomView(bob)).can, { playback: true, media: false });
    assert.equal(await bob.evaluate((id) => document.querySelector(`.matinee-member[data-member="${id}"] .matinee-badge-playback`) !== null, bobId), true, 'everyone sees the grant');
    if (process.env.MATINEE_SCREENSHOTS) await ann.screenshot({ path: join(process.env.MATINEE_SCREENSHOTS, 'rights-panel.png'), clip: await panelBox(ann) });
    assert.equal(await bob.evaluate(() => /** @type {any} */ (window).matinee.manager.pause()), true);
    await until(ann, (id) => {
      const st = /** @type {any} */ (window).matinee.manager.room.state;
      return st.playing === false && st.by === id;
    }, bobId);
  });

  await t.test('taken back: the guest is refused again, the host still drives', async () => {
    await ann.click(toggle);
    await until(bob, () => document.querySelector('.matinee-your-rights')?.getAttribute('data-rights') === 'yourRightsNone');
    assert.equal(await bob.evaluate(() => /** @type {any} */ (window).matinee.manager.play()), false);
    await ann.evaluate(() => /** @type {any} */ (window).matinee.manager.play());
    await until(bob, (id) => {
      const st = /** @type {any} */ (window).matinee.manager.room.state;
      return st.playing === true && st.by === id;
    }, annId);
  });
});
