// The globals Matinee's scripts share through `window` (checked by `make test-types`).
// loader.js is a classic script injected into jellyfin-web's index.html; jellyfin.js is the
// ES module it loads.
interface Window {
  /** Defined by loader.js: the window plugin jellyfin-web's pluginManager awaits and calls
   *  (src/components/pluginManager.js, jellyfin-web v10.10.x and v10.11.x). */
  MatineePlugin?: () => Promise<unknown>;
  /** Set by jellyfin.js once jellyfin-web constructed the plugin, so that the loader's
   *  fallback (driving the <video> directly) does not start a second client. */
  __matineeHooked?: boolean;
}
