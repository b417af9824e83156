// @ts-check
/**
 * The "Watch on…" part of the watch-party panel: lists the member's own controllable Jellyfin
 * sessions (like jellyfin-web's "Play on" menu, but only the user's own) and starts or stops a
 * remote seat on one. The panel mounts `.element` in its room view and asks `memberInfo()`
 * how to show the seat in the member list. Device names come from Jellyfin and go in with
 * textContent only. Its rules are in ui/styles.js, injected with the panel's.
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

import { h } from '../ui/dom.js';

/** remote-sync status → i18n key. */
const STATUS_KEYS = {
  idle: 'remoteStatusIdle', loading: 'remoteStatusLoading', syncing: 'remoteStatusSyncing', in_sync: 'remoteStatusInSync',
  close: 'remoteStatusClose', not_responding: 'remoteStatusNotResponding', gone: 'remoteStatusGone',
  refused: 'remoteStatusRefused', signed_out: 'remoteStatusSignedOut', bad_item: 'remoteStatusBadItem',
  limited: 'remoteStatusLimited',
};

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
    this.toggleButton = h(d, 'button', {
      type: 'button', class: 'emby-button matinee-watch-on', 'aria-expanded': 'false', 'aria-controls': 'matinee-watch-on-list',
      onclick: () => this._toggleList(), text: t('watchOn'),
    });
    this.stopButton = h(d, 'button', { type: 'button', class: 'emby-button matinee-watch-here', hidden: true, onclick: () => this.remote.stop(), text: t('watchHere') });
    this.statusEl = h(d, 'span', { class: 'matinee-watch-on-status', role: 'status' });
    this.listEl = h(d, 'ul', { class: 'matinee-watch-on-list', id: 'matinee-watch-on-list', hidden: true, 'aria-label': t('watchOnDevices') });
    this.element = h(d, 'div', { class: 'matinee-watch-on-row' }, [this.toggleButton, this.stopButton, this.statusEl, this.listEl]);
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
    this.listEl.replaceChildren(h(this.doc, 'li', { class: 'matinee-watch-on-empty', text: this.t('watchOnLoading') }));
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
      this.listEl.replaceChildren(h(this.doc, 'li', { class: 'matinee-watch-on-empty', text: this.t('watchOnNone') }));
      return;
    }
    this.listEl.replaceChildren(...targets.map((target) => h(this.doc, 'li', {}, [
      h(this.doc, 'button', {
        type: 'button', class: 'emby-button matinee-watch-on-target', 'data-session': target.id,
        onclick: () => {
          this._closeList();
          try { this.remote.watchOn(target); } catch (e) { this.onError(e); }
        },
      }, [
        h(this.doc, 'span', { class: 'matinee-watch-on-device', text: target.deviceName }),
        ...(target.client && target.client !== target.deviceName ? [h(this.doc, 'span', { class: 'matinee-watch-on-client', text: target.client })] : []),
      ]),
    ])));
  }

  _closeList() {
    this.listOpen = false;
    this.toggleButton.setAttribute('aria-expanded', 'false');
    this.listEl.hidden = true;
  }

  /**
   * The status in words; a `limited` TV (one whose corrections cannot land closer) says how
   * close it gets.
   * @param {string} status @param {number|null} [limitMs]
   */
  _stateText(status, limitMs) {
    return this.t(STATUS_KEYS[status] || 'remoteStatusSyncing', { ms: Math.round(limitMs ?? 0) });
  }

  /** @param {string} status @param {number|null} errorMs @param {number|null} [limitMs] */
  _statusText(status, errorMs, limitMs) {
    const text = this._stateText(status, limitMs);
    if (typeof errorMs === 'number' && Number.isFinite(errorMs) && ['in_sync', 'limited', 'syncing'].includes(status)) {
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
      ? this.t('watchingOn', { device: target.deviceName, status: this._statusText(seat.sync.status, seat.sync.errorMs, seat.sync.limitMs) })
      : '';
    if (seat && ['refused', 'signed_out'].includes(seat.sync.status)) {
      this.onError({ code: seat.sync.error === 'not_your_session' ? 'not_your_session' : 'remote_signed_out' });
    }
  }

  /** @param {string} memberId */
  memberInfo(memberId) {
    const info = this.remote.describe(memberId);
    if (!info) return null;
    return { label: info.label, status: info.status, stateText: this._stateText(info.status, info.limitMs), statusText: this._statusText(info.status, info.errorMs, info.limitMs) };
  }

  destroy() {
    this._off();
    this.element.remove();
  }
}
