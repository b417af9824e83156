// @ts-check
/**
 * The party over the video: who-did-what notices (ui/notices.js, one at a time), chat messages
 * that fade after a few seconds, floating reactions, and a one-line chat input opened by a key.
 *
 * Where: a layer in the upper part of the picture, clear of jellyfin-web's header, of the OSD's
 * bottom bar and of the subtitles (ui/placement.js overlayBox); it lets every click through
 * except on its own input. In fullscreen it moves into the fullscreen element (whatever
 * jellyfin-web or the page made fullscreen), since nothing outside it is drawn; a <video>
 * made fullscreen by itself can hold no children, so nothing can be drawn over it.
 *
 * The key: `c` (or `C`), with no Ctrl/Alt/Meta, while in a room and `active()` says so, and not
 * while typing in a field. jellyfin-web's video OSD (src/controllers/playback/video/index.js,
 * onKeyDown, 10.10.7 and 10.11.x) uses Space, Enter, Escape, k, l, j, f, m, p, n, g, h, the
 * arrows, Home, End, the digits, <, >, PageUp and PageDown; `c` is none of them. Enter sends and
 * closes; Escape closes. Keys typed in the input never reach jellyfin-web (space would pause).
 * In fullscreen the input asks the Keyboard Lock API (Chromium) for Escape while it is open,
 * so Escape closes the input instead of leaving fullscreen; where the API is missing, the
 * browser leaves fullscreen on Escape, and the input closes too.
 *
 * All text from other people goes in with textContent, never as HTML.
 *
 * Public API:
 *   new PartyOverlay({manager, document?, t, timers?, now?, active?, settings?})
 *     active      () => boolean   whether the chat key works now (default: in a room)
 *   .element      the layer (mounted in document.body, or in the fullscreen element)
 *   .openInput() / .closeInput() / .inputOpen
 *   .board        the NoticeBoard
 *   .destroy()
 *
 * @module ui/overlay
 */

import { h } from './dom.js';
import { injectStyles } from './styles.js';
import { positionOverlay } from './placement.js';
import { NoticeBoard, memberNotices, queueNotice, stateNotice } from './notices.js';
import { MAX_CHAT_CHARS } from '../core/protocol.js';

/** How it behaves; each value with why. */
export const OVERLAY_SETTINGS = Object.freeze({
  /** A chat line stays this long over the video (ms): a two-line message read twice. */
  chatShowMs: 7000,
  /** Its fade-out (ms), matching the CSS transition. */
  chatFadeMs: 600,
  /** Most chat lines over the video at once: more would reach down towards the subtitles. */
  chatMaxLines: 5,
  /** A reaction floats this long (ms), matching the CSS animation. */
  reactionMs: 2500,
  /** Most reactions floating at once: a flood of them stays a handful of nodes. */
  reactionMax: 12,
  /** A notice stays at least this long before the next replaces it (ms). */
  noticeMinMs: 1500,
  /** and this long when nothing follows (ms). */
  noticeHoldMs: 4000,
  /** Most notices waiting their turn (older ones are dropped). */
  noticeMaxPending: 3,
});

/** @param {EventTarget|null} target */
function isTyping(target) {
  const el = /** @type {HTMLElement|null} */ (target);
  if (!el || typeof el.closest !== 'function') return false;
  return Boolean(el.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]'));
}

