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
    // A customized built-in (is="paper-icon-button-light") must be created with `is`; the
    // attribute alone does not upgrade an existing element.
    const button = doc.createElement('button', { is: 'paper-icon-button-light' });
    button.setAttribute('is', 'paper-icon-button-light');
    button.type = 'button';
    button.className = `${BUTTON_CLASS} autoSize paper-icon-button-light`;
    button.title = label;
    button.setAttribute('aria-label', label);
    // It opens a panel: say so, and whether it is open (kept current by setOsdButtonsExpanded).
    button.setAttribute('aria-haspopup', 'dialog');
    button.setAttribute('aria-expanded', String(expanded()));
    const icon = doc.createElement('span');
    icon.className = 'largePaperIconButton material-icons groups';
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
