// @ts-check
/**
 * Puts a "Watch party" button where jellyfin-web users meet it:
 * - in the video OSD whenever the video OSD page is shown. The OSD markup is jellyfin-web's
 *   src/controllers/playback/video/index.html (same in v10.10.7 and v10.11.x):
 *   `#videoOsdPage … .osdControls .buttons` holding `<button is="paper-icon-button-light"
 *   class="btnVideoOsdSettings autoSize">` with a `<span class="largePaperIconButton
 *   material-icons settings">`. Ours copies that shape, so the theme styles it, and goes just
 *   before the settings button;
 * - in the page header, next to SyncPlay's button (src/scripts/libraryMenu.js renders
 *   `.skinHeader .headerRight` with `<button is="paper-icon-button-light" class="headerSyncButton
 *   syncButton headerButton headerButtonRight">`), so a guest can join a room by its code
 *   before anything plays. It is not shown over the video, where the OSD has its own.
 * - in jellyfin-web 12's modern layout (the default, "Auto"), which hides the legacy header
 *   (src/components/AppHeader.tsx keeps `.skinHeader` in a `display: none` wrapper): in its
 *   MUI toolbar (src/apps/modern/components/AppToolbar/index.tsx), before the Search button,
 *   an IconButton rendered as a link to `/search` — the one button the toolbar shows on every
 *   signed-in page whatever the language (SyncPlay's depends on the server); and in the
 *   dashboard's MUI toolbar (every layout, 10.11 and 12), before the user menu. The toolbar is
 *   React's: when a render drops our button, the observer puts it back.
 * All are shown only while `available()` says so (someone is signed in and the plugin has a
 * session server configured), as jellyfin-web shows its own header buttons only when they
 * can be used.
 *
 * Pages are created and destroyed by jellyfin-web's router, so a MutationObserver watches for
 * them (checked at most once per animation frame).
 *
 * Public API:
 *   watchVideoOsd({document?, label, onClick, expanded?, available?, onOsdButton?}) → {stop(), refresh()}
 *     onClick(button)       the button clicked (the panel opens next to it)
 *     onOsdButton(button)   the video OSD's button came into view
 *   setOsdButtonsExpanded(open, document?)   aria-expanded on the buttons
 *
 * @module ui/osd
 */

import { injectStyles } from './styles.js';

const BUTTON_CLASS = 'btnMatineeWatchParty';
const HEADER_CLASS = 'btnMatineeHeader';
const TOOLBAR_CLASS = 'btnMatineeToolbar';

/**
 * @param {Document} doc
 * @param {{label: string, classes: string, iconClasses: string, expanded: boolean, onClick: (button: HTMLElement) => void}} o
 */
function makeButton(doc, { label, classes, iconClasses, expanded, onClick }) {
  // Parsed from markup, as jellyfin-web makes its own buttons: its elements are registered
  // with the v0 polyfill (webcomponents.js 0.7, `document.registerElement`, imported by
  // src/elements/emby-button/paper-icon-button-light.js and others in 10.10.7 and 10.11.x),
  // which upgrades `is="…"` elements parsed into the page, and which replaces
  // document.createElement with a version that calls `.toLowerCase()` on its second argument:
  // `createElement('button', {is})` throws there ("t.toLowerCase is not a function").
  const holder = doc.createElement('div');
  holder.innerHTML = '<button is="paper-icon-button-light" type="button"></button>';
  const button = /** @type {HTMLButtonElement} */ (holder.firstElementChild);
  button.className = classes;
  button.title = label;
  button.setAttribute('aria-label', label);
  // It opens a panel: say so, and whether it is open (kept current by setOsdButtonsExpanded).
  button.setAttribute('aria-haspopup', 'dialog');
  button.setAttribute('aria-expanded', String(expanded));
  const icon = doc.createElement('span');
  // Not `groups`: that is jellyfin-web's own SyncPlay button in the header
  // (src/scripts/libraryMenu.js), shown on the same screens. `celebration` is in the
  // Material Icons font both versions ship (material-design-icons-iconfont).
  icon.className = iconClasses;
  icon.setAttribute('aria-hidden', 'true');
  button.append(icon);
  button.addEventListener('click', (e) => {
    e.preventDefault();
    e.stopPropagation(); // a click on the OSD would also toggle play/pause
    onClick(button);
  });
  return button;
}

/**
 * Where the button goes in a MUI toolbar (the element it goes just before), or null when no
 * MUI toolbar is shown: the Search link where there is one (the modern layout's pages); else,
 * in the dashboard's toolbar (src/apps/dashboard/AppLayout.tsx, 10.11 and 12: Help and the user
 * menu, no Search; its pages hide the legacy header in every layout), the box holding the user
 * menu button (src/components/toolbar/AppToolbar.tsx; UserMenuButton.tsx: aria-controls
 * "app-user-menu"), so that ours ends the row of buttons before the user's avatar.
 * @param {Document} doc
 * @returns {Element|null}
 */
