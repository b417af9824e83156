// @ts-check
/**
 * The watch-party panel: create a room, show and share its code, join by code, the member
 * list (host badge, RTT, drift, buffering, granted rights), host actions (transfer host, kick,
 * grant or take back the playback and item rights), what this member may do, chat and
 * reactions, clear error messages and a "syncing / in sync" indicator.
 *
 * It renders from the Manager's state and sends only through the Manager; all text from other
 * people (names, chat) goes in with textContent, never as HTML.
 *
 * Public API:
 *   new WatchPartyPanel({manager, document?, lang?, inviteUrl, copy?})
 *     manager     core/manager.js Manager
 *     lang        'en' | 'fr' (fallback: English)
 *     inviteUrl   (code) => string, the link that joins the room when opened
 *     copy        async (text) => void (default: navigator.clipboard.writeText)
 *     onToggle    (isOpen) => void, e.g. to keep the opener's aria-expanded right
 *     remote      optional remote/remote-seats.js RemoteSeats: adds "Watch on…" (the member's
 *                 own Jellyfin sessions) and shows the remote seat in the member list
 *     chatKeyActive  () => boolean: whether the chat key opens the input over the video now
 *     nextUp      optional NextUp (next-up.js): the episode after the current one, offered in
 *                 the queue section
 *                    (default: whenever in a room; inside jellyfin-web: while a video shows)
 *   .element          the panel's root element (insert it anywhere)
 *   .open(anchor?) / .close() / .toggle(anchor?) / .isOpen
 *                     anchor: the button that opened it; the panel opens next to it, clear
 *                     of jellyfin-web's bars, in the theme's colours (ui/placement.js)
 *   .showError(err)   shows a MatineeError-like {code, message} in the panel
 *   .overlay          the party over the video (ui/overlay.js): notices, chat, reactions
 *   .destroy()
 *
 * @module ui/panel
 */

import { leftText, translator } from './i18n.js';
import { injectStyles } from './styles.js';
import { positionPanel } from './placement.js';
import { h } from './dom.js';
import { RemoteSection } from '../remote/panel-section.js';
import { PartyOverlay } from './overlay.js';
import { RIGHTS } from '../core/protocol.js';

const REACTIONS = ['👍', '😂', '😮', '😢', '❤️', '👏'];

/** The strings of each right: its toggle's label, the toggle's description, the badge. */
const RIGHT_KEYS = {
  playback: { label: 'rightPlayback', grant: 'rightPlaybackGrant', badge: 'rightPlaybackBadge' },
  media: { label: 'rightMedia', grant: 'rightMediaGrant', badge: 'rightMediaBadge' },
};

