// @ts-check
// The client inside jellyfin-web, end to end, without a jellyfin-web build: the Jellyfin
// stand-in (testdata/jellyfin-standin) serves a page shell shaped like jellyfin-web's
// (fixtures/web/) through the Matinee plugin's own rewrite (its Core under Mono), the client
// files, /Matinee/Config and RS256 tokens from the plugin's JwtIssuer; a real session server
// fetches the stand-in's JWKS and verifies them. Users sign in with their Jellyfin passwords;
// items are played through PlaybackInfo and the stand-in's progressive and HLS streams.
// (A genuine jellyfin-web build can be served by the stand-in by hand, `--web-dir`: see
// testdata/jellyfin-standin/README.md; no test here runs one.)

import test from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, measure, settle, until, results, sleep } from './harness.js';
import { startStack, WEB, openJellyfin, expose } from './standin-harness.js';
import { addRemoteSession } from '../../../testdata/jellyfin-standin/lib/remote-sessions.js';

const playingItem = (page) => page.evaluate(() => /** @type {any} */ (window).__jf.playbackManager.currentItem(/** @type {any} */ (window).__jf.player)?.Id ?? null);
const position = (page) => page.evaluate(() => /** @type {any} */ (window).__jf.video()?.currentTime ?? null);

test('inside jellyfin-web (stand-in): button, rooms, invite, item switch, reload, HLS', { timeout: 240_000 }, async (t) => {
  const stack = await startStack({ webDir: WEB, version: '10.11.11' });
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await stack.stop();
    console.log(results.join('\n'));
  });
  const { jf } = stack;
  const clock = jf.item('The Clock');
  const returns = jf.item('The Clock Returns');
  const transcoded = jf.item('The Clock Transcoded');
  const errors = [];
  let ann;
  let bob;
  let cleo;
  let code = '';
  const matineeRequests = () => jf.state.log.filter((e) => e.path.startsWith('/Matinee/')).map((e) => `${e.user || '-'} ${e.path.split('?')[0]}`);

  await t.test('the plugin\'s rewrite loads the client; buttons in the header and the video OSD', async () => {
    ann = await openJellyfin(browser, stack, 'Ann', `autoplay=${clock.id}`, errors);
    assert.deepEqual(jf.state.rewrites.map((r) => r.outcome), ['Inserted', 'Added'], 'index.html and config.json through Core');
    const plugin = await ann.evaluate(() => {
      const p = /** @type {any} */ (window).__jf.plugin;
      return { name: p.name, id: p.id, type: p.type, translations: p.getTranslations() };
    });
    assert.deepEqual(plugin, { name: 'Matinee watch party', id: 'matinee', type: 'matinee', translations: [] });
    const requests = matineeRequests();
    assert.ok(requests.includes('- /Matinee/Client/jellyfin.js'), 'entry loaded relative to the loader');
    assert.ok(requests.includes('- /Matinee/Client/core/manager.js'), 'subfolders kept');
    await until(ann, () => document.querySelector('.osdControls .btnMatineeWatchParty:not([hidden]) + .btnVideoOsdSettings') !== null);
    await until(ann, () => document.querySelector('.skinHeader .headerRight .btnMatineeHeader:not([hidden])') !== null);
    assert.equal(await ann.getAttribute('.osdControls .btnMatineeWatchParty', 'is'), 'paper-icon-button-light');
    assert.equal(await ann.getAttribute('.osdControls .btnMatineeWatchParty span', 'class'), 'largePaperIconButton material-icons celebration');
    assert.ok(matineeRequests().includes('Ann /Matinee/Config'), 'the buttons show once the plugin says a server is configured');
    assert.ok(!matineeRequests().some((r) => r.endsWith('/Matinee/Token')), 'nothing connects before the user asks');
  });

  await t.test('the host opens a room mid-film: it keeps her position and keeps playing', async () => {
    await until(ann, () => /** @type {any} */ (window).__jf.video()?.currentTime > 2);
    assert.equal(await ann.getAttribute('.osdControls .btnMatineeWatchParty', 'aria-expanded'), 'false');
    await ann.click('.osdControls .btnMatineeWatchParty');
    // Straight to "Create" while the connection is still being made: the request waits for it.
    await ann.click('.matinee-create');
    await until(ann, () => /^[A-Z0-9]{6}$/.test(document.querySelector('.matinee-room-code')?.textContent || ''));
    assert.equal(await ann.getAttribute('.osdControls .btnMatineeWatchParty', 'aria-expanded'), 'true');
    code = await ann.textContent('.matinee-room-code') || '';
    await expose(ann);
    await until(ann, () => /** @type {any} */ (window).matinee.manager.room.state.playing === true);
    const room = await ann.evaluate(() => {
      const r = /** @type {any} */ (window).matinee.manager.room;
      return { media: r.state.media, position: r.state.position, me: r.members.find((x) => x.id === r.you) };
    });
    assert.equal(room.me.user_id, jf.user('Ann').id, 'the server took the identity from the plugin\'s JWT');
    assert.equal(room.me.name, 'Ann');
    assert.deepEqual(room.media, { id: clock.id, title: 'The Clock', duration: 60 });
    assert.ok(room.position > 2, `the room starts where the host was (${room.position} s), not at 0`);
    assert.ok(!(await ann.evaluate(() => /** @type {any} */ (window).__jf.calls.some((c) => c[0] === 'seek' && c[1] < 1e7))), 'the host was never sent back to the start');
    assert.ok((await position(ann)) > 2);
  });

  await t.test('a guest joins by code from the header, before anything plays', async () => {
    bob = await openJellyfin(browser, stack, 'Bob', '', errors);
    assert.equal(await playingItem(bob), null);
    await until(bob, () => document.querySelector('.skinHeader .btnMatineeHeader:not([hidden])') !== null);
    await bob.click('.skinHeader .btnMatineeHeader');
    await bob.fill('.matinee-code-input', code.toLowerCase());
    await bob.click('.matinee-join-button');
    await until(bob, () => /** @type {any} */ (window).__jf.calls.some((c) => c[0] === 'play'), undefined, 20000);
    const play = await bob.evaluate(() => /** @type {any} */ (window).__jf.calls.find((c) => c[0] === 'play')[1]);
    assert.deepEqual(play.ids, [clock.id]);
    assert.equal(play.serverId, jf.state.serverId);
    assert.ok(play.startPositionTicks > 2e7, 'started at the host\'s position');
    await until(bob, () => Boolean(/** @type {any} */ (window).__jf.video()));
    await expose(bob);
  });

  await t.test('a guest follows an invite link', async () => {
    const invite = await ann.evaluate(() => {
      const u = new URL(location.pathname, location.origin);
      u.searchParams.set('matinee', /** @type {any} */ (window).matinee.manager.room.code);
      return u.search;
    });
    cleo = await openJellyfin(browser, stack, 'Cleo', invite.slice(1), errors);
    await until(cleo, () => Boolean(/** @type {any} */ (window).__jf.video()), undefined, 20000);
    await expose(cleo);
    assert.equal(await cleo.evaluate(() => /** @type {any} */ (window).matinee.manager.room.code), code);
    await settle([ann, bob, cleo], 20000);
    const { frame, clock: media } = await measure('progressive (jellyfin-web stand-in, 3 users)', [ann, bob, cleo]);
    assert.ok(frame.p95 < 250 && media.p95 < 250);
  });

  await t.test('the host pauses and seeks on her player: everyone follows through playbackManager', async () => {
    await ann.evaluate(() => /** @type {any} */ (window).__jf.video().pause());
    await until(bob, () => /** @type {any} */ (window).__jf.video().paused);
    await until(cleo, () => /** @type {any} */ (window).__jf.video().paused);
    await ann.evaluate(() => { const v = /** @type {any} */ (window).__jf.video(); v.currentTime = 40; v.play().catch(() => {}); });
    await until(bob, () => /** @type {any} */ (window).__jf.calls.some((c) => c[0] === 'seek' && c[1] > 39e7), undefined, 15000);
    assert.ok((await bob.evaluate(() => /** @type {any} */ (window).__jf.calls.map((c) => c[0]))).includes('pause'), 'paused through playbackManager.pause');
    await settle([ann, bob, cleo], 20000);
    const { clock: media } = await measure('seek (jellyfin-web stand-in)', [ann, bob, cleo]);
    assert.ok(media.p95 < 250);
  });

  await t.test('the host starts another item: the room follows, nobody seeks a player between items', async () => {
    await ann.evaluate((id) => /** @type {any} */ (window).__jf.playbackManager.play({ ids: [id], serverId: /** @type {any} */ (window).__jf.apiClient.serverId(), startPositionTicks: 0 }), returns.id);
    for (const p of [bob, cleo]) await until(p, (id) => /** @type {any} */ (window).__jf.playbackManager.currentItem(/** @type {any} */ (window).__jf.player)?.Id === id, returns.id, 20000);
    await until(ann, (id) => /** @type {any} */ (window).matinee.manager.room.state.media.id === id && /** @type {any} */ (window).matinee.manager.room.state.playing, returns.id, 15000);
    const infos = jf.state.playbackInfos.filter((x) => x.itemId === returns.id).map((x) => jf.state.userById(x.userId).name).sort();
    assert.deepEqual(infos, ['Ann', 'Bob', 'Cleo']);
    await settle([ann, bob, cleo], 20000);
    await measure('after the host switched item', [ann, bob, cleo]);
    assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), [], 'no page errors (playbackManager.seek between items throws)');
  });

  await t.test('a guest reloads the page and is back in the room', async () => {
    await bob.reload();
    await until(bob, () => /** @type {any} */ (window).__jf?.ready === true);
    await until(bob, (id) => /** @type {any} */ (window).__jf.playbackManager.currentItem(/** @type {any} */ (window).__jf.player)?.Id === id, returns.id, 20000);
    await expose(bob);
    const me = await bob.evaluate(() => { const m = /** @type {any} */ (window).matinee.manager; return { code: m.room.code, host: m.isHost }; });
    assert.deepEqual(me, { code, host: false });
    await settle([ann, bob, cleo], 20000);
    await measure('after a guest reloaded', [ann, bob, cleo]);
  });

  await t.test('an HLS transcode: everyone on the master playlist, in sync', async () => {
    await ann.evaluate((id) => /** @type {any} */ (window).__jf.playbackManager.play({ ids: [id], serverId: /** @type {any} */ (window).__jf.apiClient.serverId(), startPositionTicks: 0 }), transcoded.id);
    for (const p of [ann, bob, cleo]) {
      await until(p, () => (/** @type {any} */ (window).__jf.video()?.currentSrc || '').startsWith('blob:') && /** @type {any} */ (window).__jf.playbackManager.playMethod() === 'Transcode', undefined, 20000)
        .catch(async (e) => {
          const seen = await p.evaluate(() => ({ src: /** @type {any} */ (window).__jf.video()?.currentSrc, method: /** @type {any} */ (window).__jf.playbackManager.playMethod(), calls: /** @type {any} */ (window).__jf.calls.filter((c) => c[0] === 'play').length }));
          throw new Error(`${e.message}: ${JSON.stringify(seen)}`);
        });
    }
    assert.ok(jf.state.segmentsServed > 0);
    await settle([ann, bob, cleo], 30000);
    const { clock: media } = await measure('HLS (jellyfin-web stand-in, 3 users)', [ann, bob, cleo]);
    assert.ok(media.p95 < 250);
  });

  await t.test('nothing unexpected was asked of Jellyfin; no token in any URL', async () => {
    assert.deepEqual(jf.unknown, []);
    assert.ok(!jf.state.log.some((e) => /[0-9a-f]{32}/.test((e.path.match(/(?:api_?key|token)=([^&]*)/i) || [])[1] || '')), 'tokens masked in the log');
    const tokenUsers = jf.state.tokensIssued.map((x) => jf.state.userById(x.userId).name);
    assert.deepEqual([...new Set(tokenUsers)].sort(), ['Ann', 'Bob', 'Cleo']);
    await sleep(0);
  });
});