export class PartyOverlay {
  /**
   * @param {{manager: import('../core/manager.js').Manager, document?: Document,
   *   t: (key: string, vars?: Record<string, string|number>) => string,
   *   timers?: {setTimeout: Function, clearTimeout: Function}, now?: () => number,
   *   active?: () => boolean, settings?: typeof OVERLAY_SETTINGS}} deps
   */
  constructor({ manager, document = globalThis.document, t, timers = globalThis, now = () => Date.now(), active = () => true, settings = OVERLAY_SETTINGS }) {
    this.m = manager;
    this.doc = document;
    this.t = t;
    this.timers = timers;
    this.active = active;
    this.settings = settings;
    injectStyles(document);
    const d = document;
    this.noticeEl = h(d, 'div', { class: 'matinee-notice', role: 'status', 'aria-live': 'polite', hidden: true });
    // The panel's chat log is the one read out by screen readers; this is its echo.
    this.feedEl = h(d, 'ol', { class: 'matinee-chat-feed', 'aria-hidden': 'true' });
    this.floatEl = h(d, 'div', { class: 'matinee-float', 'aria-hidden': 'true' });
    this.input = /** @type {HTMLInputElement} */ (h(d, 'input', {
      class: 'matinee-chat-overlay-input', maxlength: MAX_CHAT_CHARS, autocomplete: 'off',
      enterkeyhint: 'send', placeholder: t('chatOverlayPlaceholder'), 'aria-label': t('chat'),
    }));
    this.form = h(d, 'form', { class: 'matinee-chat-overlay-form', hidden: true, onsubmit: (/** @type {Event} */ e) => { e.preventDefault(); this._send(); } }, [this.input]);
    this.element = h(d, 'div', { class: 'matinee-overlay', hidden: true }, [this.noticeEl, this.feedEl, this.form, this.floatEl]);
    this.inputOpen = false;
    /** @type {HTMLElement|null} */
    this._returnFocus = null;

    this.board = new NoticeBoard({
      timers, now, minMs: settings.noticeMinMs, holdMs: settings.noticeHoldMs, maxPending: settings.noticeMaxPending,
      show: (n) => {
        this.noticeEl.textContent = n ? n.text : '';
        this.noticeEl.hidden = !n;
        if (n) this._place();
      },
    });

    // Keys typed in the input are not jellyfin-web's shortcuts (its OSD listens on document).
    for (const type of ['keydown', 'keyup', 'keypress']) {
      this.form.addEventListener(type, (e) => {
        e.stopPropagation();
        if (type === 'keydown' && /** @type {KeyboardEvent} */ (e).key === 'Escape') {
          e.preventDefault();
          this.closeInput();
        }
      });
    }
    this.input.addEventListener('blur', () => { if (!this.input.value.trim()) this.closeInput(false); });

    this._onKey = (/** @type {KeyboardEvent} */ e) => {
      if (e.key !== 'c' && e.key !== 'C') return;
      if (e.ctrlKey || e.altKey || e.metaKey || e.repeat || this.inputOpen) return;
      if (!this.m.room || isTyping(e.target) || isTyping(this.doc.activeElement) || !this.active()) return;
      e.preventDefault(); // the `c` is not typed into the input about to take the focus
      e.stopPropagation();
      this.openInput();
    };
    document.addEventListener('keydown', this._onKey, true);
    this._onFullscreen = () => { this._mount(); if (!this.doc.fullscreenElement) this._unlockEscape(); };
    document.addEventListener('fullscreenchange', this._onFullscreen);
    this._onResize = () => this._place();
    document.defaultView?.addEventListener('resize', this._onResize);

    /** What the last notice was derived from. @type {any} */
    this._lastState = null;
    /** @type {{host: string, you: string, members: any[]}|null} */
    this._lastMembers = null;
    /** The queue before the last `queue` message. @type {any[]} */
    this._lastQueue = [];
    const m = this.m;
    this._offs = [
      m.on('room', (room) => { this._baseline(room); this._render(); }),
      m.on('state', (st) => this._onState(st)),
      m.on('members', () => this._onMembers()),
      m.on('queue', (q) => this._onQueue(q)),
      m.on('chat', (entry) => this._appendChat(entry)),
      m.on('reaction', (r) => this._float(r)),
      m.on('left', () => this._reset()),
    ];
    this._mount();
    if (m.room) this._baseline(m.room);
    this._render();
  }

  /** In the fullscreen element when there is one that can hold it, else in the body. */
  _mount() {
    const fs = this.doc.fullscreenElement;
    const host = fs && fs.tagName !== 'VIDEO' ? fs : this.doc.body;
    if (host && this.element.parentNode !== host) {
      const hadFocus = this.inputOpen && this.doc.activeElement === this.input;
      host.append(this.element);
      if (hadFocus) this.input.focus();
    }
    this._place();
  }

  _place() {
    if (!this.element.hidden && this.element.isConnected) positionOverlay(this.element, this.doc);
  }

  _render() {
    this.element.hidden = !this.m.room;
    this._place();
  }

