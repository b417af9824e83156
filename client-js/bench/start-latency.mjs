#!/usr/bin/env node
// @ts-check
/**
 * How long a real browser's paused, loaded <video> takes from play() until its media clock
 * moves: what `initialStartLatencyMs` / `initialStartLatencyStreamingMs` (core/settings.js)
 * guess before a player's first start is measured. Debian's Chromium, headless, through the
 * browser tests' launcher; the demo clip served from loopback, progressive and as HLS through
 * hls.js (made with ffmpeg, as the HLS browser test does).
 *
 *   node client-js/bench/start-latency.mjs [--starts N]
 *
 * Each start: seek somewhere, wait until playable and 300 ms more, call play(), poll
 * currentTime until it has moved 20 ms, and take the instant it started moving as the poll's
 * time minus the media time covered (so the poll's own granularity does not count).
 * Prints one line per kind: `start-latency: kind=… n=… min=… p50=… max=… ms`.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, makeHls } from '../test/e2e/harness.js';
import { serve } from './lib/media-server.mjs';

/** Runs in the page: `starts` measured starts of the <video>, in ms. */
async function measureInPage({ starts, hls }) {
  const v = /** @type {HTMLVideoElement} */ (document.getElementById('v'));
  const w = /** @type {any} */ (window);
  if (hls) {
    const h = new w.Hls();
    h.loadSource('/media/hls/index.m3u8');
    h.attachMedia(v);
  } else {
    v.src = '/clip.mp4';
  }
  const event = (name) => new Promise((r) => v.addEventListener(name, r, { once: true }));
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  if (v.readyState < 4) await event('canplaythrough');
  const out = [];
  for (let i = 0; i < starts; i++) {
    v.currentTime = 2 + (i % 8) * 3;
    await event('seeked');
    while (v.readyState < 4) await sleep(20);
    await sleep(300);
    const p0 = v.currentTime;
    const t0 = performance.now();
    void v.play();
    let t = t0;
    let p = p0;
    while (p < p0 + 0.02 && t - t0 < 3000) {
      await sleep(0);
      t = performance.now();
      p = v.currentTime;
    }
    out.push(t - (p - p0) * 1000 / v.playbackRate - t0);
    v.pause();
  }
  return out;
}

async function main(argv) {
  const i = argv.indexOf('--starts');
  const starts = i >= 0 ? Math.max(1, Math.floor(Number(argv[i + 1]))) : 8;
  if (!Number.isFinite(starts)) throw new Error('--starts: expected a number');
  const dir = await mkdtemp(join(tmpdir(), 'matinee-start-latency-'));
  const { browser, close } = await launchBrowser();
  let server;
  try {
    await makeHls(dir);
    server = await serve(dir, '<video id="v" muted preload="auto"></video>');
    for (const kind of ['progressive', 'hls']) {
      const page = await browser.newPage();
      await page.goto(server.base);
      const xs = (await page.evaluate(measureInPage, { starts, hls: kind === 'hls' })).sort((a, b) => a - b);
      await page.close();
      const f = (x) => x.toFixed(1);
      console.log(`start-latency: kind=${kind} n=${xs.length} min=${f(xs[0])} p50=${f(xs[Math.floor(xs.length / 2)])} max=${f(xs[xs.length - 1])} ms`);
    }
  } finally {
    await close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error(`start-latency: ${e.message}`);
  process.exitCode = 1;
});
