// Users, login and display preferences. Jellyfin.Api/Controllers/UserController.cs
// (AuthenticateUserByName, GetPublicUsers, GetCurrentUser, GetUserById), UserViewsController.cs,
// DisplayPreferencesController.cs at v10.10.7 and v10.11.11; DTOs in dto.js.
// MediaBrowser.Model/Dto/DisplayPreferencesDto.cs; the AuthenticationResult of
// MediaBrowser.Controller/Authentication/AuthenticationResult.cs.

import { HttpError, queryGet } from './http.js';
import { libraryDto, queryResult, userDto } from './dto.js';

/** @param {import('./http.js').Router} router @param {any} state */
export function userRoutes(router, state) {
  const findUser = (id) => {
    const user = state.userById(id);
    if (!user) throw new HttpError(404, 'User not found');
    return user;
  };
  // Only users who may see the given user (themselves, or an admin): UserController.GetUserById.
  const visible = (ctx, id) => {
    const user = findUser(id);
    if (user.id !== ctx.user.id && !ctx.user.admin) throw new HttpError(403, 'Forbidden');
    return user;
  };

  router.add('GET', '/Users/Public', () => ({ json: state.users.filter((u) => !u.hidden).map((u) => userDto(state, u)) }), { auth: 'anonymous' });

  router.add('POST', '/Users/AuthenticateByName', (ctx) => {
    const b = ctx.body;
    // AuthenticateUserByName has two members, Username and Pw, bound without regard to case
    // (JsonDefaults: PropertyNameCaseInsensitive); a real 10.11.11 signs `{username, pw}` in and
    // refuses `{Username, Password}` with 401 (testdata/jellyfin-real).
    const field = (name) => (b && typeof b === 'object' ? Object.entries(b).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1] : undefined);
    const username = field('Username');
    if (typeof username !== 'string') throw new HttpError(400, 'Username is required');
    const user = state.users.find((u) => u.name.toLowerCase() === username.toLowerCase());
    // UserManager.AuthenticateUser: a wrong name and a wrong password look the same (401).
    if (!user || (user.password || '') !== (field('Pw') ?? '')) {
      state.log.push({ kind: 'auth-failed', name: username });
      throw new HttpError(401, 'Error processing request.');
    }
    const a = ctx.auth;
    if (!a.client || !a.deviceId || !a.device || !a.version) throw new HttpError(400, 'Client, Device, DeviceId and Version are required in the Authorization header');
    user.lastLogin = Date.now();
    const session = state.sessions.open({ user, deviceId: a.deviceId, deviceName: a.device, client: a.client, version: a.version });
    return {
      json: {
        User: userDto(state, user),
        SessionInfo: state.sessions.dto(session),
        AccessToken: session.token,
        ServerId: state.serverId,
      },
    };
  }, { auth: 'anonymous' });

  router.add('GET', '/Users/Me', (ctx) => ({ json: userDto(state, ctx.user) }));
  router.add('GET', '/Users', (ctx) => ({ json: (ctx.user.admin ? state.users : [ctx.user]).map((u) => userDto(state, u)) }));
  router.add('GET', '/Users/{userId}', (ctx) => ({ json: userDto(state, visible(ctx, ctx.params.userId)) }));

  // User views: 10.10 asks /Users/{userId}/Views, 10.11 (through @jellyfin/sdk) /UserViews?userId=.
  const views = () => ({ json: queryResult([libraryDto(state)]) });
  router.add('GET', '/Users/{userId}/Views', (ctx) => { visible(ctx, ctx.params.userId); return views(); });
  router.add('GET', '/UserViews', views);
  router.add('GET', '/Users/{userId}/GroupingOptions', () => ({ json: [] }));
  router.add('GET', '/UserViews/GroupingOptions', () => ({ json: [] }));

  // Display preferences: stored per user, id and client (DisplayPreferencesController).
  router.add('GET', '/DisplayPreferences/{id}', (ctx) => {
    const client = queryGet(ctx.url, 'client') || 'emby';
    const key = `${ctx.user.id}/${ctx.params.id}/${client}`;
    const saved = state.displayPreferences.get(key);
    return {
      json: saved || {
        Id: ctx.params.id,
        SortBy: 'SortName',
        RememberIndexing: false,
        PrimaryImageHeight: 250,
        PrimaryImageWidth: 250,
        CustomPrefs: {},
        ScrollDirection: 'Horizontal',
        ShowBackdrop: true,
        RememberSorting: false,
        SortOrder: 'Ascending',
        ShowSidebar: false,
        Client: client,
      },
    };
  });
  router.add('POST', '/DisplayPreferences/{id}', (ctx) => {
    const b = ctx.body;
    if (!b || typeof b !== 'object') throw new HttpError(400, 'display preferences must be a JSON object');
    const client = queryGet(ctx.url, 'client') || 'emby';
    state.displayPreferences.set(`${ctx.user.id}/${ctx.params.id}/${client}`, { ...b, Id: ctx.params.id, Client: client });
    return { status: 204 };
  });
}
