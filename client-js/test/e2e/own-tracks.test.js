// @ts-check
// Own audio and subtitles (issue 23, item 6): in the page shell shaped like jellyfin-web
// (fixtures/web/) against the Jellyfin stand-in, whose "The Clock Bilingual" has two audio and
// two subtitle streams (eng, fra) and "The Clock Trilingual" three audio (eng, deu, fra) and
// three subtitle streams (deu, eng, fra). A guest picks French audio and French subtitles
// through playbackManager.setAudioStreamIndex / setSubtitleStreamIndex (what jellyfin-web's
// menus call); the host seeks, switches item, switches back; the guest reloads: the guest keeps
// French wherever the item has it, the host keeps the defaults. Only position, play state and
// rate are shared.

import test from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, settle, until } from './harness.js';
import { startStack, WEB, openJellyfin, expose } from './standin-harness.js';

/** The page's current audio / subtitle stream indices, as playbackManager reports them. */
const tracks = (page) => page.evaluate(() => {
  const pm = /** @type {any} */ (window).__jf.playbackManager;
  return { item: pm.currentItem(/** @type {any} */ (window).__jf.player)?.Name ?? null, audio: pm.getAudioStreamIndex(), subtitle: pm.getSubtitleStreamIndex() };
});
/** Waits until `page` plays the item named `name`. */
const untilPlaying = (page, name, timeout) => until(page, (n) => {
  const w = /** @type {any} */ (window);
  return Boolean(w.__jf.playbackManager.getCurrentPlayer()) && w.__jf.playbackManager.currentItem(w.__jf.player)?.Name === n;
}, name, timeout);

test('own audio and subtitles stay the member\'s across seeks, item switches and a reload', { timeout: 180_000 }, async (t) => {
  const stack = await startStack({ webDir: WEB, version: '10.11.11' });
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await stack.stop();
  });
  const { jf } = stack;
  const bilingual = jf.item('The Clock Bilingual');
  const trilingual = jf.item('The Clock Trilingual');

  const ann = await openJellyfin(browser, stack, 'Ann', `autoplay=${bilingual.id}`);
  await until(ann, () => /** @type {any} */ (window).__jf.video()?.currentTime > 0.5);
  await ann.click('.osdControls .btnMatineeWatchParty');
  await ann.click('.matinee-create');
  await until(ann, () => /^[A-Z0-9]{6}$/.test(document.querySelector('.matinee-room-code')?.textContent || ''));
  const code = await ann.textContent('.matinee-room-code') || '';
  await expose(ann);
  const bob = await openJellyfin(browser, stack, 'Bob', `matinee=${code}`);
  await until(bob, () => Boolean(/** @type {any} */ (window).__jf.video()), undefined, 20000);
  await untilPlaying(bob, 'The Clock Bilingual', 20000);
  await expose(bob);
  assert.deepEqual(await tracks(bob), { item: 'The Clock Bilingual', audio: 1, subtitle: -1 }, 'joined on the defaults');

  await t.test('the guest picks French audio and French subtitles; the host\'s seek keeps them', async () => {
    await bob.evaluate(() => {
      const w = /** @type {any} */ (window);
      w.__jf.playbackManager.setAudioStreamIndex(2, w.__jf.player);
      w.__jf.playbackManager.setSubtitleStreamIndex(4, w.__jf.player);
    });
    await ann.evaluate(() => { /** @type {any} */ (window).__jf.video().currentTime = 30; });
    await until(bob, () => /** @type {any} */ (window).__jf.calls.some((c) => c[0] === 'seek' && c[1] > 29e7), undefined, 15000);
    assert.deepEqual(await tracks(bob), { item: 'The Clock Bilingual', audio: 2, subtitle: 4 });
    assert.deepEqual(await tracks(ann), { item: 'The Clock Bilingual', audio: 1, subtitle: -1 }, 'the host\'s own tracks are untouched');
  });

  await t.test('the host switches item: the guest lands on French again, at other indices', async () => {
    // Once the seek has played out: a state that reaches the host while her player changes
    // item puts it back on the room's item (a race of its own, not this test's subject).
    await settle([ann, bob], 20000);
    await ann.evaluate((id) => /** @type {any} */ (window).__jf.playbackManager.play({ ids: [id], startPositionTicks: 1 }), trilingual.id);
    await untilPlaying(bob, 'The Clock Trilingual', 20000);
    assert.deepEqual(await tracks(bob), { item: 'The Clock Trilingual', audio: 3, subtitle: 6 }, 'French audio is 3, French subtitles 6 there');
    assert.deepEqual(await tracks(ann), { item: 'The Clock Trilingual', audio: 1, subtitle: -1 });
    const asked = jf.state.playbackInfos.filter((p) => p.userId === jf.user('Bob').id).at(-1);
    assert.deepEqual([asked?.itemId, asked?.audioStreamIndex, asked?.subtitleStreamIndex], [trilingual.id, 3, 6], 'asked of Jellyfin in PlaybackInfo');
  });

  await t.test('the guest reloads: back in the room, on the same tracks', async () => {
    await bob.reload();
    await until(bob, () => /** @type {any} */ (window).__jf?.ready === true);
    await untilPlaying(bob, 'The Clock Trilingual', 30000);
    await until(bob, () => Boolean(/** @type {any} */ (window).__jf.video()));
    await expose(bob);
    assert.deepEqual(await tracks(bob), { item: 'The Clock Trilingual', audio: 3, subtitle: 6 });
  });

  await t.test('back to the first item: French at its own indices; nothing else followed the guest', async () => {
    await settle([ann, bob], 20000);
    await ann.evaluate((id) => /** @type {any} */ (window).__jf.playbackManager.play({ ids: [id], startPositionTicks: 1 }), bilingual.id);
    await untilPlaying(bob, 'The Clock Bilingual', 20000);
    assert.deepEqual(await tracks(bob), { item: 'The Clock Bilingual', audio: 2, subtitle: 4 });
    assert.deepEqual(await tracks(ann), { item: 'The Clock Bilingual', audio: 1, subtitle: -1 });
  });
});
