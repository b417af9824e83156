// @ts-check
/**
 * The "Watch on…" part of the watch-party panel: lists the member's own controllable Jellyfin
 * sessions (like jellyfin-web's "Play on" menu, but only the user's own) and starts or stops a
 * remote seat on one. The panel mounts `.element` in its room view and asks `memberInfo()`
 * how to show the seat in the member list. Device names come from Jellyfin and go in with
 * textContent only.
 *
 * Public API:
 *   new RemoteSection({remote, document, t, onError})
 *     remote   a RemoteSeats
 *     t        the panel's translator (ui/i18n.js)
 *     onError  (err) => void, shown by the panel like its own errors
 *   .element
 *   .memberInfo(memberId) → {label, status, stateText, statusText}|null   (statusText adds
 *                            the seat's own error estimate; the member list shows the server's)
 *   .render() / .destroy()
 *
 * @module remote/panel-section
 */

/** @param {Document} d @param {string} tag @param {Record<string, any>} [attrs] @param {(Node|string)[]} [children] */
function el(d, tag, attrs = {}, children = []) {
  const e = d.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) e.append(typeof c === 'string' ? d.createTextNode(c) : c);
  return e;
}

/** remote-sync status → i18n key. */
const STATUS_KEYS = {
  idle: 'remoteStatusIdle', loading: 'remoteStatusLoading', syncing: 'remoteStatusSyncing', in_sync: 'remoteStatusInSync',
  close: 'remoteStatusClose', not_responding: 'remoteStatusNotResponding', gone: 'remoteStatusGone',
  refused: 'remoteStatusRefused', signed_out: 'remoteStatusSignedOut', bad_item: 'remoteStatusBadItem',
};

/** Layout only; colours come from the panel's custom properties (ui/styles.js). */
const CSS = `
.matinee-watch-on-row { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4em; margin: 0.6em 0; }
.matinee-watch-on-status { font-size: 0.9em; color: var(--matinee-muted, #aaa); flex-basis: 100%; }
.matinee-watch-on-row[data-remote="in_sync"] .matinee-watch-on-status { color: var(--matinee-ok, #4caf50); }
.matinee-watch-on-row[data-remote="not_responding"] .matinee-watch-on-status,
.matinee-watch-on-row[data-remote="gone"] .matinee-watch-on-status { color: var(--matinee-warn, #ffb300); }
.matinee-watch-on-list { list-style: none; margin: 0; padding: 0; flex-basis: 100%; }
.matinee-watch-on-list li { margin: 0.2em 0; }
.matinee-watch-on-target { width: 100%; text-align: left; display: flex; justify-content: space-between; gap: 0.6em; }
.matinee-watch-on-client { color: var(--matinee-muted, #aaa); font-size: 0.85em; }
.matinee-watch-on-empty { color: var(--matinee-muted, #aaa); font-size: 0.9em; }
.matinee-badge-remote { background: rgba(0, 164, 220, 0.25); }
`;

/** @param {Document} d */
function injectCss(d) {
  if (d.querySelector('style[data-matinee-remote]')) return;
  const style = d.createElement('style');
  style.setAttribute('data-matinee-remote', '');
  style.textContent = CSS;
  (d.head || d.documentElement).append(style);
}

export class RemoteSection {
  /**
   * @param {{remote: import('./remote-seats.js').RemoteSeats, document: Document,
   *   t: (key: string, vars?: Record<string, string|number>) => string, onError: (e: any) => void}} deps
   */
  constructor({ remote, document, t, onError }) {
    this.remote = remote;
    this.doc = document;
    this.t = t;
    this.onError = onError;
    this.listOpen = false;
    const d = document;
    injectCss(d);
    this.toggleButton = el(d, 'button', {
      type: 'button', class: 'emby-button matinee-watch-on', 'aria-expanded': 'false', 'aria-controls': 'matinee-watch-on-list',
      onclick: () => this._toggleList(), text: t('watchOn'),
    });
    this.stopButton = el(d, 'button', { type: 'button', class: 'emby-button matinee-watch-here', hidden: true, onclick: () => this.remote.stop(), text: t('watchHere') });
    this.statusEl = el(d, 'span', { class: 'matinee-watch-on-status', role: 'status' });
    this.listEl = el(d, 'ul', { class: 'matinee-watch-on-list', id: 'matinee-watch-on-list', hidden: true, 'aria-label': t('watchOnDevices') });
    this.element = el(d, 'div', { class: 'matinee-watch-on-row' }, [this.toggleButton, this.stopButton, this.statusEl, this.listEl]);
    this._off = remote.on('change', () => this.render());
    this.render();
  }

  async _toggleList() {
    if (this.listOpen) {
      this._closeList();
      return;
    }
    this.listOpen = true;
    this.toggleButton.setAttribute('aria-expanded', 'true');
    this.listEl.hidden = false;
    this.listEl.replaceChildren(el(this.doc, 'li', { class: 'matinee-watch-on-empty', text: this.t('watchOnLoading') }));
    let targets;
    try {
      targets = await this.remote.listTargets();
    } catch (e) {
      this._closeList();
      this.onError(e);
      return;
    }
    if (!this.listOpen) return;
    if (!targets.length) {
      this.listEl.replaceChildren(el(this.doc, 'li', { class: 'matinee-watch-on-empty', text: this.t('watchOnNone') }));
      return;
    }
    this.listEl.replaceChildren(...targets.map((target) => el(this.doc, 'li', {}, [
      el(this.doc, 'button', {
        type: 'button', class: 'emby-button matinee-watch-on-target', 'data-session': target.id,
        onclick: () => {
          this._closeList();
          try { this.remote.watchOn(target); } catch (e) { this.onError(e); }
        },
      }, [
        el(this.doc, 'span', { class: 'matinee-watch-on-device', text: target.deviceName }),
        ...(target.client && target.client !== target.deviceName ? [el(this.doc, 'span', { class: 'matinee-watch-on-client', text: target.client })] : []),
      ]),
    ])));
  }

  _closeList() {
    this.listOpen = false;
    this.toggleButton.setAttribute('aria-expanded', 'false');
    this.listEl.hidden = true;
  }

  /** @param {string} status @param {number|null} errorMs */
  _statusText(status, errorMs) {
    const text = this.t(STATUS_KEYS[status] || 'remoteStatusSyncing');
    if (typeof errorMs === 'number' && Number.isFinite(errorMs) && ['in_sync', 'close', 'syncing'].includes(status)) {
      return `${text} (${this.t('drift', { ms: (errorMs >= 0 ? '+' : '') + Math.round(errorMs) })})`;
    }
    return text;
  }

  render() {
    const seat = this.remote.seat;
    const target = this.remote.target;
    this.stopButton.hidden = !seat;
    this.element.dataset.remote = seat ? seat.sync.status : 'none';
    this.statusEl.textContent = seat && target
      ? this.t('watchingOn', { device: target.deviceName, status: this._statusText(seat.sync.status, seat.sync.errorMs) })
      : '';
    if (seat && ['refused', 'signed_out'].includes(seat.sync.status)) {
      this.onError({ code: seat.sync.error === 'not_your_session' ? 'not_your_session' : 'remote_signed_out' });
    }
  }

  /** @param {string} memberId */
  memberInfo(memberId) {
    const info = this.remote.describe(memberId);
    if (!info) return null;
    return { label: info.label, status: info.status, stateText: this.t(STATUS_KEYS[info.status] || 'remoteStatusSyncing'), statusText: this._statusText(info.status, info.errorMs) };
  }

  destroy() {
    this._off();
    this.element.remove();
  }
}
