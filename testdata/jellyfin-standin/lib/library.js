// Library browsing: items, one item, resume/latest/next-up rows, intros and the empty extras
// jellyfin-web asks for on a details page. Jellyfin.Api/Controllers/ItemsController.cs,
// UserLibraryController.cs (10.10 routes under /Users/{userId}/…, 10.11 adds /Items/{itemId}
// and /UserItems/… forms; both are served), LibraryController.cs, TvShowsController.cs,
// MediaSegmentsController.cs (10.10+), PlaystateController.cs (played items).

import { HttpError, queryGet } from './http.js';
import { itemDto, libraryDto, queryResult, userData } from './dto.js';

/** The request's `Fields` (ItemFields, comma-separated): what list answers add to each item. */
const fieldsOf = (ctx) => (queryGet(ctx.url, 'Fields') || '').split(',').map((x) => x.trim()).filter(Boolean);

/** @param {import('./http.js').Router} router @param {any} state */
export function libraryRoutes(router, state) {
  const item = (id) => {
    const it = state.itemById(id);
    if (!it) throw new HttpError(404, 'Item not found');
    return it;
  };
  const q = (ctx, k) => queryGet(ctx.url, k);

  /** ItemsController.GetItems, with the filters jellyfin-web's pages use. */
  const items = (ctx) => {
    const ids = q(ctx, 'Ids');
    // By id (playbackManager.play({ids}) asks so), episodes are found too.
    let list = ids ? [...state.items, ...state.episodes] : [...state.items];
    const parent = q(ctx, 'ParentId');
    if (parent && parent.replace(/-/g, '').toLowerCase() !== state.libraryId) list = [];
    if (ids) {
      const want = new Set(ids.split(',').map((x) => x.replace(/-/g, '').toLowerCase()));
      list = list.filter((i) => want.has(i.id));
    }
    const types = q(ctx, 'IncludeItemTypes');
    if (types && !types.split(',').some((t) => t.toLowerCase() === 'movie')) list = [];
    const media = q(ctx, 'MediaTypes');
    if (media && !media.split(',').some((t) => t.toLowerCase() === 'video')) list = [];
    const filters = (q(ctx, 'Filters') || '').toLowerCase().split(',');
    if (filters.includes('isresumable')) list = list.filter((i) => { const d = state.userData(ctx.user.id, i.id); return d.positionTicks > 0 && !d.played; });
    if (filters.includes('isfavorite') || filters.includes('isfolder')) list = [];
    const term = q(ctx, 'SearchTerm');
    if (term) list = list.filter((i) => i.name.toLowerCase().includes(term.toLowerCase()));
    if (q(ctx, 'IsFolder') === 'true') list = [];
    list.sort((a, b) => a.name.localeCompare(b.name));
    const total = list.length;
    const start = Number(q(ctx, 'StartIndex') || 0);
    const limit = q(ctx, 'Limit') ? Number(q(ctx, 'Limit')) : Infinity;
    return { json: queryResult(list.slice(start, start + limit).map((i) => itemDto(state, ctx.user, i, { fields: fieldsOf(ctx) })), start, total) };
  };
  router.add('GET', '/Items', items);
  router.add('GET', '/Users/{userId}/Items', items);

  const resume = (ctx) => {
    const list = state.items.filter((i) => { const d = state.userData(ctx.user.id, i.id); return d.positionTicks > 0 && !d.played; });
    return { json: queryResult(list.map((i) => itemDto(state, ctx.user, i, { fields: fieldsOf(ctx) }))) };
  };
  router.add('GET', '/Users/{userId}/Items/Resume', resume);
  router.add('GET', '/UserItems/Resume', resume);

  // UserLibraryController.GetLatestMedia: a plain array, newest first.
  const latest = (ctx) => ({ json: [...state.items].sort((a, b) => b.created - a.created).map((i) => itemDto(state, ctx.user, i, { fields: fieldsOf(ctx) })) });
  router.add('GET', '/Users/{userId}/Items/Latest', latest);
  router.add('GET', '/Items/Latest', latest);
  router.add('GET', '/Shows/NextUp', (ctx) => nextUp(ctx));
  router.add('GET', '/Shows/{seriesId}/Episodes', (ctx) => episodes(ctx));
  router.add('GET', '/Shows/Upcoming', () => ({ json: queryResult([]) }));

  /** Episodes of the series in `SeriesId` (or every series), by season then episode number. */
  const seriesEpisodes = (seriesId) => {
    const id = String(seriesId || '').replace(/-/g, '').toLowerCase();
    return state.episodes.filter((e) => !id || e.episode.series.id === id)
      .sort((a, b) => a.episode.season - b.episode.season || a.episode.index - b.episode.index);
  };
  const userFor = (ctx) => {
    const id = q(ctx, 'UserId');
    return id ? state.userById(id) || ctx.user : ctx.user;
  };

  /**
   * TvShowsController.GetNextUp → TVSeriesManager.GetNextUp (10.10, 10.11): per series, the
   * last *played* episode by season and episode number; next up is the first episode after it
   * that is not played (`IsPlayed = false`), or the series' first unplayed one when nothing is
   * played. Without a SeriesId only series the user has played in count
   * (LibraryManager.GetNextUpSeriesKeys), so the home screen's row stays empty until then.
   * With enableResumable=false an answer with a resume position is dropped. Answer:
   * QueryResult<BaseItemDto>. Not served: nextUpDateCutoff, enableRewatching, ParentId (one
   * library here).
   */
  const nextUp = (ctx) => {
    const user = userFor(ctx);
    const played = (e) => state.userData(user.id, e.id).played;
    const seriesId = q(ctx, 'SeriesId');
    const list = seriesEpisodes(seriesId).filter((e) => seriesId || seriesEpisodes(e.episode.series.id).some(played));
    const last = [...list].reverse().find(played);
    const after = last ? list.slice(list.indexOf(last) + 1) : list;
    let next = after.find((e) => !played(e)) || null;
    if (next && q(ctx, 'enableResumable') === 'false' && state.userData(user.id, next.id).positionTicks > 0) next = null;
    const items = next ? [next] : [];
    const limit = q(ctx, 'Limit') ? Number(q(ctx, 'Limit')) : Infinity;
    return { json: queryResult(items.slice(0, limit).map((i) => itemDto(state, user, i, { fields: fieldsOf(ctx) }))) };
  };

  /** TvShowsController.GetEpisodes: a series' episodes; `startItemId` skips to that item. */
  const episodes = (ctx) => {
    const user = userFor(ctx);
    let list = seriesEpisodes(ctx.params.seriesId);
    if (!list.length) throw new HttpError(404, 'Series not found');
    const start = q(ctx, 'StartItemId');
    if (start) {
      const key = start.replace(/-/g, '').toLowerCase();
      list = list.slice(Math.max(0, list.findIndex((e) => e.id === key)));
      if (!list.some((e) => e.id === key)) list = [];
    }
    const total = list.length;
    const from = Number(q(ctx, 'StartIndex') || 0);
    const limit = q(ctx, 'Limit') ? Number(q(ctx, 'Limit')) : Infinity;
    return { json: queryResult(list.slice(from, from + limit).map((i) => itemDto(state, user, i, { fields: fieldsOf(ctx) })), from, total) };
  };

  const one = (ctx) => {
    const id = ctx.params.itemId.replace(/-/g, '').toLowerCase();
    if (id === state.libraryId) return { json: libraryDto(state) };
    return { json: itemDto(state, ctx.user, item(id), { full: true }) };
  };
  router.add('GET', '/Items/{itemId}', one);
  router.add('GET', '/Users/{userId}/Items/{itemId}', one);

  // Intros (trailers before the film): none here. UserLibraryController.GetIntros.
  const none = () => ({ json: queryResult([]) });
  router.add('GET', '/Users/{userId}/Items/{itemId}/Intros', none);
  router.add('GET', '/Items/{itemId}/Intros', none);
  router.add('GET', '/Items/{itemId}/Similar', none);
  router.add('GET', '/MediaSegments/{itemId}', none);
  router.add('GET', '/Items/{itemId}/Ancestors', () => ({ json: [libraryDto(state)] }));
  // Arrays, not query results: UserLibraryController.GetSpecialFeatures / GetLocalTrailers.
  for (const p of ['/Users/{userId}/Items/{itemId}/SpecialFeatures', '/Items/{itemId}/SpecialFeatures',
    '/Users/{userId}/Items/{itemId}/LocalTrailers', '/Items/{itemId}/LocalTrailers']) router.add('GET', p, () => ({ json: [] }));
  router.add('GET', '/Items/{itemId}/ThemeMedia', (ctx) => {
    const empty = { Items: [], TotalRecordCount: 0, StartIndex: 0, OwnerId: ctx.params.itemId };
    return { json: { ThemeVideosResult: empty, ThemeSongsResult: empty, SoundtrackSongsResult: empty } };
  });
  // Images: the items have none (ImageTags is empty), so jellyfin-web should not ask; 404 as Jellyfin does.
  router.add('GET', '/Items/{itemId}/Images/{type}', () => { throw new HttpError(404, 'no image'); }, { auth: 'anonymous' });
  router.add('GET', '/Items/{itemId}/Images/{type}/{index}', () => { throw new HttpError(404, 'no image'); }, { auth: 'anonymous' });

  // Live TV rows on the home screen (LiveTvController.GetRecommendedPrograms, GetLiveTvInfo):
  // this server has no tuner, so they are empty, as on a real server without one.
  router.add('GET', '/LiveTv/Programs/Recommended', () => ({ json: queryResult([]) }));
  router.add('GET', '/LiveTv/Info', () => ({ json: { Services: [], IsEnabled: false, EnabledUsers: [] } }));

  // Played / unplayed (PlaystateController.MarkPlayedItem): returns UserItemDataDto.
  const played = (value) => (ctx) => {
    const it = item(ctx.params.itemId);
    const d = state.userData(ctx.user.id, it.id);
    d.played = value;
    if (value) { d.playCount += 1; d.positionTicks = 0; }
    return { json: userData(state, ctx.user, it) };
  };
  router.add('POST', '/Users/{userId}/PlayedItems/{itemId}', played(true));
  router.add('POST', '/UserPlayedItems/{itemId}', played(true));
  router.add('DELETE', '/Users/{userId}/PlayedItems/{itemId}', played(false));
  router.add('DELETE', '/UserPlayedItems/{itemId}', played(false));
}
