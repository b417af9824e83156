#!/usr/bin/env node
// @ts-check
/**
 * Does a playbackRate nudge move the picture? Drift correction (core/playback.js) closes
 * small errors by playing a few percent fast or slow; this measures, on a plain <video> with
 * the demo clip (H.264 + AAC) in Debian's headless Chromium, how many ms a nudge really
 * gained against how many it should have, per setting of the element:
 *
 *   pitch=on     preservesPitch = true (the browser time-stretches the audio)
 *   pitch=off    preservesPitch = false (audio resampled: pitch follows the rate)
 *   muted        preservesPitch = true, muted
 *   correction   what the client does (core/playback.js keepPitchAt): pitch released for
 *                nudges up to 4.5 % around a room rate of 1, kept otherwise
 *
 * Patterns: `steady` (one rate, base × (1 + nudge), held 5 s) and `alternating` (around base
 * 1, the rate changed every 100 ms through 1.005…1.04, as a correction does). Expected =
 * Σ (rate − base) × the time each rate was held; gained = media time advanced − base × wall
 * time; both over the 100 ms windows in which the machine did not stall the player (see
 * measureInPage).
 *
 *   node client-js/bench/rate-correction.mjs [--runs N] [--settings pitch=on,pitch=off,muted,correction]
 *
 * Whether Chromium has an audio device matters (the audio clock drives currentTime): run it
 * once as is and once with a PulseAudio null sink (docs/performance.md says how). Prints one
 * line per setting and pattern: `rate-correction: audio=<sink> setting=… pattern=…
 * expected=… gained=… ms (runs: …)`.
 */

import { launchBrowser } from '../test/e2e/harness.js';
import { serve } from './lib/media-server.mjs';
import { keepPitchAt } from '../src/core/playback.js';

/** The alternating pattern's rates, as a correction of a few tens of ms sets them. */
const ALTERNATING = [1.005, 1.02, 1.04, 1.01, 1.03, 1.015, 1.035, 1.025];

/**
 * Runs in the page: one measurement of 50 windows of 100 ms, returns {expected, gained,
 * dropped} ms. Each window's gain is the media time it advanced minus base × its wall time;
 * a window in which the media clock moved less than half as fast as it should is a stall of
 * the (shared, busy) machine, not a rate effect, and is left out of both sums (`dropped`).
 */
async function measureInPage({ setting, pattern, nudge, base, keepPitch, alternating }) {
  const v = /** @type {HTMLVideoElement} */ (document.getElementById('v'));
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  if (!v.src) {
    v.src = '/clip.mp4';
    await new Promise((r) => v.addEventListener('canplaythrough', r, { once: true }));
  }
  v.muted = setting === 'muted';
  v.preservesPitch = setting !== 'pitch=off';
  v.playbackRate = base;
  v.currentTime = 5;
  await new Promise((r) => v.addEventListener('seeked', r, { once: true }));
  await v.play();
  await sleep(1500); // settled at the base rate
  /** @param {number} r */
  const setRate = (r) => {
    // `correction`: what the client does (keepPitchAt), decided for each rate in Node.
    if (setting === 'correction') v.preservesPitch = keepPitch[String(r)];
    v.playbackRate = r;
  };
  let expected = 0;
  let gained = 0;
  let dropped = 0;
  let m = v.currentTime;
  let t = performance.now();
  for (let i = 0; i < 50; i++) {
    const r = pattern === 'steady' ? base * (1 + nudge) : alternating[i % alternating.length];
    setRate(r);
    await sleep(100);
    const m1 = v.currentTime;
    const t1 = performance.now();
    const dm = (m1 - m) * 1000;
    const dw = t1 - t;
    if (dm < 0.5 * base * dw) dropped++;
    else {
      gained += dm - base * dw;
      expected += (r - base) * dw;
    }
    m = m1;
    t = t1;
  }
  setRate(base);
  v.pause();
  return { expected, gained, dropped };
}

async function main(argv) {
  const arg = (name, dflt) => {
    const i = argv.indexOf(name);
    if (i < 0) return dflt;
    const n = Number(argv[i + 1]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number`);
    return n;
  };
  const runs = Math.floor(arg('--runs', 3));
  const audio = process.env.PULSE_SERVER || process.env.XDG_RUNTIME_DIR ? 'pulseaudio' : 'none';
  const { browser, close } = await launchBrowser();
  const server = await serve(null, '<video id="v" preload="auto"></video>');
  /** @type {[string, string, number, number][]} setting, pattern, base, nudge */
  const cases = [];
  const i = argv.indexOf('--settings');
  const settings = i >= 0 ? String(argv[i + 1]).split(',') : ['pitch=on', 'pitch=off', 'muted', 'correction'];
  for (const setting of settings) {
    cases.push([setting, 'alternating', 1, 0]);
    for (const nudge of [0.01, 0.03, 0.1]) cases.push([setting, 'steady', 1, nudge]);
    cases.push([setting, 'steady', 1.5, 0.02]);
  }
  try {
    for (const [setting, pattern, base, nudge] of cases) {
      const page = await browser.newPage();
      await page.goto(server.base);
      const xs = [];
      const rates = pattern === 'steady' ? [base * (1 + nudge), base] : [...ALTERNATING, 1];
      const keepPitch = Object.fromEntries(rates.map((r) => [String(r), keepPitchAt(r, base)]));
      for (let i = 0; i < runs; i++) xs.push(await page.evaluate(measureInPage, { setting, pattern, nudge, base, keepPitch, alternating: ALTERNATING }));
      await page.close();
      const f = (x) => x.toFixed(0);
      const mean = (k) => xs.reduce((a, x) => a + x[k], 0) / xs.length;
      const what = pattern === 'steady' ? `steady base=${base} nudge=${nudge}` : 'alternating base=1';
      const sum = (k) => xs.reduce((a, x) => a + x[k], 0);
      console.log(`rate-correction: audio=${audio} setting=${setting} ${what} expected=${f(mean('expected'))} gained=${f(mean('gained'))} ms`
        + ` (${(100 * sum('gained') / sum('expected')).toFixed(0)} %; runs: ${xs.map((x) => `${f(x.gained)}/${f(x.expected)}`).join(' ')}; stalled windows dropped: ${sum('dropped')})`);
    }
  } finally {
    await close();
    await server.close();
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error(`rate-correction: ${e.message}`);
  process.exitCode = 1;
});
