// @ts-check
// The Jellyfin calls whose answers are recorded from a real server (record.mjs) and held against
// the stand-in (testdata/jellyfin-standin/test/real-shapes.test.js). One list, so the recorder
// and the test cannot drift apart.
//
// Each entry:
//   name    the fixture's file name (<version>/<name>.json)
//   method, path, query?, body?   the request; placeholders in path, query values and body:
//           {userId} the caller's id, {otherUserId} the other plain user's id, {itemId} a film
//           that plays directly, {transcodeItemId} a film the browser cannot play (HEVC/AC-3 in
//           Matroska), {libraryId} the film library, {sessionId} a session of the caller that
//           reported playback and accepts remote control
//   as      'anonymous' | 'user' (a plain user) | 'tv' (the same user on a second device, with a
//           /socket open: the remote-controlled session) | 'admin' | 'login'
//   reads   fields Matinee's own code reads from the answer (a[] = every element of array a),
//           with `by`, the file that reads them; they must be present in the real answer
//   socket  a WebSocket message recorded on /socket (recorded, not requested)
//
// Devices: jellyfin-web's Authorization header shape (Client, Device, DeviceId, Version, Token).

/** PlaybackInfo body as jellyfin-web 10.11 sends it, reduced to what decides the stream. */
export const PLAYBACK_INFO_BODY = {
  UserId: '{userId}',
  StartTimeTicks: 0,
  IsPlayback: true,
  AutoOpenLiveStream: true,
  MaxStreamingBitrate: 120000000,
  DeviceProfile: {
    MaxStreamingBitrate: 120000000,
    MaxStaticBitrate: 100000000,
    MusicStreamingTranscodingBitrate: 384000,
    DirectPlayProfiles: [
      { Container: 'mp4,m4v', Type: 'Video', VideoCodec: 'h264,vp9,av1', AudioCodec: 'aac,mp3,opus,flac' },
      { Container: 'webm', Type: 'Video', VideoCodec: 'vp8,vp9,av1', AudioCodec: 'vorbis,opus' },
    ],
    TranscodingProfiles: [
      { Container: 'ts', Type: 'Video', AudioCodec: 'aac,mp3', VideoCodec: 'h264', Context: 'Streaming', Protocol: 'hls', MaxAudioChannels: '2', MinSegments: 1, BreakOnNonKeyFrames: true },
    ],
    ContainerProfiles: [],
    CodecProfiles: [],
    SubtitleProfiles: [{ Format: 'vtt', Method: 'External' }],
  },
};

export const CAPABILITIES_BODY = {
  PlayableMediaTypes: ['Audio', 'Video'],
  SupportedCommands: ['Play', 'Playstate', 'SetRepeatMode', 'DisplayMessage'],
  SupportsMediaControl: true,
  SupportsPersistentIdentifier: false,
};

const SESSION_READS = {
  by: 'client-js/src/remote/sessions-api.js',
  fields: ['[].Id', '[].UserId', '[].UserName', '[].Client', '[].DeviceName', '[].DeviceId',
    '[].SupportsRemoteControl', '[].PlayableMediaTypes', '[].SupportedCommands'],
};

