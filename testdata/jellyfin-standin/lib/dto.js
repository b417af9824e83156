// The JSON shapes Jellyfin answers with, built from the stand-in's state. Field names, order
// and value forms follow Jellyfin's own DTOs at v10.10.7 and v10.11.11 (jellyfin/jellyfin):
//   MediaBrowser.Model/Dto/UserDto.cs, Configuration/UserConfiguration.cs, Users/UserPolicy.cs
//   MediaBrowser.Model/Dto/BaseItemDto.cs, UserItemDataDto.cs, MediaSourceInfo.cs,
//   MediaBrowser.Model/Entities/MediaStream.cs, MediaBrowser.Model/Dto/SessionInfoDto.cs
//   (10.11; 10.10 serialises MediaBrowser.Controller/Session/SessionInfo.cs with the same
//   members), MediaBrowser.Model/Session/PlayerStateInfo.cs, ClientCapabilities.cs,
//   MediaBrowser.Model/Querying/QueryResult.cs, MediaBrowser.Model/System/*SystemInfo.cs.
// Serialisation rules are Jellyfin's JsonDefaults (src/Jellyfin.Extensions/Json/JsonDefaults.cs):
// PascalCase, enums as strings, nulls omitted (WhenWritingNull), Guids as 32 lowercase hex
// digits (Json/Converters/JsonGuidConverter.cs), dates as ISO 8601 UTC with a Z.

export const TICKS_PER_SECOND = 10_000_000;

/** Jellyfin writes DateTime with 7 fractional digits and Z. */
export const isoDate = (ms) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');

/** UserConfiguration defaults (UserConfiguration.cs constructor). */
export function userConfiguration() {
  return {
    PlayDefaultAudioTrack: true,
    SubtitleLanguagePreference: '',
    DisplayMissingEpisodes: false,
    GroupedFolders: [],
    SubtitleMode: 'Default',
    DisplayCollectionsView: false,
    EnableLocalPassword: false,
    OrderedViews: [],
    LatestItemsExcludes: [],
    MyMediaExcludes: [],
    HidePlayedInLatest: true,
    RememberAudioSelections: true,
    RememberSubtitleSelections: true,
    EnableNextEpisodeAutoPlay: true,
    CastReceiverId: 'F007D354',
  };
}

/** UserPolicy as Jellyfin sets it for a new user (UserPolicy.cs defaults), admin or not. */
export function userPolicy(isAdmin, isHidden = true) {
  return {
    IsAdministrator: isAdmin,
    IsHidden: isHidden,
    EnableCollectionManagement: false,
    EnableSubtitleManagement: false,
    EnableLyricManagement: false,
    IsDisabled: false,
    BlockedTags: [],
    AllowedTags: [],
    EnableUserPreferenceAccess: true,
    AccessSchedules: [],
    BlockUnratedItems: [],
    EnableRemoteControlOfOtherUsers: isAdmin,
    EnableSharedDeviceControl: true,
    EnableRemoteAccess: true,
    EnableLiveTvManagement: true,
    EnableLiveTvAccess: true,
    EnableMediaPlayback: true,
    EnableAudioPlaybackTranscoding: true,
    EnableVideoPlaybackTranscoding: true,
    EnablePlaybackRemuxing: true,
    ForceRemoteSourceTranscoding: false,
    EnableContentDeletion: false,
    EnableContentDeletionFromFolders: [],
    EnableContentDownloading: true,
    EnableSyncTranscoding: true,
    EnableMediaConversion: true,
    EnabledDevices: [],
    EnableAllDevices: true,
    EnabledChannels: [],
    EnableAllChannels: true,
    EnabledFolders: [],
    EnableAllFolders: true,
    InvalidLoginAttemptCount: 0,
    LoginAttemptsBeforeLockout: -1,
    MaxActiveSessions: 0,
    EnablePublicSharing: true,
    BlockedMediaFolders: [],
    BlockedChannels: [],
    RemoteClientBitrateLimit: 0,
    AuthenticationProviderId: 'Jellyfin.Server.Implementations.Users.DefaultAuthenticationProvider',
    PasswordResetProviderId: 'Jellyfin.Server.Implementations.Users.DefaultPasswordResetProvider',
    SyncPlayAccess: 'CreateAndJoinGroups',
  };
}

