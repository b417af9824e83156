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

import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, extname } from 'node:path';
import { CLIP, HLS_JS, launchBrowser, makeHls } from '../test/e2e/harness.js';

const TYPES = { '.mp4': 'video/mp4', '.m3u8': 'application/vnd.apple.mpegurl', '.ts': 'video/mp2t', '.js': 'text/javascript' };

/** A loopback server for the clip, its HLS version and hls.js, with byte ranges. */
async function serve(dir) {
  const files = { '/clip.mp4': CLIP, '/hls.js': HLS_JS };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url || '/', 'http://x');
    const file = files[url.pathname] ?? (url.pathname.startsWith('/media/hls/') ? join(dir, 'hls', url.pathname.slice('/media/hls/'.length).replace(/[^\w.]/g, '')) : null);
    if (!file) {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><script src="/hls.js"></script><video id="v" muted preload="auto"></video>');
      return;
    }
    let body;
    try { body = await readFile(file); } catch { res.writeHead(404).end(); return; }
    const type = TYPES[extname(file)] || 'application/octet-stream';
    const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range || '');
    if (m) {
      const a = Number(m[1]);
      const b = m[2] ? Number(m[2]) : body.length - 1;
      res.writeHead(206, { 'Content-Type': type, 'Content-Range': `bytes ${a}-${b}/${body.length}`, 'Accept-Ranges': 'bytes', 'Content-Length': b - a + 1 });
      res.end(body.subarray(a, b + 1));
    } else {
      res.writeHead(200, { 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Content-Length': body.length });
      res.end(body);
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
  return { base: `http://127.0.0.1:${addr.port}`, close: () => new Promise((r) => server.close(() => r(undefined))) };
}

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
    server = await serve(dir);
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
