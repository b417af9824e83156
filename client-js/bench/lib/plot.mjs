// @ts-check
/**
 * The sync harness's plot: one panel per scenario, one line per client showing its true
 * error against the one formula (ms) over time, event markers, clipped to ±clipMs. Drawn as
 * SVG (kept next to the PNG) and rasterised to PNG by headless Chromium through
 * playwright-core, which the browser tests use already.
 *
 * @module bench/plot
 */

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf',
  '#7f7f7f', '#bcbd22', '#393b79', '#637939'];

/** @param {string} s */
function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] || c);
}

/**
 * @typedef {{name: string, subtitle: string, durationS: number,
 *   clients: {label: string, points: [number, number|null][]}[],
 *   events: {t: number, label: string}[]}} Panel
 */

/**
 * @param {Panel[]} panels
 * @param {{title: string, clipMs?: number}} o
 * @returns {string} SVG document
 */
export function renderSvg(panels, { title, clipMs = 100 }) {
  const W = 1200;
  const PH = 260;
  const top = 50;
  const left = 70;
  const right = 20;
  const gap = 40;
  const H = top + panels.length * (PH + gap) + 10;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${left}" y="28" font-size="18" font-weight="bold">${esc(title)}</text>`];
  panels.forEach((p, pi) => {
    const y0 = top + pi * (PH + gap) + 20;
    const pw = W - left - right;
    const ph = PH - 30;
    const xs = (t) => left + (t / Math.max(1, p.durationS)) * pw;
    const ys = (v) => y0 + ph / 2 - (Math.max(-clipMs, Math.min(clipMs, v)) / clipMs) * (ph / 2);
    parts.push(`<text x="${left}" y="${y0 - 6}" font-size="14" font-weight="bold">${esc(p.name)}</text>`);
    parts.push(`<text x="${left + 170}" y="${y0 - 6}" font-size="12" fill="#444">${esc(p.subtitle)}</text>`);
    parts.push(`<rect x="${left}" y="${y0}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#999"/>`);
    // Horizontal grid: 0, ±clip/2, ±clip; and the ±30 ms convergence band.
    for (const v of [-clipMs, -clipMs / 2, 0, clipMs / 2, clipMs]) {
      parts.push(`<line x1="${left}" x2="${left + pw}" y1="${ys(v)}" y2="${ys(v)}" stroke="${v === 0 ? '#888' : '#ddd'}"/>`);
      parts.push(`<text x="${left - 6}" y="${ys(v) + 4}" font-size="11" text-anchor="end">${v}</text>`);
    }
    parts.push(`<rect x="${left}" y="${ys(30)}" width="${pw}" height="${ys(-30) - ys(30)}" fill="#2ca02c" fill-opacity="0.06"/>`);
    parts.push(`<text x="${left - 50}" y="${y0 + ph / 2}" font-size="11" transform="rotate(-90 ${left - 50} ${y0 + ph / 2})" text-anchor="middle">error (ms)</text>`);
    const step = p.durationS > 40 ? 10 : 5;
    for (let t = 0; t <= p.durationS; t += step) {
      parts.push(`<line x1="${xs(t)}" x2="${xs(t)}" y1="${y0 + ph}" y2="${y0 + ph + 4}" stroke="#666"/>`);
      parts.push(`<text x="${xs(t)}" y="${y0 + ph + 16}" font-size="11" text-anchor="middle">${t}s</text>`);
    }
    // Labels of events close together go on successive rows so they stay readable.
    let lastX = -Infinity;
    let row = 0;
    for (const ev of p.events) {
      const x = xs(ev.t);
      row = x - lastX < 90 ? (row + 1) % 4 : 0;
      lastX = x;
      parts.push(`<line x1="${x}" x2="${x}" y1="${y0}" y2="${y0 + ph}" stroke="#000" stroke-dasharray="4 3" stroke-opacity="0.5"/>`);
      parts.push(`<text x="${x + 3}" y="${y0 + 12 + row * 12}" font-size="10" fill="#333">${esc(ev.label)}</text>`);
    }
    p.clients.forEach((c, ci) => {
      const color = COLORS[ci % COLORS.length];
      let d = '';
      let pen = false;
      for (const [t, v] of c.points) {
        if (v === null || !Number.isFinite(v)) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${xs(t).toFixed(1)} ${ys(v).toFixed(1)}`;
        pen = true;
      }
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.2" stroke-opacity="0.85"/>`);
      parts.push(`<text x="${left + pw - 10 - (p.clients.length - ci) * 62}" y="${y0 + ph - 6}" font-size="11" fill="${color}">${esc(c.label)}</text>`);
    });
  });
  parts.push(`<text x="${W - right}" y="${H - 4}" font-size="10" text-anchor="end" fill="#666">error = true position − the formula's position (god's-eye clock), clipped to ±${clipMs} ms; green band ±30 ms</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** The Chromium to use: $CHROMIUM_PATH, else the usual system locations. */
export function chromiumPath() {
  const cands = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  for (const c of cands) if (c && existsSync(c)) return c;
  throw new Error('no Chromium found for the plot: install chromium or set CHROMIUM_PATH');
}

/**
 * Rasterises an SVG document to a PNG file with headless Chromium.
 * @param {string} svg @param {string} pngPath
 */
export async function svgToPng(svg, pngPath) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const m = /width="(\d+)" height="(\d+)"/.exec(svg);
    const width = m ? Number(m[1]) : 1200;
    const height = m ? Number(m[2]) : 800;
    const page = await browser.newPage({ viewport: { width, height } });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    const png = await page.screenshot({ fullPage: true, type: 'png' });
    await writeFile(pngPath, png);
  } finally {
    await browser.close();
  }
}
