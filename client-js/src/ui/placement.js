// @ts-check
/**
 * Where the watch-party panel goes, and in which colours, so that it never covers jellyfin-web's
 * own controls, opens next to the button that opened it, follows the theme and works on a phone.
 *
 * The rules (placePanel, pure, on plain rectangles):
 *   - it stays inside the band between the page header (`.skinHeader`, the OSD's top bar over a
 *     video) and the video OSD's bottom bar (`.videoOsdBottom`: seek bar, times, buttons), with
 *     the same margin on every side;
 *   - opened from a button in the upper half of the screen (the header) it hangs below the
 *     button; from one in the lower half (the OSD) it stands above the OSD bar; either way its
 *     right edge lines up with the button's, moved in to keep the margins;
 *   - on a screen too narrow for it beside the picture (a phone: less than a quarter of the
 *     width would stay free beside it), it takes the full width and,
 *     opened from below, leaves the picture visible: it fills the space under the picture
 *     when that is big enough to use, and never more than the lower half of the picture.
 * The rectangles come from the DOM by offset sizes, not transforms: jellyfin-web hides its OSD
 * bars by sliding them out (`videoOsdBottom-hidden`, `osdHeader-hidden`), and the panel must
 * keep their place free for when they come back.
 *
 * Colours (themeOf): jellyfin-web's themes (dark, light, appletv, blueradiance, purplehaze, wmc)
 * set the page's text colour; a light text means a dark theme. The panel takes that text colour
 * and a matching translucent background, and its buttons inherit the colour (a <button> does
 * not by itself: monochrome emoji were black on the dark panel).
 *
 * Public API:
 *   placePanel({viewport, anchor, band, picture, margin, width}) → {left, width, top?, bottom?, maxHeight}
 *   pictureRect(video) → the rectangle the picture fills inside a <video> (object-fit: contain)
 *   bandOf(document) → {top, bottom}   the free band between jellyfin-web's bars
 *   themeOf(document) → {fg, dark}
 *   positionPanel(panel, anchor?, document?)   measures and applies all of the above
 *   overlayBox({viewport, band, picture?, subtitlesTop?, margin?}) → {left, top, width, maxHeight}
 *   subtitlesTopOf(document) → the top of jellyfin-web's subtitle text when drawn, else null
 *   positionOverlay(overlay, document?)   measures and applies overlayBox
 *
 * The in-player layer (notices, chat, reactions: ui/overlay.js) keeps to the upper part of the
 * picture: below the header, above the OSD's bottom bar, and above where subtitles are drawn.
 * jellyfin-web draws text subtitles either as the video's own cues (::cue, bottom lines of the
 * picture, not measurable) or in `.videoSubtitles` (position: fixed at the bottom; text grows
 * upwards from the user's chosen line, src/plugins/htmlVideoPlayer/plugin.js and style.scss in
 * 10.10.7 and 10.11.x); so the layer ends at SUBTITLE_FREE of the picture's height, or higher when
 * `.videoSubtitles` text stands higher.
 *
 * @module ui/placement
 */

/** @typedef {{left: number, top: number, right: number, bottom: number}} Box */

/** Narrowest a panel beside the picture may be (px): below it the panel takes the full width. */
const PANEL_WIDTH = 384;
/** The share of the screen's width that must stay free beside a panel for it to be placed
 *  beside the picture; with less, it takes the full width (a phone). */
const NARROW_FREE = 0.25;
/** Margin kept from the screen edges and from jellyfin-web's bars (px). */
const MARGIN = 12;
/** Gap between the panel and the button that opened it (px). */
const GAP = 8;
/** Smallest height worth putting the panel in the space under the picture (px): the lobby
 *  (create, join by code) fits in it, the rest scrolls. */
const MIN_USEFUL_HEIGHT = 150;
/** The share of the picture, from its top, that subtitles never use: jellyfin-web's
 *  subtitles sit in the bottom lines, and its vertical-position setting raises them by a few
 *  lines at most. The in-player layer stays above this line. */
const SUBTITLE_FREE = 0.6;

/**
 * @param {{viewport: {width: number, height: number}, anchor: Box|null, band: {top: number, bottom: number},
 *   picture?: Box|null, margin?: number, width?: number}} o
 * @returns {{left: number, width: number, top?: number, bottom?: number, maxHeight: number}}
 */