export class WatchPartyPanel {
  /**
   * @param {{manager: import('../core/manager.js').Manager, document?: Document, lang?: string,
   *   inviteUrl: (code: string) => string, copy?: (text: string) => Promise<void>,
   *   onToggle?: (isOpen: boolean) => void, remote?: import('../remote/remote-seats.js').RemoteSeats|null,
   *   chatKeyActive?: () => boolean, nextUp?: import('../next-up.js').NextUp|null}} deps
   */
  constructor({ manager, document = globalThis.document, lang = 'en', inviteUrl, copy, onToggle = () => {}, remote = null, chatKeyActive = () => true, nextUp = null }) {
    this.onToggle = onToggle;
    this.m = manager;
    this.doc = document;
    this.t = translator(lang);
    this.inviteUrl = inviteUrl;
    this.copy = copy || ((text) => globalThis.navigator.clipboard.writeText(text));
    this.isOpen = false;
    /** The button that opened the panel last. @type {Element|null} */
    this._anchor = null;
    /** Places the panel again when the window is resized, while open. @type {(() => void)|null} */
    this._onResize = null;
    /** @type {string|null} */
    this.message = null;
    this.messageKind = 'error';
    injectStyles(document);
    const t = this.t;
    const d = document;

    this.syncEl = h(d, 'span', { class: 'matinee-sync', role: 'status', 'data-status': 'idle', text: t('syncIdle') });
    this.connEl = h(d, 'div', { class: 'matinee-conn', 'aria-live': 'polite' });
    this.alertEl = h(d, 'div', { class: 'matinee-alert', role: 'alert', hidden: true });

    // Lobby: create or join.
    this.codeInput = /** @type {HTMLInputElement} */ (h(d, 'input', {
      class: 'emby-input matinee-code-input', id: 'matinee-join-code', name: 'code', autocomplete: 'off',
      autocapitalize: 'characters', spellcheck: 'false', maxlength: 12, placeholder: t('codePlaceholder'),
    }));
    this.lobbyEl = h(d, 'div', { class: 'matinee-lobby' }, [
      h(d, 'button', { type: 'button', class: 'raised button-submit emby-button matinee-create', onclick: () => this._create(), text: t('createRoom') }),
      h(d, 'form', { class: 'matinee-join', onsubmit: (e) => { e.preventDefault(); this._join(); } }, [
        h(d, 'label', { for: 'matinee-join-code', text: t('roomCode') }),
        this.codeInput,
        h(d, 'button', { type: 'submit', class: 'raised emby-button matinee-join-button', text: t('joinRoom') }),
      ]),
    ]);

    // In a room.
    this.roomCodeEl = h(d, 'strong', { class: 'matinee-room-code', 'aria-label': t('yourRoom') });
    this.membersEl = h(d, 'ul', { class: 'matinee-members', 'aria-label': t('members') });
    /** The lobby's ready check: ask (whoever drives playback, while paused), or answer. */
    this.readyEl = h(d, 'div', { class: 'matinee-ready', role: 'group', 'aria-label': t('readyAsk') }, [
      h(d, 'button', { type: 'button', class: 'emby-button matinee-ready-check', title: t('readyAskTitle'), onclick: () => this._act(() => this.m.readyCheck({ start: true })), text: t('readyAsk') }),
      h(d, 'span', { class: 'matinee-ready-progress', 'aria-live': 'polite' }),
      h(d, 'button', { type: 'button', class: 'emby-button matinee-ready-yes', onclick: () => this._act(() => this.m.ready(true)), text: t('readyYes') }),
      h(d, 'button', { type: 'button', class: 'emby-button matinee-ready-no', onclick: () => this._act(() => this.m.ready(false)), text: t('readyNo') }),
    ]);
    /** The queue: what plays next, for everyone; changed by whoever may change the item. */
    this.nextUp = nextUp;
    this.queueEl = h(d, 'ol', { class: 'matinee-queue', 'aria-label': t('queue') });
    this.queueEmptyEl = h(d, 'p', { class: 'matinee-queue-empty', text: t('queueEmpty') });
    this.queueActionsEl = h(d, 'div', { class: 'matinee-queue-actions' });
    /** What this member may do in the room (host, shared control, the host's grants). */
    this.yourRightsEl = h(d, 'p', { class: 'matinee-your-rights', 'aria-live': 'polite' });
    this.chatLogEl = h(d, 'ol', { class: 'matinee-chat-log', 'aria-live': 'polite', 'aria-label': t('chat') });
    this.chatInput = /** @type {HTMLInputElement} */ (h(d, 'input', {
      class: 'emby-input matinee-chat-input', maxlength: 500, placeholder: t('chatPlaceholder'), 'aria-label': t('chat'),
    }));
    this.reactionsEl = h(d, 'div', { class: 'matinee-reactions', role: 'group', 'aria-label': t('reactions') },
      REACTIONS.map((emoji) => h(d, 'button', { type: 'button', class: 'matinee-reaction', 'aria-label': emoji, onclick: () => this.m.react(emoji), text: emoji })));
    /** "Watch on…" (remote seats), when the page can reach Jellyfin's Sessions API. */
    this.remote = remote ? new RemoteSection({ remote, document: d, t, onError: (e) => this.showError(e) }) : null;
    if (this.remote) remote.on('change', () => this._renderMembers());
    this.roomEl = h(d, 'div', { class: 'matinee-room', hidden: true }, [
      h(d, 'div', { class: 'matinee-code-row' }, [
        h(d, 'span', { class: 'matinee-code-label', text: t('yourRoom') }),
        this.roomCodeEl,
        h(d, 'button', { type: 'button', class: 'emby-button matinee-copy-code', onclick: (e) => this._copy(this.m.room?.code || '', e.currentTarget), text: t('copyCode') }),
        h(d, 'button', { type: 'button', class: 'emby-button matinee-copy-link', onclick: (e) => this._copy(this.m.room ? this.inviteUrl(this.m.room.code) : '', e.currentTarget), text: t('copyLink') }),
      ]),
      this.remote ? this.remote.element : null,
      h(d, 'h3', { class: 'matinee-heading', text: t('members') }),
      this.yourRightsEl,
      this.readyEl,
      this.membersEl,
      h(d, 'h3', { class: 'matinee-heading', text: t('queue') }),
      this.queueEl,
      this.queueEmptyEl,
      this.queueActionsEl,
      h(d, 'h3', { class: 'matinee-heading', text: t('chat') }),
      this.chatLogEl,
      h(d, 'form', { class: 'matinee-chat-form', onsubmit: (e) => { e.preventDefault(); this._sendChat(); } }, [
        this.chatInput,
        h(d, 'button', { type: 'submit', class: 'emby-button matinee-chat-send', text: t('send') }),
      ]),
      this.reactionsEl,
      h(d, 'button', { type: 'button', class: 'emby-button matinee-leave', onclick: () => this.m.leaveRoom(), text: t('leave') }),
    ]);

    this.element = h(d, 'section', { class: 'matinee-panel', role: 'dialog', 'aria-label': t('watchParty'), hidden: true }, [
      h(d, 'header', { class: 'matinee-header' }, [
        h(d, 'h2', { class: 'matinee-title', text: t('watchParty') }),
        this.syncEl,
        h(d, 'button', { type: 'button', class: 'paper-icon-button-light matinee-close', 'aria-label': t('close'), title: t('close'), onclick: () => this.close(), text: '✕' }),
      ]),
      this.connEl,
      this.alertEl,
      this.lobbyEl,
      this.roomEl,
    ]);
    this.element.addEventListener('keydown', (e) => {
      if (/** @type {KeyboardEvent} */ (e).key === 'Escape') {
        e.stopPropagation();
        this.close();
      }
    });

    const m = this.m;
    this._offs = [
      m.on('connection', (status) => this._renderConnection(status)),
      m.on('room', () => { this._clearMessage(); this.render(); }),
      m.on('members', () => { this._renderMembers(); this._renderQueue(); }),
      m.on('queue', () => this._renderQueue()),
      m.on('state', () => { this._renderSync(); this._renderReady(); this._renderQueue(); }),
      m.on('ready_check', () => this._renderReady()),
      m.on('ready_result', (r) => { this._renderReady(); this._readyResult(r); }),
      m.on('sync', () => this._renderSync()),
      m.on('chat', (entry) => this._appendChat(entry)),
      m.on('left', (reason) => { this._setMessage(leftText(this.t, reason), reason === 'left' ? 'info' : 'error'); this.render(); }),
      m.on('error', (err) => this.showError(err)),
      m.on('notice', (err) => this.showError(err)),
    ];
    if (nextUp) this._offs.push(nextUp.on('change', () => this._renderQueue()));
    // Over the video: who did what, chat and reactions, the chat key (ui/overlay.js).
    this.overlay = new PartyOverlay({ manager, document, t, active: chatKeyActive });
    this.render();
  }

