// @ts-check
// Matinee's configuration page controller. jellyfin-web imports this ES module because the page
// says data-controller="__plugin/matineeconfigjs", and calls the default export with the page
// element. `Dashboard` and `ApiClient` are jellyfin-web globals.
/* global Dashboard, ApiClient */

const pluginId = '4bcd6a6f-d0e4-4124-8b2e-39ba28d71063';

/** Time allowed for each health check before it counts as unreachable. */
const TEST_TIMEOUT_MS = 5000;

/**
* Mirrors SettingsRules.NormalizeServerUrl (Core): absolute http(s)/ws(s) URL without user
* info, query or fragment; returns the canonical form, or null.
* @param {string} value
* @returns {string | null}
*/
export function normalizeServerUrl(value) {
  const text = (value || '').trim();
  if (!text || text.length > 2048 || text.includes('?') || text.includes('#')) return null;
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) return null;
  if (url.username || url.password || !url.hostname) return null;
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/**
* Calls one health endpoint of the session server from this browser: what users' browsers
* will need to do too.
* @param {string} base
* @param {string} path
* @returns {Promise<string>}
*/
async function check(base, path) {
  const httpBase = base.replace(/^ws(s?):/, 'http$1:');
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TEST_TIMEOUT_MS);
  try {
    const response = await fetch(`${httpBase}${path}`, { signal: controller.signal, cache: 'no-store', credentials: 'omit' });
    return response.ok ? `${path}: OK` : `${path}: HTTP ${response.status}`;
  } catch {
    if (controller.signal.aborted) return `${path}: no answer within ${TEST_TIMEOUT_MS / 1000} s`;
    // A TypeError here is a network failure or a CORS refusal: the browser hides which.
    return `${path}: unreachable from this browser (network, TLS, or the session server does not allow this origin)`;
  } finally {
    clearTimeout(timer);
  }
}

/**
* @typedef {object} InjectionStatus What GET /Matinee/Status answers (Core's InjectionStatus.ToJson).
* @property {string} InjectionPath `middleware`, `file-transformation` or `none`
* @property {string} Detail
* @property {string | null} LastIndexHtml e.g. "Rewritten at 1733000000"
* @property {string | null} LastConfigJson
*/

/**
* One sentence per injection path, then the server's detail and what it last did, for the admin.
* @param {InjectionStatus | null} status
* @returns {string}
*/
export function describeInjection(status) {
  if (!status || typeof status.InjectionPath !== 'string') {
    return 'Unknown: the plugin did not report how it injects the client (is it loaded? see the Jellyfin log).';
  }
  /** @type {Record<string, string>} */
  const paths = {
    middleware: 'Matinee adds its client to the web client itself, as index.html and config.json are served.',
    'file-transformation': 'The File Transformation plugin adds Matinee\'s client to the web client.',
    none: 'Nothing: Jellyfin does not host the web client here (--nowebclient). Add Matinee\'s script to the web client you host (see Troubleshooting).',
  };
  const parts = [paths[status.InjectionPath] || `Unknown path "${status.InjectionPath}".`];
  if (status.Detail) parts.push(status.Detail);
  if (status.InjectionPath !== 'none') {
    parts.push(status.LastIndexHtml ? `Last index.html: ${status.LastIndexHtml} (Unix time).` : 'index.html not served since Jellyfin started.');
  }
  return parts.join(' ');
}

/**
* @param {HTMLElement} view
*/
export default function (view) {
  const form = /** @type {HTMLFormElement} */ (view.querySelector('#MatineeConfigForm'));
  const serverUrl = /** @type {HTMLInputElement} */ (view.querySelector('#ServerUrl'));
  const lifetime = /** @type {HTMLInputElement} */ (view.querySelector('#TokenLifetimeSeconds'));
  const control = /** @type {HTMLSelectElement} */ (view.querySelector('#DefaultControl'));
  const waitForAll = /** @type {HTMLInputElement} */ (view.querySelector('#DefaultWaitForAll'));
  const testButton = /** @type {HTMLButtonElement} */ (view.querySelector('#MatineeTestButton'));
  const testResult = /** @type {HTMLElement} */ (view.querySelector('#MatineeTestResult'));
  const injection = /** @type {HTMLElement} */ (view.querySelector('#MatineeInjectionStatus'));

  view.addEventListener('viewshow', () => {
    Dashboard.showLoadingMsg();
    ApiClient.getPluginConfiguration(pluginId).then((config) => {
      serverUrl.value = config.ServerUrl || '';
      lifetime.value = String(config.TokenLifetimeSeconds || 300);
      control.value = config.DefaultControl === 'shared' ? 'shared' : 'host';
      waitForAll.checked = config.DefaultWaitForAll !== false;
    }).catch(() => {
      Dashboard.alert('Could not load the Matinee configuration.');
    }).finally(() => Dashboard.hideLoadingMsg());
    // Administrators only (RequiresElevation), like this page.
    ApiClient.getJSON(ApiClient.getUrl('Matinee/Status')).then((status) => {
      injection.textContent = describeInjection(status);
    }).catch(() => {
      injection.textContent = describeInjection(null);
    });
  });

  testButton.addEventListener('click', async () => {
    const base = normalizeServerUrl(serverUrl.value);
    if (!base) {
      testResult.textContent = 'Enter an http(s) URL without user name, query or fragment first.';
      return;
    }
    testButton.disabled = true;
    testResult.textContent = 'Testing…';
    try {
      const results = await Promise.all([check(base, '/healthz'), check(base, '/readyz')]);
      testResult.textContent = results.join(' · ');
    } finally {
      testButton.disabled = false;
    }
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const base = normalizeServerUrl(serverUrl.value);
    const seconds = Number.parseInt(lifetime.value, 10);
    if (!base) {
      Dashboard.alert('The session server URL must be an http(s) URL without user name, query or fragment.');
      return false;
    }
    if (!Number.isInteger(seconds) || seconds < 30 || seconds > 3600) {
      Dashboard.alert('The token lifetime must be between 30 and 3600 seconds.');
      return false;
    }
    Dashboard.showLoadingMsg();
    ApiClient.getPluginConfiguration(pluginId).then((config) => {
      config.ServerUrl = base;
      config.TokenLifetimeSeconds = seconds;
      config.DefaultControl = control.value === 'shared' ? 'shared' : 'host';
      config.DefaultWaitForAll = waitForAll.checked;
      return ApiClient.updatePluginConfiguration(pluginId, config);
    }).then((result) => {
      Dashboard.processPluginConfigurationUpdateResult(result);
    }).catch(async (error) => {
      Dashboard.hideLoadingMsg();
      // The plugin refuses bad settings with HTTP 400. Jellyfin puts the plugin's sentence in
      // the body only on a Development host (elsewhere it says "Error processing request." and
      // logs the reason), which is why the checks above mirror the server's rules.
      let reason = '';
      if (error && typeof error.text === 'function') {
        reason = await error.text().catch(() => '');
      }
      Dashboard.alert(`Could not save the Matinee configuration. ${reason}`.trim());
    });
    return false;
  });
}
