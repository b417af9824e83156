// @ts-check
// Shared pieces of the browser end-to-end tests: the real session server in demo mode on
// 127.0.0.1:0, Debian's Chromium driven by playwright-core with a fresh profile, test media
// made with ffmpeg, and the offset measurement from requestVideoFrameCallback samples.

import { spawn, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLIP = join(ROOT, 'client-js', 'demo', 'clip.mp4');
export const HLS_JS = require.resolve('hls.js/dist/hls.min.js');

/** Starts `matinee-server --demo` on a free port; resolves once it printed its address. */
export async function startServer({ mediaDir, env: extraEnv = {} } = {}) {
  const env = { ...extraEnv };
  if (mediaDir) env.MATINEE_DEMO__MEDIA_DIR = mediaDir;
  return spawnServer(['--demo'], env);
}

/**
 * Starts `MATINEE_SERVER_BIN` with `args` on 127.0.0.1:0 and `env` over this process's
 * environment; resolves once it printed its address. `stderr()` is the last 4000 characters
 * it wrote there; `stop()` sends SIGTERM (SIGKILL after 5 s) and waits for the exit.
 * @param {string[]} args @param {Record<string, string>} [extraEnv]
 */
export async function spawnServer(args, extraEnv = {}) {
  const bin = process.env.MATINEE_SERVER_BIN;
  if (!bin || !existsSync(bin)) {
    throw new Error('MATINEE_SERVER_BIN must point at a built matinee-server (run `make test-browser`)');
  }
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...extraEnv };
  const child = spawn(bin, [...args, '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}):\n${stderr}`)); });
  });
  return {
    base,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

function chromiumPath() {
  for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (p && existsSync(p)) return p;
  }
  throw new Error('Chromium not found: install the Debian `chromium` package or set CHROMIUM_PATH');
}

/**
 * Debian's Chromium, headless; never downloads a browser. playwright-core's launch() runs it
 * on a fresh temporary profile (user-data-dir) that it deletes on close. Each viewer gets its
 * own context, i.e. its own window: a background tab would stop presenting frames, and
 * separate storage makes them separate people.
 */
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
      // Every window must keep its timers and video running like a focused one.
      '--autoplay-policy=no-user-gesture-required', '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
      // The Jellyfin stand-in page is fulfilled by the test (no IP address space of its own),
      // which Local Network Access would treat as public and keep from reaching 127.0.0.1.
      '--disable-features=LocalNetworkAccessChecks,LocalNetworkAccessChecksWebSockets',
    ],
  });
  return {
    browser,
    newContext: () => browser.newContext({ viewport: { width: 1100, height: 760 } }),
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

/** Makes an HLS version of the demo clip in `dir/hls/` (stream copy: keyframes every 1 s). */
export async function makeHls(dir) {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(dir, 'hls'), { recursive: true });
  await promisify(execFile)('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y', '-i', CLIP, '-c', 'copy',
    '-hls_time', '2', '-hls_playlist_type', 'vod', '-hls_segment_filename', join(dir, 'hls', 'seg%03d.ts'),
    '-f', 'hls', join(dir, 'hls', 'index.m3u8'),
  ]);
  return '/media/hls/index.m3u8';
}

/**
 * Opens the demo page as `name`, optionally with hls.js loaded first (as jellyfin-web has it),
 * and starts sampling requestVideoFrameCallback (see startSampling).
 */