  /** @param {Element|null} [anchor] the button that opened it */
  open(anchor = null) {
    if (anchor) this._anchor = anchor;
    // Give the focus back where it was when the panel closes (keyboard users).
    const active = this.doc.activeElement;
    if (!this.isOpen && active && !this.element.contains(active)) this._returnFocus = /** @type {HTMLElement} */ (active);
    this.isOpen = true;
    this.element.hidden = false;
    this.render();
    this._place();
    const view = this.doc.defaultView;
    if (view && !this._onResize) {
      this._onResize = () => this._place();
      view.addEventListener('resize', this._onResize);
    }
    this.onToggle(true);
    const first = /** @type {HTMLElement|null} */ (this.element.querySelector(this.m.room ? '.matinee-chat-input' : '.matinee-create'));
    first?.focus();
  }

  /**
   * Moves an open panel next to `anchor` (a Watch party button that just appeared: the video
   * OSD's, once a page with the player is shown); a closed panel only remembers it.
   * @param {Element} anchor
   */
  reanchor(anchor) {
    this._anchor = anchor;
    this._place();
  }

  /** Next to the button that opened it, clear of jellyfin-web's bars (ui/placement.js). */
  _place() {
    if (this.isOpen) positionPanel(this.element, this._anchor || null, this.doc);
  }