function toolbarAnchor(doc) {
  const search = doc.querySelector('.MuiToolbar-root a[href*="/search"]');
  if (search) return search;
  const user = doc.querySelector('.MuiToolbar-root button[aria-controls="app-user-menu"]');
  const toolbar = user?.closest('.MuiToolbar-root');
  if (!user || !toolbar) return null;
  // The toolbar's child that holds the user menu.
  let box = /** @type {Element} */ (user);
  while (box.parentElement && box.parentElement !== toolbar) box = box.parentElement;
  return box;
}

/**
 * @param {{document?: Document, label: string, onClick: (button: HTMLElement) => void, expanded?: () => boolean,
 *   available?: () => boolean, onOsdButton?: (button: HTMLElement) => void}} opts
 * @returns {{stop: () => void, refresh: () => void}}
 */
export function watchVideoOsd({ document: doc = globalThis.document, label, onClick, expanded = () => false, available = () => true, onOsdButton = () => {} }) {
  injectStyles(doc); // the toolbar button's shape, before any panel exists
  let scheduled = false;
  let osdShown = false;
  const check = () => {
    scheduled = false;
    const usable = available();
    const settings = doc.querySelector('#videoOsdPage .osdControls .btnVideoOsdSettings');
    if (settings) {
      let button = /** @type {HTMLElement|null} */ (settings.parentElement?.querySelector(`.${BUTTON_CLASS}`) || null);
      if (!button) {
        button = makeButton(doc, {
          label, onClick, expanded: expanded(),
          classes: `${BUTTON_CLASS} autoSize paper-icon-button-light`,
          iconClasses: 'largePaperIconButton material-icons celebration',
        });
        settings.before(button);
      }
      if (button.hidden !== !usable) button.hidden = !usable;
    }
    // A video page just came into view (after a join, an invite link, a reload): a panel opened
    // before it was placed for a page without the OSD and must move clear of it.
    const osdButton = settings?.parentElement?.querySelector(`.${BUTTON_CLASS}`);
    const osdNow = Boolean(usable && osdButton && osdButton.getClientRects().length > 0);
    if (osdNow && !osdShown) onOsdButton(/** @type {HTMLElement} */ (osdButton));
    osdShown = osdNow;
    const headerRight = doc.querySelector('.skinHeader .headerRight');
    if (headerRight) {
      let button = /** @type {HTMLElement|null} */ (headerRight.querySelector(`.${HEADER_CLASS}`));
      if (!button) {
        button = makeButton(doc, {
          label, onClick, expanded: expanded(),
          classes: `${BUTTON_CLASS} ${HEADER_CLASS} headerButton headerButtonRight paper-icon-button-light`,
          iconClasses: 'material-icons celebration',
        });
        headerRight.prepend(button);
      }
      // Over the video (the header then carries `osdHeader`, src/controllers/playback/video)
      // the OSD button is the one to use.
      const hide = !usable || Boolean(headerRight.closest('.osdHeader'));
      if (button.hidden !== hide) button.hidden = hide;
    }
    const before = toolbarAnchor(doc);
    if (before?.parentElement) {
      let button = /** @type {HTMLElement|null} */ (before.parentElement.querySelector(`:scope > .${TOOLBAR_CLASS}`));
      if (!button) {
        button = makeButton(doc, {
          label, onClick, expanded: expanded(),
          classes: `${BUTTON_CLASS} ${TOOLBAR_CLASS}`,
          iconClasses: 'material-icons celebration',
        });
        before.before(button);
      }
      if (button.hidden !== !usable) button.hidden = !usable;
    }
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    (globalThis.requestAnimationFrame || ((f) => setTimeout(f, 16)))(check);
  };
  const observer = new MutationObserver(schedule);
  // Class changes too: the header turns into the OSD header without any node being added.
  observer.observe(doc.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['class'] });
  // Signing in or out need not touch the DOM at all (a page that stays as it is): look again
  // now and then too.
  const timer = setInterval(schedule, 1000);
  check();
  return { stop: () => { observer.disconnect(); clearInterval(timer); }, refresh: schedule };
}

/**
 * Keeps `aria-expanded` of every Watch party button in step with the panel.
 * @param {boolean} open
 * @param {Document} [doc]
 */
export function setOsdButtonsExpanded(open, doc = globalThis.document) {
  for (const b of doc.querySelectorAll(`.${BUTTON_CLASS}`)) b.setAttribute('aria-expanded', String(open));
}