/** UserDto (Jellyfin.Server.Implementations/Users/UserManager.cs GetUserDto). */
export function userDto(state, user) {
  return {
    Name: user.name,
    ServerId: state.serverId,
    Id: user.id,
    HasPassword: Boolean(user.password),
    HasConfiguredPassword: Boolean(user.password),
    HasConfiguredEasyPassword: false,
    EnableAutoLogin: false,
    LastLoginDate: user.lastLogin ? isoDate(user.lastLogin) : undefined,
    LastActivityDate: user.lastLogin ? isoDate(user.lastLogin) : undefined,
    Configuration: userConfiguration(),
    Policy: userPolicy(user.admin, user.hidden !== false),
  };
}

/** UserItemDataDto (MediaBrowser.Model/Dto/UserItemDataDto.cs). */
export function userData(state, user, item) {
  const d = state.userData(user.id, item.id);
  return {
    PlaybackPositionTicks: d.positionTicks,
    PlayCount: d.playCount,
    IsFavorite: false,
    LastPlayedDate: d.lastPlayed ? isoDate(d.lastPlayed) : undefined,
    Played: d.played,
    Key: item.id,
    ItemId: item.id,
  };
}

/** Language names as Jellyfin's DisplayTitle writes them (the culture's display name). */
const LANGUAGES = { eng: 'English', fra: 'French', deu: 'German' };

/**
 * MediaStream entries (MediaBrowser.Model/Entities/MediaStream.cs, v10.11.x) for an item's
 * file: the video, then its audio streams, then its subtitle streams, numbered in that order
 * (`Index`, as ffprobe numbers a file's streams). `media.tracks` lists the audio and subtitle
 * languages; without it an item has one English audio stream and no subtitles.
 * `avcOnVideoOnly` (Jellyfin 12): ProbeResultNormalizer.cs v12.0 sets `IsAVC` on video streams
 * only, from ffprobe's `is_avc` (which ffprobe gives for H.264 alone), and null is omitted; 10.11
 * set it on every stream (false where ffprobe gave none).
 */
export function mediaStreams(item, avcOnVideoOnly = false) {
  const avc = (v) => (avcOnVideoOnly ? undefined : v);
  const m = item.media;
  const tracks = m.tracks || { audio: [{ language: 'eng' }], subtitles: [] };
  const audio = tracks.audio.map((t, i) => ({
    Codec: m.audioCodec,
    Language: t.language,
    TimeBase: '1/48000',
    VideoRange: 'Unknown',
    VideoRangeType: 'Unknown',
    AudioSpatialFormat: 'None',
    LocalizedDefault: 'Default',
    LocalizedExternal: 'External',
    Title: t.title,
    DisplayTitle: `${LANGUAGES[t.language] || t.language} - ${m.audioCodec.toUpperCase()} - Mono${i === 0 ? ' - Default' : ''}`,
    IsInterlaced: false,
    IsAVC: avc(false),
    ChannelLayout: 'mono',
    BitRate: m.audioBitrate,
    Channels: 1,
    SampleRate: 48000,
    IsDefault: i === 0,
    IsForced: false,
    IsHearingImpaired: false,
    Profile: 'LC',
    Type: 'Audio',
    Index: 1 + i,
    IsExternal: false,
    IsTextSubtitleStream: false,
    SupportsExternalStream: false,
    Level: 0,
  }));
  // Embedded SubRip text subtitles: what MediaStream.cs reports for them (IsTextSubtitleStream,
  // SupportsExternalStream: Jellyfin can serve them as WebVTT for the browser).
  const subtitles = (tracks.subtitles || []).map((t, i) => ({
    Codec: 'subrip',
    Language: t.language,
    Title: t.title,
    TimeBase: '1/1000',
    VideoRange: 'Unknown',
    VideoRangeType: 'Unknown',
    AudioSpatialFormat: 'None',
    LocalizedUndefined: 'Undefined',
    LocalizedDefault: 'Default',
    LocalizedForced: 'Forced',
    LocalizedExternal: 'External',
    LocalizedHearingImpaired: 'Hearing Impaired',
    DisplayTitle: `${LANGUAGES[t.language] || t.language} - SUBRIP`,
    IsInterlaced: false,
    IsAVC: avc(false),
    IsDefault: false,
    IsForced: false,
    IsHearingImpaired: false,
    Type: 'Subtitle',
    Index: 1 + tracks.audio.length + i,
    IsExternal: false,
    IsTextSubtitleStream: true,
    SupportsExternalStream: true,
    Level: 0,
  }));
  return [
    {
      Codec: m.videoCodec,
      TimeBase: '1/12800',
      VideoRange: 'SDR',
      VideoRangeType: 'SDR',
      AudioSpatialFormat: 'None',
      DisplayTitle: `${m.height}p ${m.videoCodec.toUpperCase()} SDR`,
      NalLengthSize: m.videoCodec === 'h264' ? '4' : undefined, // ffprobe's nal_length_size: avcC only (not hevc in Matroska)
      IsInterlaced: false,
      IsAVC: avcOnVideoOnly && m.videoCodec !== 'h264' ? undefined : m.videoCodec === 'h264',
      BitRate: m.videoBitrate,
      BitDepth: 8,
      RefFrames: 1,
      IsDefault: true,
      IsForced: false,
      IsHearingImpaired: false,
      Height: m.height,
      Width: m.width,
      AverageFrameRate: m.fps,
      RealFrameRate: m.fps,
      ReferenceFrameRate: m.fps,
      Profile: 'High',
      Type: 'Video',
      AspectRatio: '16:9',
      Index: 0,
      IsExternal: false,
      IsTextSubtitleStream: false,
      SupportsExternalStream: false,
      PixelFormat: 'yuv420p',
      Level: 30,
      IsAnamorphic: false,
    },
    ...audio,
    ...subtitles,
  ];
}