export async function openPage(browser, base, { name, query = '', hls = false }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${name}] page error:`, e.message));
  page.on('console', (m) => { if (m.type() === 'error') console.error(`[${name}]`, m.text()); });
  await page.addInitScript(() => {
    /** @type {any} */ (window).__frames = [];
  });
  const url = `${base}/?name=${encodeURIComponent(name)}${query ? `&${query}` : ''}`;
  await page.goto(url);
  if (hls) await page.addScriptTag({ path: HLS_JS });
  await page.waitForFunction(() => /** @type {any} */ (window).matinee?.manager?.connection.status === 'open', null, { timeout: 15000 });
  await startSampling(page);
  return page;
}

/**
 * Starts recording [page time, mediaTime] for every presented frame (requestVideoFrameCallback)
 * and [page time, currentTime] every 4 ms (the media clock itself). Page times are the page's
 * performance.now(); `calibrate` maps them onto the test process's clock, the one common
 * clock. (Neither `performance.timeOrigin + now` nor Date.now() is common across Chromium
 * renderer processes: each maps its monotonic clock to the epoch on its own, and they were
 * seen several ms apart.)
 */
export async function startSampling(page) {
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    const video = w.matinee.video;
    if (w.__sampling) return;
    w.__sampling = true;
    w.__frames = [];
    const cb = (_now, meta) => {
      w.__frames.push([meta.presentationTime, meta.mediaTime]);
      if (w.__frames.length > 20000) w.__frames.splice(0, 10000);
      video.requestVideoFrameCallback(cb);
    };
    video.requestVideoFrameCallback(cb);
    w.__clock = [];
    setInterval(() => {
      if (video.paused || video.seeking) return;
      w.__clock.push([performance.now(), video.currentTime]);
      if (w.__clock.length > 40000) w.__clock.splice(0, 20000);
    }, 4);
  });
}

/**
 * Offset (ms) from the page's performance.now() to this process's performance.now(), from
 * the quickest of a few round trips through the DevTools protocol (error ≤ half its RTT).
 */
export async function calibrate(page) {
  let best = null;
  for (let i = 0; i < 30; i++) {
    const a = performance.now();
    const p = await page.evaluate(() => performance.now());
    const b = performance.now();
    if (!best || b - a < best.rtt) best = { rtt: b - a, offset: (a + b) / 2 - p };
  }
  return best;
}

/**
 * Samples (`which`: '__frames' or '__clock') in [from, to] of the common clock, converted to
 * it with the page's calibration.
 */
async function samples(page, which, from, to, offset) {
  const raw = await page.evaluate(([k, a, b]) => /** @type {any} */ (window)[k].filter((f) => f[0] >= a && f[0] <= b), [which, from - offset, to - offset]);
  return raw.map(([t, m]) => [t + offset, m]);
}

/**
 * Media position at common time t: a least-squares line through the frames presented within
 * ±`half` ms of t. A 25 fps clip on a 60 Hz compositor is shown in a 2-3-2-3 cadence, so a
 * single frame's presentation time is off by up to a vsync; the fit averages that out, and
 * the constant part of the display delay is the same for every page, so it cancels in the
 * differences. Null when there are too few frames or a seek or stall lies in the window.
 */
export function positionAt(fr, t, half = 500) {
  const pts = [];
  for (const [pt, mt] of fr) if (Math.abs(pt - t) <= half) pts.push([(pt - t) / 1000, mt]);
  if (pts.length < 10) return null; // too few frames to average the cadence out
  const n = pts.length;
  let sx = 0; let sy = 0; let sxx = 0; let sxy = 0;
  for (const [x, y] of pts) { sx += x; sy += y; sxx += x * x; sxy += x * y; }
  const den = n * sxx - sx * sx;
  if (den <= 0) return null;
  const b = (n * sxy - sx * sy) / den;
  const a = (sy - b * sx) / n;
  if (b < 0.85 || b > 1.15) return null; // paused, seeking or stalled in the window
  for (const [x, y] of pts) if (Math.abs(a + b * x - y) > 0.06) return null; // a jump inside
  return a;
}

/** Offsets (ms) of each page against the reference page, every `step` ms in [from, to]. */
export function offsets(reference, others, from, to, step = 20) {
  const out = [];
  for (let t = from; t <= to; t += step) {
    const r = positionAt(reference, t);
    if (r === null) continue;
    for (const fr of others) {
      const p = positionAt(fr, t);
      if (p !== null) out.push((p - r) * 1000);
    }
  }
  return out;
}

export function summary(values) {
  const abs = values.map(Math.abs).sort((a, b) => a - b);
  const q = (p) => abs[Math.min(abs.length - 1, Math.floor(p * abs.length))];
  return { n: abs.length, p50: q(0.5), p95: q(0.95), max: abs[abs.length - 1] };
}

/** Figures printed by every scenario, collected for the summary at the end of a file. */
export const results = [];

/**
 * Measures inter-page offsets over `ms` of play from now, against the first page, and prints
 * p50/p95/max of |offset| for the presented frames (requestVideoFrameCallback mediaTime: what
 * the viewer sees, quantised by the 60 Hz compositor) and for the media clocks (currentTime).
 */
export async function measure(label, pages, ms = 3000) {
  const cal = [];
  for (const p of pages) cal.push(await calibrate(p));
  const start = performance.now();
  await new Promise((r) => setTimeout(r, ms + 600));
  const end = start + ms;
  const fr = await Promise.all(pages.map((p, i) => samples(p, '__frames', start - 600, end + 600, cal[i].offset)));
  const ck = await Promise.all(pages.map((p, i) => samples(p, '__clock', start - 600, end + 600, cal[i].offset)));
  const frame = summary(offsets(fr[0], fr.slice(1), start, end));
  const clock = summary(offsets(ck[0], ck.slice(1), start, end));
  const f = (x) => (x === undefined ? 'n/a' : x.toFixed(1));
  const line = `# offsets ${label}: frames p50 ${f(frame.p50)} / p95 ${f(frame.p95)} / max ${f(frame.max)} ms`
    + ` (${frame.n} samples); media clock p50 ${f(clock.p50)} / p95 ${f(clock.p95)} / max ${f(clock.max)} ms`
    + ` (${pages.length} pages)`;
  console.log(line);
  // Per page, signed (page − first page), to tell who is off when something is.
  const perPage = ck.slice(1).map((c) => {
    const v = offsets(ck[0], [c], start, end).sort((a, b) => a - b);
    return v.length ? v[v.length >> 1].toFixed(1) : 'n/a';
  });
  const syncs = await Promise.all(pages.map((p) => p.evaluate(() => {
    const m = /** @type {any} */ (window).matinee.manager;
    return `${m.core.sync.status} err ${m.core.sync.errorMs?.toFixed(1)} off ${m.timesync.offsetMs?.toFixed(1)}`;
  })));
  console.log(`#   per page vs the first (media clock, median): ${perPage.join(', ')} ms; calibration RTT ${cal.map((c) => c.rtt.toFixed(2)).join('/')} ms; pages say: ${syncs.join(' | ')}`);
  results.push(line);
  return { frame, clock };
}

/** Waits (bounded) until every page says it has converged on the room's position. */
export async function settle(pages, timeout = 10000) {
  await Promise.all(pages.map((p) => until(p, () => {
    const m = /** @type {any} */ (window).matinee.manager;
    // Converged: inside the controller's dead band (with a little margin), not just "in sync".
    return m.room && m.core.sync.status === 'in_sync' && !m.player.isPaused() && Math.abs(m.core.sync.errorMs) <= m.core.settings.deadBandMs + 3;
  }, undefined, timeout)));
  await sleep(500);
}

/** Polls `fn` in the page until truthy. */
export function until(page, fn, arg, timeout = 15000) {
  return page.waitForFunction(fn, arg, { timeout, polling: 50 });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