/** @type {{name: string, method: string, path: string, query?: Record<string, string>, body?: any, as: string, reads?: {by: string, fields: string[]}}[]} */
export const ENDPOINTS = [
  // System / branding (jellyfin-web before and after login)
  { name: 'system-info-public', method: 'GET', path: '/System/Info/Public', as: 'anonymous' },
  { name: 'system-info', method: 'GET', path: '/System/Info', as: 'admin' },
  { name: 'system-ping', method: 'GET', path: '/System/Ping', as: 'anonymous' },
  { name: 'system-endpoint', method: 'GET', path: '/System/Endpoint', as: 'user' },
  { name: 'branding-configuration', method: 'GET', path: '/Branding/Configuration', as: 'anonymous' },
  { name: 'quickconnect-enabled', method: 'GET', path: '/QuickConnect/Enabled', as: 'anonymous' },
  // Users (the session server's raw-token check reads /Users/Me)
  { name: 'users-public', method: 'GET', path: '/Users/Public', as: 'anonymous' },
  {
    name: 'users-authenticatebyname', method: 'POST', path: '/Users/AuthenticateByName', as: 'login',
    reads: { by: 'client-js/test/e2e (login), jellyfin-apiclient', fields: ['AccessToken', 'User.Id', 'ServerId', 'SessionInfo.Id'] },
  },
  { name: 'users-me', method: 'GET', path: '/Users/Me', as: 'user', reads: { by: 'session-server/auth/src/users_me.rs', fields: ['Id', 'Name'] } },
  { name: 'users-me-admin', method: 'GET', path: '/Users/Me', as: 'admin', reads: { by: 'session-server/auth/src/users_me.rs', fields: ['Id', 'Name', 'Policy.IsAdministrator'] } },
  { name: 'users', method: 'GET', path: '/Users', as: 'admin' },
  { name: 'users-id', method: 'GET', path: '/Users/{userId}', as: 'user' },
  { name: 'userviews', method: 'GET', path: '/UserViews', query: { userId: '{userId}' }, as: 'user' },
  { name: 'users-views', method: 'GET', path: '/Users/{userId}/Views', as: 'user' },
  { name: 'displaypreferences', method: 'GET', path: '/DisplayPreferences/usersettings', query: { userId: '{userId}', client: 'emby' }, as: 'user' },
  // Library
  { name: 'items', method: 'GET', path: '/Items', query: { userId: '{userId}', parentId: '{libraryId}', SortBy: 'SortName', SortOrder: 'Ascending', IncludeItemTypes: 'Movie', Recursive: 'true', Fields: 'PrimaryImageAspectRatio,MediaSourceCount', StartIndex: '0', Limit: '100' }, as: 'user' },
  { name: 'items-resume', method: 'GET', path: '/UserItems/Resume', query: { userId: '{userId}', Limit: '12', MediaTypes: 'Video' }, as: 'user' },
  { name: 'items-latest', method: 'GET', path: '/Items/Latest', query: { userId: '{userId}', parentId: '{libraryId}', Limit: '16' }, as: 'user' },
  { name: 'shows-nextup', method: 'GET', path: '/Shows/NextUp', query: { userId: '{userId}', Limit: '24' }, as: 'user' },
  {
    name: 'item', method: 'GET', path: '/Items/{itemId}', query: { userId: '{userId}' }, as: 'user',
    reads: { by: 'client-js/src/players/jellyfin.js (playbackManager.currentItem)', fields: ['Id', 'Name', 'RunTimeTicks', 'MediaType', 'ServerId'] },
  },
  { name: 'users-item', method: 'GET', path: '/Users/{userId}/Items/{itemId}', as: 'user' },
  { name: 'item-intros', method: 'GET', path: '/Items/{itemId}/Intros', query: { userId: '{userId}' }, as: 'user' },
  { name: 'item-similar', method: 'GET', path: '/Items/{itemId}/Similar', query: { userId: '{userId}', limit: '12' }, as: 'user' },
  { name: 'item-ancestors', method: 'GET', path: '/Items/{itemId}/Ancestors', query: { userId: '{userId}' }, as: 'user' },
  { name: 'item-localtrailers', method: 'GET', path: '/Items/{itemId}/LocalTrailers', query: { userId: '{userId}' }, as: 'user' },
  { name: 'item-specialfeatures', method: 'GET', path: '/Items/{itemId}/SpecialFeatures', query: { userId: '{userId}' }, as: 'user' },
  { name: 'item-thememedia', method: 'GET', path: '/Items/{itemId}/ThemeMedia', query: { userId: '{userId}', InheritFromParent: 'true' }, as: 'user' },
  { name: 'mediasegments', method: 'GET', path: '/MediaSegments/{itemId}', as: 'user' },
  { name: 'livetv-info', method: 'GET', path: '/LiveTv/Info', as: 'user' },
  { name: 'livetv-programs-recommended', method: 'GET', path: '/LiveTv/Programs/Recommended', query: { userId: '{userId}', limit: '24' }, as: 'user' },
  { name: 'userplayeditems-post', method: 'POST', path: '/UserPlayedItems/{itemId}', query: { userId: '{userId}' }, as: 'user' },
  { name: 'userplayeditems-delete', method: 'DELETE', path: '/UserPlayedItems/{itemId}', query: { userId: '{userId}' }, as: 'user' },
  // Playback
  {
    name: 'playbackinfo-direct', method: 'POST', path: '/Items/{itemId}/PlaybackInfo', query: { userId: '{userId}' }, body: PLAYBACK_INFO_BODY, as: 'user',
    reads: { by: 'jellyfin-web playbackmanager (through Matinee\'s player adapter)', fields: ['MediaSources[].Id', 'MediaSources[].SupportsDirectPlay', 'MediaSources[].Container', 'PlaySessionId'] },
  },
  {
    name: 'playbackinfo-transcode', method: 'POST', path: '/Items/{transcodeItemId}/PlaybackInfo', query: { userId: '{userId}' }, body: PLAYBACK_INFO_BODY, as: 'user',
    reads: { by: 'jellyfin-web playbackmanager (through Matinee\'s player adapter)', fields: ['MediaSources[].Id', 'MediaSources[].SupportsDirectPlay', 'MediaSources[].TranscodingUrl', 'MediaSources[].TranscodingSubProtocol', 'PlaySessionId'] },
  },
  // Sessions (remote seats)
  { name: 'sessions-capabilities-full', method: 'POST', path: '/Sessions/Capabilities/Full', body: CAPABILITIES_BODY, as: 'tv' },
  { name: 'sessions-playing', method: 'POST', path: '/Sessions/Playing', body: { ItemId: '{itemId}', PositionTicks: 0, IsPaused: false, CanSeek: true, PlayMethod: 'DirectPlay' }, as: 'tv' },
  { name: 'sessions-playing-progress', method: 'POST', path: '/Sessions/Playing/Progress', body: { ItemId: '{itemId}', PositionTicks: 50000000, IsPaused: true, CanSeek: true, PlayMethod: 'DirectPlay', RepeatMode: 'RepeatNone', EventName: 'pause' }, as: 'tv' },
  {
    name: 'sessions-controllable', method: 'GET', path: '/Sessions', query: { controllableByUserId: '{userId}' }, as: 'user',
    reads: { by: SESSION_READS.by, fields: [...SESSION_READS.fields, '[].PlayState', '[].NowPlayingItem.Id', '[].PlayState.PositionTicks', '[].PlayState.IsPaused', '[].PlayState.RepeatMode', '[].LastPlaybackCheckIn', '[].LastActivityDate'] },
  },
  { name: 'sessions-other-user-forbidden', method: 'GET', path: '/Sessions', query: { controllableByUserId: '{otherUserId}' }, as: 'user' },
  { name: 'sessions-admin', method: 'GET', path: '/Sessions', as: 'admin', reads: SESSION_READS },
  { name: 'sessions-command-pause', method: 'POST', path: '/Sessions/{sessionId}/Playing/Pause', as: 'user' },
  { name: 'sessions-command-seek', method: 'POST', path: '/Sessions/{sessionId}/Playing/Seek', query: { seekPositionTicks: '300000000' }, as: 'user' },
  { name: 'sessions-command-play', method: 'POST', path: '/Sessions/{sessionId}/Playing', query: { playCommand: 'PlayNow', itemIds: '{itemId}', startPositionTicks: '100000000' }, as: 'user' },
  { name: 'sessions-command-general', method: 'POST', path: '/Sessions/{sessionId}/Command', body: { Name: 'SetRepeatMode', Arguments: { RepeatMode: 'RepeatNone' } }, as: 'user' },
  { name: 'sessions-command-unknown-session', method: 'POST', path: '/Sessions/00000000000000000000000000000000/Playing/Pause', as: 'user' },
  { name: 'sessions-playing-stopped', method: 'POST', path: '/Sessions/Playing/Stopped', body: { ItemId: '{itemId}', PositionTicks: 50000000 }, as: 'tv' },
];

/** Messages the recorder keeps from the caller's /socket while the commands above run. */
export const SOCKET_MESSAGES = ['ForceKeepAlive', 'KeepAlive', 'Playstate', 'Play', 'GeneralCommand'];

/** The Matinee plugin's own endpoints, recorded once the plugin is installed. */
export const MATINEE_ENDPOINTS = [
  { name: 'matinee-jwks', method: 'GET', path: '/Matinee/Jwks', as: 'anonymous', reads: { by: 'session-server/auth/src/jwks.rs', fields: ['keys[].kty', 'keys[].kid', 'keys[].n', 'keys[].e'] } },
  { name: 'matinee-token', method: 'GET', path: '/Matinee/Token', as: 'user', reads: { by: 'client-js/src/jellyfin.js', fields: ['Token'] } },
  { name: 'matinee-config', method: 'GET', path: '/Matinee/Config', as: 'user', reads: { by: 'client-js/src/jellyfin.js parseConfig', fields: ['ServerUrl'] } },
];