test('a Jellyfin without Matinee configured: no button, nothing asked of a session server', async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  for (const matinee of [{ serverUrl: '' }, null]) {
    const stack = await startStack({ webDir: WEB, matinee });
    try {
      const errors = [];
      const page = await openJellyfin(browser, stack, 'Bob', `autoplay=${stack.jf.item('The Clock').id}`, errors);
      await until(page, () => /** @type {any} */ (window).__jf.video()?.currentTime > 0.5);
      if (matinee) {
        await until(page, () => document.querySelector('.btnMatineeWatchParty') !== null);
        // The config answer came (empty URL): both buttons stay hidden.
        await until(page, () => [...document.querySelectorAll('.btnMatineeWatchParty')].every((b) => /** @type {HTMLElement} */ (b).hidden) && document.querySelectorAll('.btnMatineeWatchParty').length === 2);
        const asked = stack.jf.state.log.filter((e) => e.path.startsWith('/Matinee/Config')).length;
        assert.ok(asked >= 1);
      } else {
        assert.equal(await page.evaluate(() => 'MatineePlugin' in window), false);
        assert.equal(await page.locator('.btnMatineeWatchParty').count(), 0);
        assert.deepEqual(stack.jf.state.rewrites, []);
      }
      assert.ok(!stack.jf.state.log.some((e) => e.path.startsWith('/Matinee/Token')));
      assert.deepEqual(errors, []);
      await page.context().close();
    } finally {
      await stack.stop();
    }
  }
});