/**
 * MediaSourceInfo for an item (MediaBrowser.Model/Dto/MediaSourceInfo.cs; values as
 * MediaBrowser.Providers/MediaInfo and Emby.Server.Implementations/Library/MediaSourceManager.cs
 * set them for a local file). `extra` carries what PlaybackInfo adds (TranscodingUrl …);
 * `state` picks the version's shapes.
 */
export function mediaSource(state, item, extra = {}) {
  const m = item.media;
  return {
    Protocol: 'File',
    Id: item.id,
    Path: m.path,
    Type: 'Default',
    Container: m.container,
    Size: m.size,
    Name: item.name,
    IsRemote: false,
    ETag: item.etag,
    RunTimeTicks: item.runTimeTicks,
    ReadAtNativeFramerate: false,
    IgnoreDts: false,
    IgnoreIndex: false,
    GenPtsInput: false,
    SupportsTranscoding: true,
    SupportsDirectStream: true,
    SupportsDirectPlay: true,
    IsInfiniteStream: false,
    UseMostCompatibleTranscodingProfile: false,
    RequiresOpening: false,
    RequiresClosing: false,
    RequiresLooping: false,
    SupportsProbing: true,
    VideoType: 'VideoFile',
    MediaStreams: mediaStreams(item, state.versionAtLeast(12, 0)),
    MediaAttachments: [],
    Formats: [],
    Bitrate: m.videoBitrate + m.audioBitrate,
    RequiredHttpHeaders: {},
    TranscodingSubProtocol: 'http',
    DefaultAudioStreamIndex: 1,
    HasSegments: false,
    ...extra,
  };
}

/**
 * BaseItemDto for a video item (Emby.Server.Implementations/Dto/DtoService.cs GetBaseItemDto).
 * `full`: every field, as GET /Items/{id} answers. Otherwise only what the request's `Fields`
 * asks for (ItemFields: DateCreated, CanDelete, CanDownload, SortName, ProviderIds,
 * PrimaryImageAspectRatio, …), as list endpoints answer. `nowPlaying`: SessionInfoDto's
 * NowPlayingItem (SessionManager: no UserData, no CanDelete/CanDownload/SortName).
 * Never sent, as a real library scanned without metadata providers: Overview, PremiereDate;
 * HasSubtitles and IsHD only ever appear as `true` (a clip with no subtitles, below 720 lines).
 * @param {{full?: boolean, fields?: string[], nowPlaying?: boolean}} [o]
 */
