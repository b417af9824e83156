// Loads a rewritten jellyfin-web index.html in headless Chromium and reports the order in which
// its scripts ran. Used by the NUnit test BrowserScriptOrderTests (Core writes the page, this
// script proves what a real browser does with it).
//
//   node script-order.mjs <page.html> <baseUrl>
//
// Serves <page.html> at {baseUrl}/web/index.html on 127.0.0.1:<random>. Every `*.bundle.js`
// under {baseUrl}/web/ is a stand-in for a jellyfin-web bundle that records whether
// window.MatineePlugin existed when it ran; {baseUrl}/Matinee/ClientScript records itself and
// defines window.MatineePlugin, answering 300 ms late so that a deferred or async tag would
// lose the race. Prints {"order": [...], "requests": [...]} as JSON.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { withChromiumTab } from './chromium.mjs';

const [pagePath, baseUrl = ''] = process.argv.slice(2);
if (!pagePath) {
  console.error('usage: node script-order.mjs <page.html> <baseUrl>');
  process.exit(2);
}
const page = await readFile(pagePath);
const requests = [];

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  requests.push(url.pathname + url.search);
  const js = (body) => {
    res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
    res.end(body);
  };
  if (url.pathname === `${baseUrl}/web/index.html`) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  } else if (url.pathname === `${baseUrl}/Matinee/ClientScript`) {
    setTimeout(() => js(
      "(window.__order = window.__order || []).push('matinee');\n" +
      'window.MatineePlugin = async () => class {};\n'), 300);
  } else if (url.pathname.startsWith(`${baseUrl}/web/`) && url.pathname.endsWith('.bundle.js')) {
    const name = JSON.stringify(decodeURIComponent(url.pathname.slice(`${baseUrl}/web/`.length)));
    js(`(window.__order = window.__order || []).push('bundle ' + ${name} + ' ' + typeof window.MatineePlugin);\n`);
  } else {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();

try {
  await withChromiumTab('matinee-plugin-order-', async (tab) => {
    await tab.goto(`http://127.0.0.1:${port}${baseUrl}/web/index.html`, { waitUntil: 'load', timeout: 30000 });
    const order = await tab.evaluate(() => window.__order || []);
    console.log(JSON.stringify({ order, requests }));
  });
} finally {
  server.close();
}
