// @ts-check
// Three Chromium pages in one room on the real server, playing the bundled progressive clip:
// create, join by code, join by invite link, play, pause, seek, a guest's refused intent,
// chat and reactions, late join, reload (resume), kick, host leaves (migration).
// Offsets are measured from requestVideoFrameCallback samples and printed per scenario;
// correctness bounds are generous (a busy CI machine must not flake).

import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ROOT, startServer, launchBrowser, openPage, startSampling, measure, settle, until, sleep, results,
} from './harness.js';

/** Correctness bound for "in sync" after convergence; the printed figures are the real story. */
const BOUND_MS = 250;

/** @param {import('playwright-core').Page} page */
const mgr = (page, fn, arg) => page.evaluate(fn, arg);
const roomOf = (page) => mgr(page, () => {
  const m = /** @type {any} */ (window).matinee.manager;
  return m.room && { code: m.room.code, you: m.room.you, host: m.room.host, members: m.room.members.map((x) => x.name) };
});
const videoState = (page) => mgr(page, () => {
  const v = /** @type {any} */ (window).matinee.video;
  return { paused: v.paused, t: v.currentTime };
});

test('progressive clip: three pages in one room', { timeout: 240_000 }, async (t) => {
  const server = await startServer();
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.stop();
    console.log(results.join('\n'));
  });
  let code = '';
  /** @type {Record<string, import('playwright-core').Page>} */
  const P = {};

  await t.test('create a room from the panel', async () => {
    P.ann = await openPage(browser, server.base, { name: 'Ann' });
    await P.ann.click('#btn-party');
    await P.ann.click('.matinee-create');
    await until(P.ann, () => /^[A-Z0-9]{6}$/.test(document.querySelector('.matinee-room-code')?.textContent || ''));
    code = await P.ann.textContent('.matinee-room-code') || '';
    const room = await roomOf(P.ann);
    assert.equal(room.code, code);
    assert.equal(room.host, room.you, 'the creator is host');
    assert.equal(await P.ann.textContent('.matinee-badge-host'), 'host');
    // Keyboard: Escape closes and gives the focus back to the opener; Enter reopens.
    await P.ann.focus('.matinee-copy-code');
    await P.ann.keyboard.press('Escape');
    assert.equal(await P.ann.isHidden('.matinee-panel'), true);
    assert.equal(await P.ann.evaluate(() => document.activeElement?.id), 'btn-party');
    assert.equal(await P.ann.getAttribute('#btn-party', 'aria-expanded'), 'false');
    await P.ann.keyboard.press('Enter');
    assert.equal(await P.ann.isVisible('.matinee-panel'), true);
  });

  await t.test('a wrong code is refused with a clear message', async () => {
    P.bob = await openPage(browser, server.base, { name: 'Bob' });
    await P.bob.click('#btn-party');
    const wrong = code === 'ZZZZZZ' ? 'YYYYYY' : 'ZZZZZZ';
    await P.bob.fill('.matinee-code-input', wrong);
    await P.bob.press('.matinee-code-input', 'Enter');
    await until(P.bob, () => !document.querySelector('.matinee-alert')?.hasAttribute('hidden'));
    assert.match(await P.bob.textContent('.matinee-alert') || '', /No room with that code/);
    assert.equal(await roomOf(P.bob), null);
  });

  await t.test('join by code (keyboard only)', async () => {
    await P.bob.fill('.matinee-code-input', code.toLowerCase());
    await P.bob.press('.matinee-code-input', 'Enter');
    await until(P.bob, () => document.querySelectorAll('.matinee-member').length === 2);
    assert.equal((await roomOf(P.bob)).code, code);
    await until(P.ann, () => document.querySelectorAll('.matinee-member').length === 2);
  });

  await t.test('join by invite link', async () => {
    const link = await mgr(P.ann, () => /** @type {any} */ (window).matinee.panel.inviteUrl(/** @type {any} */ (window).matinee.manager.room.code));
    const url = new URL(link);
    assert.equal(url.searchParams.get('matinee'), code);
    P.cat = await openPage(browser, server.base, { name: 'Cat', query: `matinee=${code}` });
    await until(P.cat, () => document.querySelectorAll('.matinee-member').length === 3);
    const room = await roomOf(P.cat);
    assert.equal(room.code, code);
    assert.deepEqual([...room.members].sort(), ['Ann', 'Bob', 'Cat']);
  });

  await t.test('play: everyone starts together', async () => {
    await P.ann.click('#btn-play');
    await settle([P.ann, P.bob, P.cat]);
    const { frame, clock } = await measure('play (progressive, 3 pages)', [P.ann, P.bob, P.cat]);
    assert.ok(frame.n > 50 && clock.n > 50, 'enough samples');
    assert.ok(frame.p95 < BOUND_MS && clock.p95 < BOUND_MS, `p95 ${frame.p95} / ${clock.p95}`);
  });

  await t.test('a guest\'s click is refused and undone (host controls)', async () => {
    await P.bob.click('#btn-pause');
    await until(P.bob, () => /Only the host/.test(document.querySelector('.matinee-alert')?.textContent || ''));
    await sleep(400);
    assert.equal((await videoState(P.bob)).paused, false, 'still playing with the room');
    assert.equal((await videoState(P.ann)).paused, false);
  });

  await t.test('pause: everyone holds the same frame', async () => {
    await P.ann.click('#btn-pause');
    await Promise.all(Object.values(P).map((p) => until(p, () => {
      const m = /** @type {any} */ (window).matinee;
      return m.video.paused && m.manager.room.state.playing === false && !m.video.seeking;
    })));
    await sleep(300);
    const states = await Promise.all(Object.values(P).map(videoState));
    const ts = states.map((s) => s.t);
    const spread = (Math.max(...ts) - Math.min(...ts)) * 1000;
    console.log(`# paused spread: ${spread.toFixed(1)} ms at ${ts[0].toFixed(3)} s`);
    results.push(`# paused spread (progressive): ${spread.toFixed(1)} ms`);
    assert.ok(spread <= 45, `paused positions ${ts.join(', ')}`);
  });

  await t.test('seek while playing: +10 s lands everyone on the same frame', async () => {
    const before = (await videoState(P.ann)).t;
    await P.ann.click('#btn-play');
    await settle([P.ann, P.bob, P.cat]);
    await P.ann.click('#btn-fwd');
    await until(P.cat, (b) => /** @type {any} */ (window).matinee.video.currentTime > b + 9, before);
    await settle([P.ann, P.bob, P.cat]);
    const { frame, clock } = await measure('seek +10 s (progressive)', [P.ann, P.bob, P.cat]);
    assert.ok(frame.p95 < BOUND_MS && clock.p95 < BOUND_MS);
  });

  await t.test('chat and reactions reach everyone', async () => {
    await P.bob.fill('.matinee-chat-input', 'Popcorn ready 🍿');
    await P.bob.press('.matinee-chat-input', 'Enter');
    for (const p of [P.ann, P.cat]) {
      await until(p, () => [...document.querySelectorAll('.matinee-chat-line')].some((l) => l.textContent === 'BobPopcorn ready 🍿'));
    }
    assert.equal(await P.bob.inputValue('.matinee-chat-input'), '', 'the field is cleared once sent');
    await P.cat.click('.matinee-reaction >> nth=0');
    await until(P.ann, () => document.querySelector('.matinee-float-emoji')?.textContent === '👍');
  });

  await t.test('late join: a member who joins mid-play lands in sync', async () => {
    await P.cat.click('.matinee-leave');
    await until(P.ann, () => document.querySelectorAll('.matinee-member').length === 2);
    await sleep(1500);
    await P.cat.fill('.matinee-code-input', code);
    await P.cat.press('.matinee-code-input', 'Enter');
    await settle([P.ann, P.bob, P.cat]);
    const { frame, clock } = await measure('late join (progressive)', [P.ann, P.bob, P.cat]);
    assert.ok(frame.p95 < BOUND_MS && clock.p95 < BOUND_MS);
  });

  await t.test('reload a guest: resume gives the same seat back, in sync', async () => {
    const before = await roomOf(P.bob);
    await P.bob.reload();
    await until(P.bob, () => Boolean(/** @type {any} */ (window).matinee?.manager?.room));
    await startSampling(P.bob);
    const after = await roomOf(P.bob);
    assert.equal(after.you, before.you, 'same member id');
    assert.equal(after.code, code);
    await until(P.ann, () => document.querySelectorAll('.matinee-member').length === 3);
    await settle([P.ann, P.bob, P.cat]);
    const { frame, clock } = await measure('after reload/resume (progressive)', [P.ann, P.bob, P.cat]);
    assert.ok(frame.p95 < BOUND_MS && clock.p95 < BOUND_MS);
  });

  await t.test('transfer host: the host hands the room over, and it comes back', async () => {
    const catId = (await roomOf(P.cat)).you;
    const annId = (await roomOf(P.ann)).you;
    await P.ann.click(`.matinee-member[data-member="${catId}"] .matinee-make-host`);
    await until(P.cat, (id) => /** @type {any} */ (window).matinee.manager.room.host === id, catId);
    await until(P.ann, () => document.querySelectorAll('.matinee-kick').length === 0);
    if (await P.cat.isHidden('.matinee-panel')) await P.cat.click('#btn-party');
    await P.cat.click(`.matinee-member[data-member="${annId}"] .matinee-make-host`);
    await until(P.ann, (id) => /** @type {any} */ (window).matinee.manager.room.host === id, annId);
    await until(P.ann, () => document.querySelectorAll('.matinee-kick').length === 2);
  });

  await t.test('screenshot of the panel with its members', async () => {
    await P.ann.evaluate(() => { /** @type {any} */ (window).matinee.manager.chat('Here we go!'); });
    await until(P.ann, () => document.querySelectorAll('.matinee-chat-line').length >= 2);
    // Everyone's latest report in, and in sync, before the picture.
    await until(P.ann, () => {
      const r = /** @type {any} */ (window).matinee.manager.room;
      return r.members.length === 3 && r.members.every((m) => typeof m.error_ms === 'number' && Math.abs(m.error_ms) <= 8);
    });
    await sleep(700);
    const dir = join(ROOT, 'client-js', 'test', '.artifacts');
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'demo.png');
    await P.ann.screenshot({ path: file });
    if (process.env.MATINEE_SCREENSHOT) await copyFile(file, process.env.MATINEE_SCREENSHOT);
  });

  await t.test('host leaves: the room gets a new host who can control it', async () => {
    const annId = (await roomOf(P.ann)).you;
    await P.ann.click('.matinee-leave');
    await until(P.bob, (id) => {
      const r = /** @type {any} */ (window).matinee.manager.room;
      return r && r.host !== id && r.members.length === 2;
    }, annId);
    const room = await roomOf(P.bob);
    const newHost = room.host === room.you ? P.bob : P.cat;
    const other = newHost === P.bob ? P.cat : P.bob;
    await until(newHost, () => document.querySelector('.matinee-member .matinee-badge-host') !== null);
    await newHost.click('#btn-pause');
    await until(other, () => /** @type {any} */ (window).matinee.video.paused);
  });

  await t.test('kick: the host removes a member, who is told', async () => {
    const room = await roomOf(P.bob);
    const host = room.host === room.you ? P.bob : P.cat;
    const guest = host === P.bob ? P.cat : P.bob;
    for (const p of [host, guest]) {
      if (await p.isHidden('.matinee-panel')) await p.click('#btn-party');
    }
    await host.click('.matinee-kick');
    await until(guest, () => /removed you/.test(document.querySelector('.matinee-alert')?.textContent || ''));
    assert.equal(await roomOf(guest), null);
  });
});