  /** @param {{host: string, you: string, members: any[], state: any}} room */
  _baseline(room) {
    this._lastState = room.state || null;
    this._lastMembers = { host: room.host, you: room.you, members: [...(room.members || [])] };
  }

  /** @param {any} st */
  _onState(st) {
    const room = this.m.room;
    if (!room) return;
    this.board.push(stateNotice(this._lastState, st, room, this.t));
    this._lastState = st;
  }

  /** @param {{items: any[], change: string, by: string|null}} q */
  _onQueue(q) {
    const room = this.m.room;
    if (!room) return;
    if (q.change !== 'room') this.board.push(queueNotice(this._lastQueue, q, room, this.t));
    this._lastQueue = [...q.items];
  }

  _onMembers() {
    const room = this.m.room;
    if (!room) return;
    const now = { host: room.host, you: room.you, members: [...room.members] };
    for (const n of memberNotices(this._lastMembers, now, this.t)) this.board.push(n);
    this._lastMembers = now;
  }

  /** @param {{from: string, name: string, text: string}} entry */
  _appendChat(entry) {
    const d = this.doc;
    const li = h(d, 'li', { class: 'matinee-chat-feed-line', 'data-from': String(entry.from ?? '') }, [
      h(d, 'span', { class: 'matinee-chat-name', text: String(entry.name ?? '') }),
      h(d, 'span', { class: 'matinee-chat-text', text: String(entry.text ?? '') }),
    ]);
    this.feedEl.append(li);
    while (this.feedEl.childElementCount > this.settings.chatMaxLines) this.feedEl.firstElementChild?.remove();
    this._place();
    this.timers.setTimeout(() => {
      li.classList.add('matinee-fading');
      this.timers.setTimeout(() => li.remove(), this.settings.chatFadeMs);
    }, this.settings.chatShowMs);
  }

  /** @param {{emoji: string}} r */
  _float(r) {
    const el = h(this.doc, 'span', { class: 'matinee-float-emoji', text: String(r.emoji ?? '') });
    this.floatEl.append(el);
    while (this.floatEl.childElementCount > this.settings.reactionMax) this.floatEl.firstElementChild?.remove();
    this.timers.setTimeout(() => el.remove(), this.settings.reactionMs);
  }

  openInput() {
    if (!this.m.room) return;
    this._mount();
    const active = this.doc.activeElement;
    this._returnFocus = active instanceof HTMLElement && active !== this.doc.body ? active : null;
    this.inputOpen = true;
    this.form.hidden = false;
    this._place();
    this.input.focus();
    if (this.doc.fullscreenElement) {
      /** @type {any} */ (globalThis.navigator)?.keyboard?.lock?.(['Escape']).catch(() => {});
    }
  }

  /** @param {boolean} [restoreFocus] */
  closeInput(restoreFocus = true) {
    if (!this.inputOpen) return;
    this.inputOpen = false;
    this.form.hidden = true;
    this.input.value = '';
    this._unlockEscape();
    if (this.doc.activeElement === this.input) this.input.blur();
    if (restoreFocus && this._returnFocus?.isConnected) this._returnFocus.focus();
    this._returnFocus = null;
  }

  _unlockEscape() {
    try { /** @type {any} */ (globalThis.navigator)?.keyboard?.unlock?.(); } catch { /* not supported */ }
  }

  _send() {
    try {
      if (this.m.chat(this.input.value) || !this.input.value.trim()) this.closeInput();
    } catch (e) {
      const err = /** @type {any} */ (e);
      const key = `err_${err?.code}`;
      const text = this.t(key);
      this.board.push({ key: 'error', text: text === key ? this.t('err_generic', { message: err?.message || String(err?.code) }) : text });
    }
  }

  _reset() {
    this.closeInput(false);
    this.board.clear();
    this.feedEl.replaceChildren();
    this.floatEl.replaceChildren();
    this._lastState = null;
    this._lastMembers = null;
    this._render();
  }

  destroy() {
    this.closeInput(false);
    this.board.clear();
    for (const off of this._offs) off();
    this.doc.removeEventListener('keydown', this._onKey, true);
    this.doc.removeEventListener('fullscreenchange', this._onFullscreen);
    this.doc.defaultView?.removeEventListener('resize', this._onResize);
    this.element.remove();
  }
}