export function placePanel({ viewport, anchor, band, picture = null, margin = MARGIN, width = PANEL_WIDTH }) {
  const vw = viewport.width;
  const vh = viewport.height;
  const full = vw - 2 * margin;
  // Too narrow for the panel beside the picture: what it would leave free beside it is less
  // than a quarter of the screen (jellyfin-web 12's smaller font on a 390 px phone makes the
  // panel 339 px: 51 px free, nothing to see there). Then it takes the full width.
  const narrow = Math.min(width, full) > full - vw * NARROW_FREE;
  const w = narrow ? full : Math.min(width, full);
  const right = anchor ? anchor.right : vw - margin;
  const left = Math.max(margin, Math.min(right - w, vw - margin - w));
  const top = Math.max(0, band.top) + margin;
  const bottom = Math.min(vh, band.bottom) - margin;
  const fromAbove = anchor !== null && (anchor.top + anchor.bottom) / 2 < vh / 2;
  if (fromAbove) {
    const t = Math.max(top, anchor.bottom + GAP);
    return { left, width: w, top: t, maxHeight: Math.max(0, bottom - t) };
  }
  // From below (the OSD), or with no button: stand on the band's bottom.
  let b = bottom;
  if (anchor) b = Math.min(b, Math.max(top, anchor.top - GAP));
  let maxHeight = b - top;
  if (narrow && picture && picture.bottom > top && picture.top < b) {
    const under = b - Math.max(picture.bottom, top) - margin;
    const halfPicture = b - Math.max(top, (picture.top + picture.bottom) / 2);
    maxHeight = under >= MIN_USEFUL_HEIGHT ? under : Math.min(maxHeight, Math.max(halfPicture, MIN_USEFUL_HEIGHT));
  }
  return { left, width: w, bottom: vh - b, maxHeight: Math.max(0, maxHeight) };
}

/**
 * The rectangle the picture fills inside `video` (letterboxed: object-fit contain, jellyfin-web's
 * default), or null before its size is known.
 * @param {HTMLVideoElement} video
 * @returns {Box|null}
 */
export function pictureRect(video) {
  const r = video.getBoundingClientRect();
  if (!video.videoWidth || !video.videoHeight || !r.width || !r.height) return null;
  const scale = Math.min(r.width / video.videoWidth, r.height / video.videoHeight);
  const w = video.videoWidth * scale;
  const h = video.videoHeight * scale;
  const left = r.left + (r.width - w) / 2;
  const top = r.top + (r.height - h) / 2;
  return { left, top, right: left + w, bottom: top + h };
}

/**
 * @param {Element|null} el
 * @returns {el is HTMLElement}
 */
function shown(el) {
  // Not offsetParent: it is null for the position: fixed bars themselves.
  return el instanceof HTMLElement && !el.hidden && el.getClientRects().length > 0 && el.offsetHeight > 0;
}

/**
 * The band free of jellyfin-web's bars: below the header, above the video OSD's bottom bar.
 * Offset positions, not the bounding box, so that a bar slid out of view still counts.
 * @param {Document} doc
 * @returns {{top: number, bottom: number}}
 */
export function bandOf(doc) {
  const vh = doc.documentElement.clientHeight || globalThis.innerHeight;
  let top = 0;
  let bottom = vh;
  // The first header shown: jellyfin-web 12's modern layout keeps the legacy `.skinHeader` in
  // the DOM but hidden (src/components/AppHeader.tsx) and draws the video page's top bar as a
  // second one (src/apps/modern/routes/video/index.tsx: a MUI box with class skinHeader).
  const header = [...doc.querySelectorAll('.skinHeader')].find(shown);
  if (header) top = header.offsetTop + header.offsetHeight;
  const osd = doc.querySelector('#videoOsdPage:not([hidden]) .videoOsdBottom');
  // Its padding-top (7.5em in src/styles/videoosd.scss) is only the gradient over the picture.
  if (shown(osd)) bottom = vh - (osd.offsetHeight - (parseFloat(getComputedStyle(osd).paddingTop) || 0));
  return { top, bottom };
}

/**
 * @param {string} css an rgb()/rgba() colour
 * @returns {number[]|null}
 */
function rgb(css) {
  const m = /rgba?\(([^)]+)\)/.exec(css || '');
  if (!m) return null;
  const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
  return parts.length >= 3 && parts.slice(0, 3).every(Number.isFinite) ? parts.slice(0, 3) : null;
}

/**
 * The theme's text colour and whether the theme is dark (light text).
 * @param {Document} doc
 * @returns {{fg: string, dark: boolean}}
 */
