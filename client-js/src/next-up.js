// @ts-check
/**
 * Next up: when the room plays an episode, the episode that follows it, from Jellyfin, offered
 * in the room's queue. The host's client queues it by default once per item (so the room goes
 * on with the series at the end); the host can remove it, and it is not queued again for that
 * item. The panel shows it as a one-click "Queue …" while it is not queued.
 *
 * Jellyfin calls (Jellyfin.Api/Controllers/TvShowsController.cs and UserLibraryController.cs,
 * 10.10 and 10.11; answers are QueryResult<BaseItemDto> / BaseItemDto):
 *   GET Users/{userId}/Items/{itemId}                    Type, SeriesId, ParentIndexNumber, IndexNumber
 *   GET Shows/NextUp?SeriesId=…&UserId=…&Limit=1          Jellyfin's next up for that series:
 *       the first unplayed episode after the last one the user played
 *       (Emby.Server.Implementations/TV/TVSeriesManager.cs)
 *   GET Shows/{seriesId}/Episodes?UserId=…&StartItemId=…&Limit=2   the episode after this one,
 *       when next up is not after it (nothing played yet, the one playing is "next up", or a
 *       rewatch of an earlier episode)
 *
 * Public API:
 *   nextEpisode(getJSON, userId, itemId) → Promise<Media|null>    getJSON(path) → parsed JSON
 *   new NextUp({manager, lookup})    lookup(mediaId) → Promise<Media|null>
 *     .suggestion (Media|null, for the room's current item)  .on('change', fn)  .destroy()
 *
 * @module next-up
 */

import { Emitter } from './core/emitter.js';

/** @typedef {import('./core/protocol.js').Media} Media */

const TICKS_PER_SECOND = 10_000_000;

/** @param {any} item @returns {Media} */
function mediaOf(item) {
  /** @type {Media} */
  const m = { id: String(item.Id) };
  if (item.Name) m.title = String(item.Name);
  if (Number.isFinite(item.RunTimeTicks) && item.RunTimeTicks > 0) m.duration = item.RunTimeTicks / TICKS_PER_SECOND;
  return m;
}

/** Season then episode number, for "after". @param {any} item */
const order = (item) => [Number(item?.ParentIndexNumber ?? -1), Number(item?.IndexNumber ?? -1)];

/** @param {any} a @param {any} b whether episode a comes after episode b in their series */
function after(a, b) {
  const [sa, ea] = order(a);
  const [sb, eb] = order(b);
  return sa > sb || (sa === sb && ea > eb);
}

/**
 * The episode after `itemId` for the user, or null when it is not an episode or the last one.
 * @param {(path: string) => Promise<any>} getJSON
 * @param {string} userId
 * @param {string} itemId
 * @returns {Promise<Media|null>}
 */
export async function nextEpisode(getJSON, userId, itemId) {
  const enc = encodeURIComponent;
  const item = await getJSON(`Users/${enc(userId)}/Items/${enc(itemId)}`);
  if (!item || item.Type !== 'Episode' || !item.SeriesId) return null;
  const series = enc(String(item.SeriesId));
  const up = await getJSON(`Shows/NextUp?SeriesId=${series}&UserId=${enc(userId)}&Limit=1`);
  const candidate = Array.isArray(up?.Items) ? up.Items[0] : null;
  if (candidate?.Id && String(candidate.Id) !== String(item.Id) && after(candidate, item)) return mediaOf(candidate);
  const eps = await getJSON(`Shows/${series}/Episodes?UserId=${enc(userId)}&StartItemId=${enc(String(item.Id))}&Limit=2`);
  const following = Array.isArray(eps?.Items) ? eps.Items[1] : null;
  return following?.Id ? mediaOf(following) : null;
}

export class NextUp extends Emitter {
  /**
   * @param {{manager: import('./core/manager.js').Manager, lookup: (mediaId: string) => Promise<Media|null>}} o
   */
  constructor({ manager, lookup }) {
    super();
    this.m = manager;
    this.lookup = lookup;
    /** The episode after the room's current item, when known. @type {Media|null} */
    this.suggestion = null;
    /** The item `suggestion` is for (looked up once per item). @type {string|null} */
    this._for = null;
    /** Items whose next up was queued by default already (never twice: the host may remove it). */
    this._offered = new Set();
    const check = () => this._check();
    this._offs = [
      manager.on('room', check),
      manager.on('state', check),
      manager.on('queue', check),
      manager.on('members', check), // a new host offers it too
      manager.on('left', () => { this._for = null; this._set(null); }),
    ];
    check();
  }

  _check() {
    const room = this.m.room;
    const id = room?.state?.media?.id;
    if (!id || !this.m.can('media')) return;
    if (this._for === id) {
      this._offer(id);
      return;
    }
    this._for = id;
    this._set(null);
    this.lookup(id).then((next) => {
      if (this._for !== id) return; // the room moved on meanwhile
      this._set(next);
      this._offer(id);
    }, (e) => console.warn('matinee: no next up', e));
  }

  /** The host queues the next episode by default, once per item, when nothing is queued. @param {string} id */
  _offer(id) {
    const next = this.suggestion;
    if (!next || !this.m.isHost || this._offered.has(id) || this.m.queue.length) return;
    this._offered.add(id);
    try {
      this.m.queueAdd(next);
    } catch (e) {
      console.warn('matinee: could not queue next up', e);
    }
  }

  /** @param {Media|null} s */
  _set(s) {
    if (JSON.stringify(s) === JSON.stringify(this.suggestion)) return;
    this.suggestion = s;
    this.emit('change', s);
  }

  destroy() {
    for (const off of this._offs) off();
  }
}