  close() {
    const hadFocus = this.element.contains(this.doc.activeElement);
    this.isOpen = false;
    this.element.hidden = true;
    if (this._onResize) this.doc.defaultView?.removeEventListener('resize', this._onResize);
    this._onResize = null;
    this.onToggle(false);
    if (hadFocus && this._returnFocus?.isConnected) this._returnFocus.focus();
  }

  /** @param {Element|null} [anchor] */
  toggle(anchor = null) {
    if (this.isOpen) this.close();
    else this.open(anchor);
  }

  /** @param {{code?: string, message?: string}} err */
  showError(err) {
    const code = err && err.code;
    const key = `err_${code}`;
    const text = this.t(key);
    this._setMessage(text === key ? this.t('err_generic', { message: err?.message || String(code) }) : text, 'error');
  }

  _setMessage(text, kind) {
    this.message = text;
    this.messageKind = kind;
    this.alertEl.textContent = text;
    this.alertEl.dataset.kind = kind;
    this.alertEl.hidden = !text;
  }

  _clearMessage() {
    this._setMessage('', 'info');
    this.alertEl.hidden = true;
  }

  async _create() {
    this._clearMessage();
    try {
      await this.m.createRoom();
    } catch (e) {
      this.showError(/** @type {any} */ (e));
    }
  }

  async _join() {
    this._clearMessage();
    try {
      await this.m.joinRoom(this.codeInput.value);
      this.codeInput.value = '';
    } catch (e) {
      this.showError(/** @type {any} */ (e));
      this.codeInput.focus();
    }
  }

  _sendChat() {
    try {
      if (this.m.chat(this.chatInput.value)) this.chatInput.value = '';
    } catch (e) {
      this.showError(/** @type {any} */ (e));
    }
  }

  async _copy(text, button) {
    if (!text) return;
    try {
      await this.copy(text);
      const old = button.textContent;
      button.textContent = this.t('copied');
      setTimeout(() => { button.textContent = old; }, 1500);
    } catch {
      // Clipboard refused (insecure origin): select the code so it can be copied by hand.
      const sel = this.doc.getSelection?.();
      if (sel) {
        const range = this.doc.createRange();
        range.selectNodeContents(this.roomCodeEl);
        sel.removeAllRanges();
        sel.addRange(range);
      }
    }
  }

  render() {
    const room = this.m.room;
    this.lobbyEl.hidden = Boolean(room);
    this.roomEl.hidden = !room;
    this.element.dataset.inRoom = room ? 'true' : 'false';
    if (room) {
      this.roomCodeEl.textContent = room.code;
      this._renderMembers();
      this._renderQueue();
      this.chatLogEl.replaceChildren();
      for (const entry of this.m.chatLog) this._appendChat(entry);
    }
    this._renderConnection(this.m.connection.status);
    this._renderSync();
  }