export function themeOf(doc) {
  const fg = doc.body ? getComputedStyle(doc.body).color : '';
  const c = rgb(fg);
  if (!c) return { fg: '#eee', dark: true };
  const luminance = (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255;
  return { fg, dark: luminance >= 0.5 };
}

/**
 * Places `panel` for the button `anchor` (null: where the last one was, or bottom right) and
 * gives it the theme's colours.
 * @param {HTMLElement} panel
 * @param {Element|null} [anchor]
 * @param {Document} [doc]
 */
export function positionPanel(panel, anchor = null, doc = panel.ownerDocument) {
  const view = doc.defaultView || globalThis;
  const viewport = { width: doc.documentElement.clientWidth || view.innerWidth, height: doc.documentElement.clientHeight || view.innerHeight };
  const a = shown(anchor) ? anchor.getBoundingClientRect() : null;
  const video = /** @type {HTMLVideoElement|null} */ (doc.querySelector('#videoOsdPage:not([hidden]) video, video.htmlvideoplayer'));
  const picture = shown(video) ? pictureRect(/** @type {HTMLVideoElement} */ (video)) : null;
  const fontPx = parseFloat(getComputedStyle(panel).fontSize) || 16;
  const p = placePanel({ viewport, anchor: a, band: bandOf(doc), picture, width: Math.round(24 * fontPx) });
  const s = panel.style;
  s.left = `${p.left}px`;
  s.right = 'auto';
  s.width = `${p.width}px`;
  s.maxHeight = `${p.maxHeight}px`;
  s.top = p.top === undefined ? 'auto' : `${p.top}px`;
  s.bottom = p.bottom === undefined ? 'auto' : `${p.bottom}px`;
  const theme = themeOf(doc);
  panel.dataset.theme = theme.dark ? 'dark' : 'light';
  s.setProperty('--matinee-fg', theme.fg);
}

/**
 * The in-player layer's box: the width of the screen less the margins, from below the header
 * down to the first of the OSD's bottom bar, the subtitles' line (SUBTITLE_FREE of the picture,
 * or of the viewport before the picture's size is known) and the top of drawn subtitles.
 * @param {{viewport: {width: number, height: number}, band: {top: number, bottom: number},
 *   picture?: Box|null, subtitlesTop?: number|null, margin?: number}} o
 * @returns {{left: number, top: number, width: number, maxHeight: number}}
 */
export function overlayBox({ viewport, band, picture = null, subtitlesTop = null, margin = MARGIN }) {
  const top = Math.max(0, band.top) + margin;
  const subtitleLine = picture
    ? picture.top + (picture.bottom - picture.top) * SUBTITLE_FREE
    : viewport.height * SUBTITLE_FREE;
  let bottom = Math.min(Math.min(viewport.height, band.bottom) - margin, subtitleLine - margin);
  if (subtitlesTop !== null && Number.isFinite(subtitlesTop)) bottom = Math.min(bottom, subtitlesTop - margin);
  return { left: margin, top, width: Math.max(0, viewport.width - 2 * margin), maxHeight: Math.max(0, bottom - top) };
}

/**
 * The top of the subtitle text jellyfin-web draws in `.videoSubtitles`, or null when none is
 * drawn (no such element, or no text in it now).
 * @param {Document} doc
 * @returns {number|null}
 */
export function subtitlesTopOf(doc) {
  let top = null;
  for (const el of doc.querySelectorAll('.videoSubtitles .videoSubtitlesInner, .videoSubtitles .videoSecondarySubtitlesInner')) {
    if (!(el instanceof HTMLElement) || !el.textContent?.trim()) continue;
    const r = el.getBoundingClientRect();
    if (r.height > 0) top = top === null ? r.top : Math.min(top, r.top);
  }
  return top;
}

/**
 * Places the in-player layer (ui/overlay.js) by overlayBox.
 * @param {HTMLElement} overlay
 * @param {Document} [doc]
 */
export function positionOverlay(overlay, doc = overlay.ownerDocument) {
  const view = doc.defaultView || globalThis;
  const viewport = { width: doc.documentElement.clientWidth || view.innerWidth, height: doc.documentElement.clientHeight || view.innerHeight };
  const video = /** @type {HTMLVideoElement|null} */ (doc.querySelector('#videoOsdPage:not([hidden]) video, video.htmlvideoplayer, video'));
  const picture = shown(video) ? pictureRect(/** @type {HTMLVideoElement} */ (video)) : null;
  const b = overlayBox({ viewport, band: bandOf(doc), picture, subtitlesTop: subtitlesTopOf(doc) });
  const s = overlay.style;
  s.left = `${b.left}px`;
  s.top = `${b.top}px`;
  s.width = `${b.width}px`;
  s.height = `${b.maxHeight}px`;
}
