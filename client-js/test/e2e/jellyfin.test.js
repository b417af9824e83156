// @ts-check
// The Jellyfin entry end to end, without a Jellyfin server: the page is a stand-in for
// jellyfin-web (fixtures/) that loads the plugin the way jellyfin-web's pluginManager does,
// with a playbackManager over a real <video>. Everything Matinee-side is real: loader.js as a
// classic script, jellyfin.js and the modules it imports from /Matinee/Client/…, the
// /Matinee/Config and /Matinee/Token calls with the user's Jellyfin auth header, a JWT signed
// with the test key and verified by the real session server against testdata/jwt/jwks.json.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createSign } from 'node:crypto';
import { join, normalize, sep } from 'node:path';
import { ROOT, startServer, launchBrowser, measure, settle, startSampling, until, results } from './harness.js';

const SRC = join(ROOT, 'client-js', 'src');
const FIXTURES = join(ROOT, 'client-js', 'test', 'e2e', 'fixtures');
const JWT_DIR = join(ROOT, 'testdata', 'jwt');
const USERS = { 'ann-token': { sub: 'user-ann', name: 'Ann' }, 'bob-token': { sub: 'user-bob', name: 'Bob' } };

const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

/** An RS256 JWT as the Matinee plugin issues it (DESIGN §2.3), signed with the test key. */
async function mintJwt(user) {
  const jwks = JSON.parse(await readFile(join(JWT_DIR, 'jwks.json'), 'utf8'));
  const key = await readFile(join(JWT_DIR, 'test-key.pem'), 'utf8');
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid: jwks.keys[0].kid };
  const payload = { sub: user.sub, name: user.name, aud: 'matinee', iss: 'test-jellyfin', iat: now, nbf: now, exp: now + 300 };
  const input = `${b64url(header)}.${b64url(payload)}`;
  const sig = createSign('RSA-SHA256').update(input).sign(key).toString('base64url');
  return `${input}.${sig}`;
}

/** What the Jellyfin plugin serves, routed inside the browser onto the session server's origin. */
async function routeJellyfin(context, base, log) {
  const authUser = (req) => {
    const m = /^MediaBrowser Token="([^"]+)"$/.exec(req.headers().authorization || '');
    return m ? USERS[m[1]] : undefined;
  };
  await context.route(`${base}/web/**`, async (route) => {
    const name = new URL(route.request().url()).pathname === '/web/fake-jellyfin-web.js' ? 'fake-jellyfin-web.js' : 'jellyfin-web.html';
    await route.fulfill({ body: await readFile(join(FIXTURES, name)), contentType: name.endsWith('.js') ? 'text/javascript' : 'text/html' });
  });
  await context.route(`${base}/Matinee/**`, async (route) => {
    const req = route.request();
    const path = new URL(req.url()).pathname;
    log.push(path);
    if (path === '/Matinee/ClientScript') {
      return route.fulfill({ body: await readFile(join(SRC, 'loader.js')), contentType: 'text/javascript' });
    }
    if (path.startsWith('/Matinee/Client/')) {
      const file = normalize(join(SRC, decodeURIComponent(path.slice('/Matinee/Client/'.length))));
      if (!file.startsWith(SRC + sep)) return route.fulfill({ status: 404, body: '' });
      return route.fulfill({ body: await readFile(file), contentType: 'text/javascript' });
    }
    const user = authUser(req);
    if (!user) return route.fulfill({ status: 401, body: '' });
    if (path === '/Matinee/Config') {
      return route.fulfill({ json: { ServerUrl: base, Version: '1.2.3', DefaultControl: 'host', DefaultWaitForAll: true } });
    }
    if (path === '/Matinee/Token') return route.fulfill({ json: { Token: await mintJwt(user), ExpiresIn: 300 } });
    return route.fulfill({ status: 404, body: '' });
  });
}

/** Opens the stand-in jellyfin-web as `token`'s user; exposes the client like the demo does. */
async function openJellyfin(browser, base, query, log) {
  const context = await browser.newContext();
  await routeJellyfin(context, base, log);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.error(`[${query}]`, m.text()); });
  await page.goto(`${base}/web/index.html?${query}`);
  await until(page, () => /** @type {any} */ (window).__jf?.ready === true);
  return page;
}

async function expose(page) {
  await until(page, () => Boolean(/** @type {any} */ (window).__jf.plugin.app));
  await page.evaluate(async () => {
    const w = /** @type {any} */ (window);
    const app = await w.__jf.plugin.app.ensure();
    w.matinee = { manager: app.manager, panel: app.panel, player: app.manager.player, video: w.__jf.video };
  });
  await until(page, () => /** @type {any} */ (window).matinee.manager.connection.status === 'open');
  await startSampling(page);
}