  _renderConnection(status) {
    const key = { connecting: 'connConnecting', reconnecting: 'connReconnecting', closed: 'connClosed' }[status];
    this.connEl.textContent = key ? this.t(key) : '';
    this.connEl.hidden = !key;
    this.element.dataset.connection = status;
  }

  _renderSync() {
    const room = this.m.room;
    let status = 'idle';
    let text = this.t('syncIdle');
    if (room) {
      status = this.m.core.sync.status;
      if (status === 'in_sync') text = this.t('syncInSync');
      else if (status === 'blocked') text = this.t('syncBlocked');
      else if (status === 'no_media') text = this.t('syncNoMedia');
      else if (status === 'waiting') {
        const ids = room.state.waiting_for || [];
        const names = ids.map((id) => room.members.find((x) => x.id === id)?.name || '?').join(', ');
        text = this.t('syncWaiting', { names });
      } else text = this.t('syncSyncing');
    }
    this.syncEl.dataset.status = status;
    if (this.syncEl.textContent !== text) this.syncEl.textContent = text;
  }

  _renderMembers() {
    const room = this.m.room;
    if (!room) return;
    const d = this.doc;
    const t = this.t;
    const isHost = this.m.isHost;
    // `members` arrives up to twice a second: rebuild only what is visible changed, so a
    // button under the pointer or the keyboard focus is not replaced under it.
    this._renderYourRights();
    this._renderReady();
    const signature = JSON.stringify([room.host, room.you, isHost, room.members.map((x) => [
      x.id, x.name, x.buffering, x.connected, this.m.rightsOf(x.id), x.ready ?? null, x.rtt_ms == null ? null : Math.round(x.rtt_ms),
      x.error_ms == null ? null : Math.round(x.error_ms), this.remote?.memberInfo(x.id)?.stateText ?? null])]);
    if (signature === this._membersSignature && this.membersEl.childElementCount) return;
    this._membersSignature = signature;
    const rows = room.members.map((mem) => {
      const badges = [];
      if (mem.id === room.host) badges.push(h(d, 'span', { class: 'matinee-badge matinee-badge-host', text: t('host') }));
      if (mem.id === room.you) badges.push(h(d, 'span', { class: 'matinee-badge matinee-badge-you', text: t('you') }));
      if (mem.buffering) badges.push(h(d, 'span', { class: 'matinee-badge matinee-badge-buffering', text: t('buffering') }));
      if (mem.connected === false) badges.push(h(d, 'span', { class: 'matinee-badge matinee-badge-away', text: t('disconnected') }));
      if (mem.ready === true) badges.push(h(d, 'span', { class: 'matinee-badge matinee-badge-ready', text: t('readyBadge') }));
      if (mem.ready === false) badges.push(h(d, 'span', { class: 'matinee-badge matinee-badge-not-ready', text: t('notReadyBadge') }));
      const granted = this.m.rightsOf(mem.id);
      if (mem.id !== room.host) {
        for (const r of granted) badges.push(h(d, 'span', { class: `matinee-badge matinee-badge-right matinee-badge-${r}`, text: t(RIGHT_KEYS[r].badge) }));
      }
      // This member's own remote seat (the TV it drives): named after the device, with its state.
      const remoteInfo = this.remote?.memberInfo(mem.id) || null;
      if (remoteInfo) badges.push(h(d, 'span', { class: 'matinee-badge matinee-badge-remote', 'data-status': remoteInfo.status, text: `${t('remoteSeat')}: ${remoteInfo.label}` }));
      const stats = [];
      if (remoteInfo) stats.push(remoteInfo.stateText);
      if (typeof mem.rtt_ms === 'number') stats.push(t('rtt', { ms: Math.round(mem.rtt_ms) }));
      if (typeof mem.error_ms === 'number') stats.push(t('drift', { ms: (mem.error_ms >= 0 ? '+' : '') + Math.round(mem.error_ms) }));
      const actions = isHost && mem.id !== room.you ? [
        // A TV cannot host (its seat would hand the role straight back).
        remoteInfo ? null : h(d, 'button', { type: 'button', class: 'emby-button matinee-make-host', 'aria-label': `${t('makeHost')}: ${mem.name}`, onclick: () => this._act(() => this.m.transferHost(mem.id)), text: t('makeHost') }),
        h(d, 'button', { type: 'button', class: 'emby-button matinee-kick', 'aria-label': `${t('kick')}: ${mem.name}`, onclick: () => this._act(() => this.m.kick(mem.id)), text: t('kick') }),
        // Grant or take back each right: a toggle per right, its state in aria-pressed.
        ...RIGHTS.map((r) => {
          const on = granted.includes(r);
          const next = on ? granted.filter((x) => x !== r) : [...granted, r];
          return h(d, 'button', {
            type: 'button', class: `emby-button matinee-right matinee-right-${r}`, 'aria-pressed': on ? 'true' : 'false',
            'aria-label': t(RIGHT_KEYS[r].grant, { name: mem.name }), title: t(RIGHT_KEYS[r].grant, { name: mem.name }),
            onclick: () => this._act(() => this.m.setRights(mem.id, next)), text: t(RIGHT_KEYS[r].label),
          });
        }),
      ] : [];
      return h(d, 'li', { class: 'matinee-member', 'data-member': mem.id }, [
        h(d, 'div', { class: 'matinee-member-main' }, [
          h(d, 'span', { class: 'matinee-member-name', text: mem.name }),
          ...badges,
        ]),
        h(d, 'div', { class: 'matinee-member-actions' }, actions),
        h(d, 'div', { class: 'matinee-member-stats', text: stats.join(' · ') }),
      ]);
    });
    this.membersEl.replaceChildren(...rows);
  }

