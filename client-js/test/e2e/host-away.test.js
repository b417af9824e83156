// @ts-check
// A host whose page is closed hands the room over within a few seconds, while a host who
// reloads keeps the seat and the role (docs/protocol.md, "Host away"): real Chromium pages on
// the demo page and a real server with its default timings (the role waits 5 s, the seat 30 s).

import test from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openPage, until } from './harness.js';

const roomOf = (page) => page.evaluate(() => {
  const m = /** @type {any} */ (window).matinee.manager;
  return m.room && { you: m.room.you, host: m.room.host, isHost: m.isHost };
});

test('host away: a closed page hands over in seconds, a reload keeps the role', { timeout: 120_000 }, async (t) => {
  const server = await startServer();
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.stop();
  });
  const ann = await openPage(browser, server.base, { name: 'Ann' });
  await ann.click('#btn-party');
  await ann.click('.matinee-create');
  await until(ann, () => /^[A-Z0-9]{6}$/.test(document.querySelector('.matinee-room-code')?.textContent || ''));
  const code = await ann.textContent('.matinee-room-code') || '';
  const bob = await openPage(browser, server.base, { name: 'Bob', query: `matinee=${code}` });
  await until(bob, () => Boolean(/** @type {any} */ (window).matinee.manager.room));
  const cleo = await openPage(browser, server.base, { name: 'Cleo', query: `matinee=${code}` });
  await until(cleo, () => Boolean(/** @type {any} */ (window).matinee.manager.room));
  const annId = (await roomOf(ann)).you;
  const bobId = (await roomOf(bob)).you;

  await t.test('the host reloads: same seat, still host', async () => {
    const t0 = Date.now();
    await ann.reload();
    await until(ann, () => Boolean(/** @type {any} */ (window).matinee?.manager?.room), undefined, 15000);
    console.log(`host reload: back in the room after ${Date.now() - t0} ms`);
    assert.deepEqual(await roomOf(ann), { you: annId, host: annId, isHost: true });
    // Past the grace: the role stayed.
    await new Promise((r) => setTimeout(r, 6000));
    assert.equal((await roomOf(bob)).host, annId);
  });

  await t.test('the host closes her page: the longest-present guest is host within seconds', async () => {
    const t0 = Date.now();
    await ann.context().close();
    await until(bob, (id) => /** @type {any} */ (window).matinee.manager.room?.host === id, bobId, 10_000);
    const took = Date.now() - t0;
    console.log(`host closed her page: Bob is host after ${took} ms`);
    assert.ok(took >= 4000, `not before the grace that a reload needs (${took} ms)`);
    await until(cleo, (id) => /** @type {any} */ (window).matinee.manager.room?.host === id, bobId);
    // Ann's seat is still there, waiting for a resume, and shown as away.
    const annSeat = await bob.evaluate((id) => /** @type {any} */ (window).matinee.manager.room.members.find((m) => m.id === id), annId);
    assert.equal(annSeat?.connected, false);
    // The new host drives.
    await bob.evaluate(() => /** @type {any} */ (window).matinee.manager.play());
    await until(cleo, (id) => {
      const st = /** @type {any} */ (window).matinee.manager.room.state;
      return st.playing === true && st.by === id;
    }, bobId);
  });
});