export function itemDto(state, user, item, { full = false, fields = [], nowPlaying = false } = {}) {
  const wanted = new Set(fields.map((f) => f.toLowerCase()));
  const f = (name) => full || wanted.has(name.toLowerCase());
  const dto = {
    Name: item.name,
    ServerId: state.serverId,
    Id: item.id,
    Etag: full ? item.etag : undefined,
    DateCreated: f('DateCreated') || nowPlaying ? isoDate(item.created) : undefined,
    CanDelete: f('CanDelete') && !nowPlaying ? false : undefined,
    CanDownload: f('CanDownload') && !nowPlaying ? true : undefined,
    HasSubtitles: item.media.tracks?.subtitles?.length ? true : undefined,
    Container: item.media.container,
    SortName: f('SortName') && !nowPlaying ? item.name.toLowerCase() : undefined,
    ExternalUrls: full ? [] : undefined,
    MediaSources: full ? [mediaSource(state, item)] : undefined,
    Path: full ? item.media.path : undefined,
    EnableMediaSourceDisplay: full ? true : undefined,
    Taglines: full ? [] : undefined,
    Genres: full ? [] : undefined,
    RunTimeTicks: item.runTimeTicks,
    ProductionYear: item.year,
    PlayAccess: full ? 'Full' : undefined,
    RemoteTrailers: full ? [] : undefined,
    ProviderIds: f('ProviderIds') || nowPlaying ? {} : undefined,
    IsHD: (f('IsHD') && item.media.height >= 720) || undefined,
    IsFolder: false,
    ParentId: full ? state.libraryId : undefined,
    Type: item.episode ? 'Episode' : 'Movie',
    People: full ? [] : undefined,
    Studios: full ? [] : undefined,
    GenreItems: full ? [] : undefined,
    LocalTrailerCount: full ? 0 : undefined,
    UserData: nowPlaying ? undefined : userData(state, user, item),
    SpecialFeatureCount: full ? 0 : undefined,
    DisplayPreferencesId: full ? item.id : undefined,
    Tags: full ? [] : undefined,
    PrimaryImageAspectRatio: f('PrimaryImageAspectRatio') || nowPlaying ? 1.7777777777777777 : undefined,
    MediaStreams: full ? mediaStreams(item, state.versionAtLeast(12, 0)) : undefined,
    VideoType: 'VideoFile',
    ImageTags: {},
    BackdropImageTags: [],
    Chapters: full ? [] : undefined,
    LocationType: 'FileSystem',
    MediaType: 'Video',
    LockedFields: full ? [] : undefined,
    LockData: full ? false : undefined,
    Width: full ? item.media.width : undefined,
    Height: full ? item.media.height : undefined,
    // An episode's place in its series (DtoService.AttachBasicFields: IndexNumber and
    // ParentIndexNumber for every item that has them; SeriesName, SeriesId, SeasonId and
    // SeasonName for an Episode, Emby.Server.Implementations/Dto/DtoService.cs, 10.11).
    IndexNumber: item.episode?.index,
    ParentIndexNumber: item.episode?.season,
    SeriesName: item.episode?.series.name,
    SeriesId: item.episode?.series.id,
    SeasonId: item.episode?.series.seasonId,
    SeasonName: item.episode?.series.seasonName,
  };
  return strip(dto);
}

/** The library folder as a user view (CollectionFolder, UserViewsController). */
export function libraryDto(state) {
  return {
    Name: 'Movies',
    ServerId: state.serverId,
    Id: state.libraryId,
    Etag: 'b6b4e1d7c0c6a0a7b9d2d4f3e8a1c5b2',
    DateCreated: isoDate(state.started),
    CanDelete: false,
    CanDownload: false,
    SortName: 'movies',
    ExternalUrls: [],
    Path: '/media/movies',
    EnableMediaSourceDisplay: true,
    Taglines: [],
    Genres: [],
    PlayAccess: 'Full',
    RemoteTrailers: [],
    ProviderIds: {},
    IsFolder: true,
    ParentId: 'e9d5075a555c1cbc394eec4cef295274',
    Type: 'CollectionFolder',
    People: [],
    Studios: [],
    GenreItems: [],
    LocalTrailerCount: 0,
    ChildCount: state.items.length,
    SpecialFeatureCount: 0,
    DisplayPreferencesId: state.libraryId,
    Tags: [],
    CollectionType: 'movies',
    ImageTags: {},
    BackdropImageTags: [],
    ImageBlurHashes: {},
    LocationType: 'FileSystem',
    MediaType: 'Unknown',
    LockedFields: [],
    LockData: false,
  };
}

/** QueryResult<T> (MediaBrowser.Model/Querying/QueryResult.cs). */
export const queryResult = (items, startIndex = 0, total = items.length) => ({ Items: items, TotalRecordCount: total, StartIndex: startIndex });

/** Drops undefined members (Jellyfin omits nulls). */
export function strip(o) {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