  /** The queue, with its controls for whoever may change the item; the next-up offer. */
  _renderQueue() {
    const room = this.m.room;
    if (!room) return;
    const d = this.doc;
    const t = this.t;
    const items = this.m.queue;
    const may = this.m.can('media');
    const next = this.nextUp?.suggestion || null;
    const offer = may && next && !items.some((x) => x.id === next.id) && next.id !== room.state?.media?.id ? next : null;
    const signature = JSON.stringify([may, items.map((x) => [x.id, x.title ?? null]), offer?.id ?? null, offer?.title ?? null]);
    if (signature === this._queueSignature) return;
    this._queueSignature = signature;
    const titleOf = (/** @type {{id: string, title?: string}} */ x) => x.title || t('queueUntitled');
    this.queueEl.replaceChildren(...items.map((x, i) => h(d, 'li', { class: 'matinee-queue-item', 'data-media': x.id }, [
      h(d, 'span', { class: 'matinee-queue-title', text: titleOf(x) }),
      ...(may ? [
        h(d, 'button', { type: 'button', class: 'emby-button matinee-queue-up', disabled: i === 0, 'aria-label': t('queueItemUp', { title: titleOf(x) }), title: t('queueUp'), onclick: () => this._act(() => this.m.queueMove(x.id, i - 1)), text: '▲' }),
        h(d, 'button', { type: 'button', class: 'emby-button matinee-queue-down', disabled: i === items.length - 1, 'aria-label': t('queueItemDown', { title: titleOf(x) }), title: t('queueDown'), onclick: () => this._act(() => this.m.queueMove(x.id, i + 1)), text: '▼' }),
        h(d, 'button', { type: 'button', class: 'emby-button matinee-queue-remove', 'aria-label': t('queueItemRemove', { title: titleOf(x) }), title: t('queueRemove'), onclick: () => this._act(() => this.m.queueRemove(x.id)), text: '✕' }),
      ] : []),
    ])));
    this.queueEl.hidden = !items.length;
    this.queueEmptyEl.hidden = items.length > 0;
    const actions = [];
    if (offer) actions.push(h(d, 'button', { type: 'button', class: 'emby-button matinee-queue-next-up', onclick: () => this._act(() => this.m.queueAdd(offer)), text: t('queueAddNextUp', { title: titleOf(offer) }) }));
    if (may && items.length) actions.push(h(d, 'button', { type: 'button', class: 'emby-button matinee-queue-clear', onclick: () => this._act(() => this.m.queueClear()), text: t('queueClear') }));
    this.queueActionsEl.replaceChildren(...actions);
    this.queueActionsEl.hidden = !this.queueActionsEl.childElementCount;
  }