test('"Watch on…" in the panel: only the member\'s own TV is offered; its seat joins the room and the TV is told to play', async (t) => {
  const stack = await startStack({ webDir: WEB, version: '10.11.11' });
  const browser = await launchBrowser();
  const tvs = [];
  t.after(async () => {
    for (const tv of tvs) tv.stop();
    await browser.close();
    await stack.stop();
  });
  const { jf } = stack;
  const clock = jf.item('The Clock');
  // Simulated TV apps signed in to the stand-in: Bob's own, and Cleo's (never Bob's to drive).
  tvs.push(addRemoteSession(jf.sessions, { user: jf.user('Bob'), deviceName: 'Living room TV', reportPeriodMs: 1000 }));
  tvs.push(addRemoteSession(jf.sessions, { user: jf.user('Cleo'), deviceName: 'Cleo TV', reportPeriodMs: 1000 }));
  const [bobTv, cleoTv] = tvs;
  const errors = [];
  const bob = await openJellyfin(browser, stack, 'Bob', `autoplay=${clock.id}`, errors);
  await until(bob, () => /** @type {any} */ (window).__jf.video()?.currentTime > 1);
  await bob.click('.osdControls .btnMatineeWatchParty');
  await bob.click('.matinee-create');
  await until(bob, () => /^[A-Z0-9]{6}$/.test(document.querySelector('.matinee-room-code')?.textContent || ''));

  // The section's layout rules come with the panel's stylesheet.
  assert.equal(await bob.evaluate(() => getComputedStyle(/** @type {Element} */ (document.querySelector('.matinee-watch-on-row'))).display), 'flex');
  assert.equal(await bob.getAttribute('.matinee-watch-on', 'aria-expanded'), 'false');
  await bob.click('.matinee-watch-on');
  await until(bob, () => document.querySelectorAll('.matinee-watch-on-target').length > 0);
  assert.equal(await bob.getAttribute('.matinee-watch-on', 'aria-expanded'), 'true');
  const offered = await bob.$$eval('.matinee-watch-on-target', (bs) => bs.map((b) => [b.getAttribute('data-session'), b.querySelector('.matinee-watch-on-device')?.textContent]));
  assert.deepEqual(offered, [[bobTv.session.id, 'Living room TV']], 'Bob\'s TV only (not Cleo\'s, not this browser)');

  await bob.click('.matinee-watch-on-target');
  assert.equal(await bob.isHidden('.matinee-watch-on-list'), true);
  await until(bob, () => document.querySelector('.matinee-badge-remote')?.textContent?.includes('Living room TV') === true, undefined, 20000);
  assert.equal(await bob.isVisible('.matinee-watch-here'), true);
  assert.match(await bob.textContent('.matinee-watch-on-status') || '', /Living room TV/);
  assert.equal(await bob.locator('.matinee-member').count(), 2, 'Bob and his TV seat');
  // The seat drives the TV to the room's item; Cleo's TV is never commanded.
  const deadline = Date.now() + 20000;
  while (!bobTv.device.commands.some((c) => c.kind === 'PlayNow') && Date.now() < deadline) await sleep(50);
  assert.deepEqual(bobTv.device.commands.find((c) => c.kind === 'PlayNow')?.args.itemId, clock.id);
  assert.deepEqual(cleoTv.device.commands, []);

  await bob.click('.matinee-watch-here');
  await until(bob, () => document.querySelector('.matinee-badge-remote') === null && document.querySelectorAll('.matinee-member').length === 1);
  assert.equal(await bob.isHidden('.matinee-watch-here'), true);
  assert.deepEqual(errors, []);
});
