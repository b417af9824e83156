// @ts-check
/**
 * Puts a "Watch party" button into jellyfin-web's video OSD whenever the video OSD page is
 * shown. The OSD markup is jellyfin-web's src/controllers/playback/video/index.html (same in
 * v10.10.7 and v10.11.x): `#videoOsdPage … .osdControls .buttons` holding
 * `<button is="paper-icon-button-light" class="btnVideoOsdSettings autoSize">` with a
 * `<span class="largePaperIconButton material-icons settings">`. Our button copies that
 * shape, so the theme styles it, and goes just before the settings button.
 *
 * The page is created and destroyed by jellyfin-web's router, so a MutationObserver watches
 * for it (checked at most once per animation frame).
 *
 * Public API:
 *   watchVideoOsd({document?, label, onClick, expanded?}) → () => void (stop watching)
 *   setOsdButtonsExpanded(open, document?)   aria-expanded on the buttons
 *
 * @module ui/osd
 */

const BUTTON_CLASS = 'btnMatineeWatchParty';

/**
 * @param {{document?: Document, label: string, onClick: () => void, expanded?: () => boolean}} opts
 * @returns {() => void}
 */
export function watchVideoOsd({ document: doc = globalThis.document, label, onClick, expanded = () => false }) {
  let scheduled = false;
  const check = () => {
    scheduled = false;
    const settings = doc.querySelector('#videoOsdPage .osdControls .btnVideoOsdSettings');
    if (!settings || settings.parentElement?.querySelector(`.${BUTTON_CLASS}`)) return;
    // Parsed from markup, as jellyfin-web makes its own buttons: its elements are registered
    // with the v0 polyfill (webcomponents.js 0.7, `document.registerElement`, imported by
    // src/elements/emby-button/paper-icon-button-light.js and others in 10.10.7 and 10.11.x),
    // which upgrades `is="…"` elements parsed into the page, and which replaces
    // document.createElement with a version that calls `.toLowerCase()` on its second argument:
    // `createElement('button', {is})` throws there ("t.toLowerCase is not a function").
    const holder = doc.createElement('div');
    holder.innerHTML = '<button is="paper-icon-button-light" type="button"></button>';
    const button = /** @type {HTMLButtonElement} */ (holder.firstElementChild);
    button.className = `${BUTTON_CLASS} autoSize paper-icon-button-light`;
    button.title = label;
    button.setAttribute('aria-label', label);
    // It opens a panel: say so, and whether it is open (kept current by setOsdButtonsExpanded).
    button.setAttribute('aria-haspopup', 'dialog');
    button.setAttribute('aria-expanded', String(expanded()));
    const icon = doc.createElement('span');
    // Not `groups`: that is jellyfin-web's own SyncPlay button in the header
    // (src/scripts/libraryMenu.js), shown on the same screen. `celebration` is in the
    // Material Icons font both versions ship (material-design-icons-iconfont).
    icon.className = 'largePaperIconButton material-icons celebration';
    icon.setAttribute('aria-hidden', 'true');
    button.append(icon);
    button.addEventListener('click', (e) => {
      e.preventDefault();
      e.stopPropagation(); // a click on the OSD would also toggle play/pause
      onClick();
    });
    settings.before(button);
  };
  const observer = new MutationObserver(() => {
    if (scheduled) return;
    scheduled = true;
    (globalThis.requestAnimationFrame || ((f) => setTimeout(f, 16)))(check);
  });
  observer.observe(doc.body, { childList: true, subtree: true });
  check();
  return () => observer.disconnect();
}

/**
 * Keeps `aria-expanded` of every Watch party button in step with the panel.
 * @param {boolean} open
 * @param {Document} [doc]
 */
export function setOsdButtonsExpanded(open, doc = globalThis.document) {
  for (const b of doc.querySelectorAll(`.${BUTTON_CLASS}`)) b.setAttribute('aria-expanded', String(open));
}