  /** The ready check row: "Ready?" for whoever may ask while paused; the answers during one. */
  _renderReady() {
    const room = this.m.room;
    if (!room) return;
    const check = this.m.readyState;
    const [ask, progress, yes, no] = /** @type {HTMLElement[]} */ ([...this.readyEl.children]);
    ask.hidden = Boolean(check) || room.state.playing || !this.m.can('playback');
    progress.hidden = yes.hidden = no.hidden = !check;
    this.readyEl.hidden = ask.hidden && !check;
    if (check) {
      const connected = room.members.filter((x) => x.connected !== false);
      progress.textContent = this.t('readyProgress', { ready: connected.filter((x) => x.ready === true).length, total: connected.length });
      const mine = room.members.find((x) => x.id === room.you)?.ready;
      yes.setAttribute('aria-pressed', mine === true ? 'true' : 'false');
      no.setAttribute('aria-pressed', mine === false ? 'true' : 'false');
    }
  }

  /** @param {{result: string, no_answer: string[]}} r */
  _readyResult(r) {
    const names = r.no_answer.map((id) => this.m.room?.members.find((x) => x.id === id)?.name || '?').join(', ');
    const key = { all_ready: 'readyAllReady', timeout: 'readyTimeout', started: 'readyStarted', cancelled: 'readyCancelled' }[r.result];
    if (key) this._setMessage(this.t(key, { names }), 'info');
  }

  /** One line on what this member may do; the panel offers nothing it may not. */
  _renderYourRights() {
    const room = this.m.room;
    if (!room) return;
    let key = 'yourRightsNone';
    if (this.m.isHost) key = 'yourRightsHost';
    else if (room.settings?.control === 'shared') key = 'yourRightsShared';
    else {
      const mine = this.m.rightsOf(room.you);
      if (mine.length === 2) key = 'yourRightsBoth';
      else if (mine.length === 1) key = mine[0] === 'playback' ? 'yourRightsPlayback' : 'yourRightsMedia';
    }
    this.yourRightsEl.dataset.rights = key;
    const text = this.t(key);
    if (this.yourRightsEl.textContent !== text) this.yourRightsEl.textContent = text;
  }

  _act(fn) {
    try {
      fn();
    } catch (e) {
      this.showError(/** @type {any} */ (e));
    }
  }

  _appendChat(entry) {
    const d = this.doc;
    const li = h(d, 'li', { class: 'matinee-chat-line' }, [
      h(d, 'span', { class: 'matinee-chat-name', text: entry.name }),
      h(d, 'span', { class: 'matinee-chat-text', text: entry.text }),
    ]);
    this.chatLogEl.append(li);
    while (this.chatLogEl.childElementCount > 200) this.chatLogEl.firstElementChild?.remove();
    this.chatLogEl.scrollTop = this.chatLogEl.scrollHeight;
  }

  destroy() {
    if (this.isOpen) this.close();
    for (const off of this._offs) off();
    this.remote?.destroy();
    this.overlay.destroy();
    this.element.remove();
  }
}
