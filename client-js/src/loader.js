// Matinee loader: a CLASSIC script (not a module), injected by the Matinee Jellyfin plugin into
// jellyfin-web's index.html before its deferred bundles, served at /Matinee/ClientScript.
//
// It defines `window.MatineePlugin` the way jellyfin-web's pluginManager expects a window
// plugin (src/components/pluginManager.js, v10.10.7 and v10.11.x: `await window[name]` must be
// a function; awaiting its call must give a class; the class is constructed with
// jellyfin-web's modules). The plugin adds "MatineePlugin" to config.json's `plugins`.
// The real client is ES modules next to this file's URL: …/Matinee/ClientScript →
// …/Matinee/Client/jellyfin.js, loaded only when jellyfin-web asks for the plugin.
//
// If jellyfin-web never asks (config.json was not rewritten, e.g. a cached copy), the client
// still starts after the page has loaded, driving the <video> element directly.
(function () {
  'use strict';
  // An HTML page: the current script is an HTMLScriptElement (SVG scripts have no `src`).
  var script = /** @type {HTMLScriptElement|null} */ (document.currentScript);
  if (!script || !script.src || window.MatineePlugin) return;
  var src = new URL(script.src, location.href);
  var version = src.searchParams.get('v') || '0.0.0';
  var entry = new URL('Client/jellyfin.js', src);
  entry.search = '?v=' + encodeURIComponent(version); // cache-busting, like the loader itself
  var asked = false;

  window.MatineePlugin = async function () {
    asked = true;
    var mod = await import(entry.href);
    return mod.createPluginClass({ version: version });
  };

  // Fallback: jellyfin-web loads plugins right after its bundles start; 15 s after the page
  // loaded nobody asked, so nobody will.
  window.addEventListener('load', function () {
    setTimeout(function () {
      if (asked || window.__matineeHooked) return;
      import(entry.href).then(function (mod) { mod.startFallback({ version: version }); })
        .catch(function (e) { console.error('Matinee: could not load the client', e); });
    }, 15000);
  });
})();
