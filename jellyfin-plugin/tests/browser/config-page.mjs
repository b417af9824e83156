// Loads Matinee's configuration page in headless Chromium the way jellyfin-web's dashboard does,
// fills and saves it, and reports what happened. Used by the NUnit test ConfigPageTests.
//
//   node config-page.mjs <scenario.json>
//
// scenario.json: {"html": <path of configPage.html>, "js": <path of configPage.js>,
//   "config": <the plugin configuration GET /Plugins/{id}/Configuration returns>,
//   "status": <GET /Matinee/Status body, or null for a 500>,
//   "edit": {"ServerUrl": …, "TokenLifetimeSeconds": …, "DefaultControl": …, "DefaultWaitForAll": …} or null}
//
// What it copies from jellyfin-web (v10.10.7 and v10.11.11, same code at both tags):
//  - the dashboard route `configurationpage` renders ServerContentPage
//    (src/apps/dashboard/routes/routes.tsx), which GETs `/web/configurationpage?name=…` and hands
//    the HTML to viewManager.loadView (src/components/ServerContentPage.tsx);
//  - viewContainer only treats the HTML as a page when it contains `data-role="page"`, takes
//    `data-controller`, strips `__plugin/`, and imports `/web/` + Dashboard.getPluginUrl(name) =
//    `configurationpage?name=<name>` as an ES module (src/components/viewContainer.js,
//    src/utils/dashboard.js getPluginUrl);
//  - viewManager calls `new module.default(view, params)` and then dispatches `viewshow` on the
//    view (src/components/viewManager/viewManager.js);
//  - the globals the page uses: window.Dashboard (src/utils/dashboard.js: showLoadingMsg,
//    hideLoadingMsg, alert, processPluginConfigurationUpdateResult) and window.ApiClient
//    (jellyfin-apiclient 1.11: getUrl, getJSON, getPluginConfiguration, updatePluginConfiguration).
// The server side is Jellyfin's DashboardController (web/ConfigurationPage?name=, name compared
// without case) serving the two embedded files, plus GET /Matinee/Status.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withChromiumTab } from './chromium.mjs';

const scenario = JSON.parse(await readFile(process.argv[2], 'utf8'));
const html = await readFile(scenario.html);
const js = await readFile(scenario.js);
const requests = [];

const host = `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<div class="mainAnimatedPages"></div>
<script>
window.__log = { alerts: [], updates: [], loading: 0 };
window.Dashboard = {
  showLoadingMsg() { window.__log.loading++; },
  hideLoadingMsg() { window.__log.loading--; },
  alert(options) { window.__log.alerts.push(typeof options === 'string' ? options : options.message); },
  processPluginConfigurationUpdateResult() { window.__log.loading--; window.__log.saved = true; },
  getPluginUrl(name) { return 'configurationpage?name=' + encodeURIComponent(name); },
};
window.ApiClient = {
  getUrl(path) { return '/' + String(path).replace(/^\\//, ''); },
  getJSON(url) { return fetch(url).then((r) => r.ok ? r.json() : Promise.reject(r)); },
  getPluginConfiguration(id) { return fetch('/Plugins/' + id + '/Configuration').then((r) => r.json()); },
  updatePluginConfiguration(id, config) { window.__log.updates.push({ id, config }); return Promise.resolve(); },
};
window.__loadView = async (name) => {
  const viewHtml = await (await fetch('/web/configurationpage?name=' + encodeURIComponent(name))).text();
  if (viewHtml.indexOf('data-role="page"') === -1) throw new Error('not a page: no data-role="page"');
  const wrapper = document.createElement('div');
  wrapper.innerHTML = viewHtml;
  const view = wrapper.querySelector('div[data-role="page"]');
  document.querySelector('.mainAnimatedPages').appendChild(view);
  let controller = view.getAttribute('data-controller');
  if (controller.indexOf('__plugin/') === 0) controller = controller.substring('__plugin/'.length);
  const factory = await import(ApiClient.getUrl('/web/' + Dashboard.getPluginUrl(controller)));
  new factory.default(view, {});
  view.dispatchEvent(new CustomEvent('viewshow', { detail: { params: {} } }));
  return view.id;
};
</script></body></html>`;

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  requests.push(req.method + ' ' + url.pathname + url.search);
  const name = (url.searchParams.get('name') || '').toLowerCase();
  if (url.pathname === '/host.html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(host);
  } else if (url.pathname.toLowerCase() === '/web/configurationpage' && name === 'matinee') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html);
  } else if (url.pathname.toLowerCase() === '/web/configurationpage' && name === 'matineeconfigjs') {
    res.writeHead(200, { 'content-type': 'application/x-javascript' });
    res.end(js);
  } else if (url.pathname.startsWith('/Plugins/') && url.pathname.endsWith('/Configuration')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(scenario.config));
  } else if (url.pathname === '/Matinee/Status' && scenario.status) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(scenario.status));
  } else {
    res.writeHead(url.pathname === '/Matinee/Status' ? 500 : 404);
    res.end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();

try {
  await withChromiumTab('matinee-plugin-config-', async (tab) => {
    const errors = [];
    tab.on('pageerror', (e) => errors.push(String(e)));
    await tab.goto(`http://127.0.0.1:${port}/host.html`, { waitUntil: 'load', timeout: 30000 });
    const pageId = await tab.evaluate(() => window.__loadView('Matinee'));
    await tab.waitForFunction(() => {
      const s = document.querySelector('#MatineeInjectionStatus');
      return window.__log.loading === 0 && s && s.textContent !== 'Checking…';
    }, null, { timeout: 10000 });
    const loaded = await tab.evaluate(() => ({
      ServerUrl: document.querySelector('#ServerUrl').value,
      TokenLifetimeSeconds: document.querySelector('#TokenLifetimeSeconds').value,
      DefaultControl: document.querySelector('#DefaultControl').value,
      DefaultWaitForAll: document.querySelector('#DefaultWaitForAll').checked,
      injection: document.querySelector('#MatineeInjectionStatus').textContent,
    }));
    let saved = null;
    if (scenario.edit) {
      await tab.fill('#ServerUrl', scenario.edit.ServerUrl);
      await tab.fill('#TokenLifetimeSeconds', String(scenario.edit.TokenLifetimeSeconds));
      await tab.selectOption('#DefaultControl', scenario.edit.DefaultControl);
      await tab.setChecked('#DefaultWaitForAll', scenario.edit.DefaultWaitForAll);
      // The form's own submit event, as the Save button raises it (no constraint validation in
      // the way: the page checks the rules itself, as the server does).
      await tab.evaluate(() => document.querySelector('#MatineeConfigForm').dispatchEvent(new Event('submit', { cancelable: true })));
      await tab.waitForFunction(() => window.__log.saved || window.__log.alerts.length > 0, null, { timeout: 10000 });
      saved = await tab.evaluate(() => window.__log);
    }
    console.log(JSON.stringify({ pageId, loaded, saved, errors, requests }));
  });
} finally {
  server.close();
}