test('inside jellyfin-web: plugin hook, OSD button, token auth, invite link follows the host\'s item', { timeout: 120_000 }, async (t) => {
  const server = await startServer({ env: { MATINEE_AUTH__JWKS_FILE: join(JWT_DIR, 'jwks.json') } });
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.stop();
    console.log(results.join('\n'));
  });
  const annLog = [];
  const bobLog = [];
  let ann;
  let bob;
  let code = '';

  await t.test('pluginManager constructs the plugin; the OSD gets a Watch party button', async () => {
    ann = await openJellyfin(browser, server.base, 'token=ann-token&autoplay=item1', annLog);
    const plugin = await ann.evaluate(() => {
      const p = /** @type {any} */ (window).__jf.plugin;
      return { name: p.name, id: p.id, type: p.type, translations: p.getTranslations() };
    });
    assert.deepEqual(plugin, { name: 'Matinee watch party', id: 'matinee', type: 'matinee', translations: [] });
    assert.ok(annLog.includes('/Matinee/Client/jellyfin.js'), 'entry loaded relative to the loader');
    assert.ok(annLog.includes('/Matinee/Client/core/manager.js'), 'subfolders kept');
    assert.ok(!annLog.includes('/Matinee/Token'), 'nothing connects before the user asks');
    await until(ann, () => document.querySelector('.osdControls .btnMatineeWatchParty + .btnVideoOsdSettings') !== null);
    assert.equal(await ann.getAttribute('.btnMatineeWatchParty', 'is'), 'paper-icon-button-light');
  });

  await t.test('the button opens the panel; the room is created as the Jellyfin user', async () => {
    assert.equal(await ann.getAttribute('.btnMatineeWatchParty', 'aria-expanded'), 'false');
    assert.equal(await ann.getAttribute('.btnMatineeWatchParty', 'aria-haspopup'), 'dialog');
    await ann.click('.btnMatineeWatchParty');
    await until(ann, () => document.querySelector('.matinee-panel') && !document.querySelector('.matinee-panel').hidden);
    assert.equal(await ann.getAttribute('.btnMatineeWatchParty', 'aria-expanded'), 'true', 'the OSD button says the panel is open');
    await expose(ann);
    assert.ok(annLog.includes('/Matinee/Config') && annLog.includes('/Matinee/Token'));
    await ann.click('.matinee-create');
    await until(ann, () => /^[A-Z0-9]{6}$/.test(document.querySelector('.matinee-room-code')?.textContent || ''));
    code = await ann.textContent('.matinee-room-code') || '';
    const room = await ann.evaluate(() => {
      const r = /** @type {any} */ (window).matinee.manager.room;
      return { media: r.state.media, me: r.members.find((x) => x.id === r.you) };
    });
    assert.equal(room.me.user_id, 'user-ann', 'the server took the identity from the JWT');
    assert.equal(room.me.name, 'Ann');
    assert.deepEqual(room.media, { id: 'item1', title: 'Test clip', duration: 60 });
  });

  await t.test('an invite link joins and starts the host\'s item through playbackManager.play', async () => {
    bob = await openJellyfin(browser, server.base, `token=bob-token&matinee=${code}`, bobLog);
    await until(bob, () => Boolean(/** @type {any} */ (window).__jf.plugin.app));
    await until(bob, () => /** @type {any} */ (window).__jf.calls.some((c) => c[0] === 'play'), undefined, 20000);
    const play = await bob.evaluate(() => /** @type {any} */ (window).__jf.calls.find((c) => c[0] === 'play')[1]);
    assert.deepEqual(play.ids, ['item1']);
    assert.equal(play.serverId, 'server-1');
    assert.equal(typeof play.startPositionTicks, 'number');
    await expose(bob);
    assert.equal((await bob.evaluate(() => /** @type {any} */ (window).matinee.manager.room.code)), code);
  });

  await t.test('the host presses play on the video: everyone plays in sync', async () => {
    await ann.evaluate(() => /** @type {any} */ (window).__jf.video.play());
    await settle([ann, bob]);
    const { frame, clock } = await measure('play (jellyfin-web stand-in, playbackManager)', [ann, bob]);
    assert.ok(frame.p95 < 250 && clock.p95 < 250);
    const calls = await bob.evaluate(() => /** @type {any} */ (window).__jf.calls.map((c) => c[0]));
    assert.ok(calls.includes('unpause'), 'started through playbackManager.unpause');
  });

  await t.test('a seek by the host goes to the guest as playbackManager.seek(ticks)', async () => {
    await ann.evaluate(() => { /** @type {any} */ (window).__jf.video.currentTime = 40; });
    await until(bob, () => /** @type {any} */ (window).__jf.calls.some((c) => c[0] === 'seek' && c[1] > 39e7), undefined, 15000);
    await settle([ann, bob]);
    const { clock } = await measure('seek (jellyfin-web stand-in)', [ann, bob]);
    assert.ok(clock.p95 < 250);
  });
});
