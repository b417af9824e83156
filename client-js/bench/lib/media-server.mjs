// @ts-check
// The benchmarks' loopback media server (browser benches: start-latency, rate-correction).

import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, extname } from 'node:path';
import { CLIP, HLS_JS } from '../../test/e2e/harness.js';

const TYPES = { '.mp4': 'video/mp4', '.m3u8': 'application/vnd.apple.mpegurl', '.ts': 'video/mp2t', '.js': 'text/javascript' };

/**
 * A loopback server for the clip, its HLS version (made in `dir/hls/`, optional) and hls.js,
 * with byte ranges; any other path is a page with hls.js and `page`.
 * @param {string|null} dir @param {string} page
 */
export async function serve(dir, page) {
  const files = { '/clip.mp4': CLIP, '/hls.js': HLS_JS };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url || '/', 'http://x');
    const file = files[url.pathname] ?? (dir && url.pathname.startsWith('/media/hls/') ? join(dir, 'hls', url.pathname.slice('/media/hls/'.length).replace(/[^\w.]/g, '')) : null);
    if (!file) {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!doctype html><script src="/hls.js"></script>${page}`);
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
