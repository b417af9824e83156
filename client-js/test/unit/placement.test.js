import test from 'node:test';
import assert from 'node:assert/strict';
import { overlayBox, placePanel } from '../../src/ui/placement.js';

const box = (left, top, right, bottom) => ({ left, top, right, bottom });
/** The panel's rectangle in viewport coordinates. */
function rect(p, vh, contentHeight = 10_000) {
  const h = Math.min(p.maxHeight, contentHeight);
  const top = p.top !== undefined ? p.top : vh - p.bottom - h;
  return { left: p.left, right: p.left + p.width, top, bottom: top + h };
}

test('opened from the OSD: above the OSD bar, its right edge on the button\'s', () => {
  const vh = 760;
  const p = placePanel({ viewport: { width: 1100, height: vh }, anchor: box(890, 700, 930, 740), band: { top: 56, bottom: 640 }, width: 384 });
  const r = rect(p, vh);
  assert.equal(r.right, 930);
  assert.equal(r.bottom, 628, 'the margin above the OSD bar (its time row and seek bar included)');
  assert.equal(r.top, 68, 'the margin below the header');
});

test('opened from the header: just below the button, right edges lined up', () => {
  const vh = 760;
  const p = placePanel({ viewport: { width: 1100, height: vh }, anchor: box(1000, 8, 1040, 48), band: { top: 56, bottom: 760 }, width: 384 });
  assert.equal(p.top, 68);
  assert.equal(p.left + p.width, 1040);
  assert.equal(p.top + p.maxHeight, 748);
});

test('a button at the screen edge: the panel moves in to keep the margin', () => {
  const p = placePanel({ viewport: { width: 1100, height: 760 }, anchor: box(1080, 8, 1100, 48), band: { top: 0, bottom: 760 }, width: 384, margin: 12 });
  assert.equal(p.left + p.width, 1088);
});

test('on a phone: full width with even margins, the upper half of the picture stays visible', () => {
  const vh = 844;
  const picture = box(0, 312, 390, 531);
  const p = placePanel({ viewport: { width: 390, height: vh }, anchor: box(330, 780, 370, 820), band: { top: 56, bottom: 694 }, picture, width: 384, margin: 12 });
  const r = rect(p, vh);
  assert.equal(r.left, 12);
  assert.equal(390 - r.right, 12);
  assert.equal(r.bottom, 682);
  assert.ok(r.top >= (picture.top + picture.bottom) / 2, `top ${r.top}`);
});

test('on a phone with room under the picture: the panel fits there and covers none of it', () => {
  const vh = 844;
  const picture = box(0, 100, 390, 320);
  const p = placePanel({ viewport: { width: 390, height: vh }, anchor: box(330, 780, 370, 820), band: { top: 56, bottom: 694 }, picture, width: 384, margin: 12 });
  const r = rect(p, vh);
  assert.ok(r.top >= picture.bottom, `top ${r.top}`);
});

test('on a phone with a smaller font (jellyfin-web 12: a 339 px panel on 390 px): still full width, the picture\'s upper half visible', () => {
  const vh = 844;
  const picture = box(0, 312, 390, 531);
  const p = placePanel({ viewport: { width: 390, height: vh }, anchor: box(330, 780, 370, 820), band: { top: 56, bottom: 694 }, picture, width: 339, margin: 12 });
  const r = rect(p, vh);
  assert.deepEqual([r.left, 390 - r.right], [12, 12], 'even margins, full width');
  assert.ok(r.top >= (picture.top + picture.bottom) / 2, `top ${r.top}`);
});

test('a wide screen keeps the panel at its own width beside the picture', () => {
  const p = placePanel({ viewport: { width: 1280, height: 800 }, anchor: box(1200, 8, 1240, 48), band: { top: 56, bottom: 800 }, width: 339, margin: 12 });
  assert.equal(p.width, 339);
});

test('with no button: bottom right of the free band', () => {
  const vh = 760;
  const p = placePanel({ viewport: { width: 1100, height: vh }, anchor: null, band: { top: 0, bottom: 640 }, width: 384, margin: 12 });
  const r = rect(p, vh);
  assert.deepEqual([r.right, r.bottom], [1088, 628]);
});

test('overlayBox: below the header, above the OSD bar and above the subtitles\' part of the picture', () => {
  // 1280×800, 16:9 picture letterboxed from 40 to 760, header to 56, OSD bar from 640.
  const picture = box(0, 40, 1280, 760);
  const b = overlayBox({ viewport: { width: 1280, height: 800 }, band: { top: 56, bottom: 640 }, picture, margin: 12 });
  assert.equal(b.top, 68);
  assert.equal(b.left, 12);
  assert.equal(b.width, 1256);
  assert.equal(b.top + b.maxHeight, 40 + 720 * 0.6 - 12, 'ends above the bottom 40 % of the picture, where subtitles go');
  // Drawn subtitles raised higher than that line: the layer ends above them.
  const raised = overlayBox({ viewport: { width: 1280, height: 800 }, band: { top: 56, bottom: 640 }, picture, subtitlesTop: 300, margin: 12 });
  assert.equal(raised.top + raised.maxHeight, 288);
  // The OSD bar higher than the subtitle line (a short window): the bar wins.
  const short = overlayBox({ viewport: { width: 800, height: 400 }, band: { top: 56, bottom: 200 }, picture: box(0, 0, 800, 400), margin: 12 });
  assert.equal(short.top + short.maxHeight, 188);
  // No picture yet: the viewport's upper 60 %; never a negative height.
  assert.equal(overlayBox({ viewport: { width: 800, height: 500 }, band: { top: 0, bottom: 500 }, margin: 10 }).maxHeight, 280);
  assert.equal(overlayBox({ viewport: { width: 800, height: 100 }, band: { top: 90, bottom: 100 }, margin: 10 }).maxHeight, 0);
});
