// Playback: PlaybackInfo, the progressive stream (with Range) and an HLS "transcode".
// Jellyfin.Api/Controllers/MediaInfoController.cs (GetPostedPlaybackInfo),
// VideosController.cs (GetVideoStream, stream.{container}), DynamicHlsController.cs
// (master.m3u8, main.m3u8, hls1/{playlistId}/{segmentId}.{container}),
// HlsSegmentController.cs / VideosController (DELETE Videos/ActiveEncodings) at v10.10.7 and
// v10.11.11. Playlist text: Jellyfin.Api/Helpers/DynamicHlsHelper.cs (master) and
// src/Jellyfin.MediaEncoding.Hls/Playlist/DynamicHlsPlaylistGenerator.cs CreateMainPlaylist
// (variant). The transcode URL's query: MediaBrowser.Model/Dlna/StreamInfo.cs ToUrl
// (`api_key` in 10.10, `ApiKey` in 10.11).
//
// The "transcode" is the clip cut into MPEG-TS segments with ffmpeg (stream copy) once,
// ahead of time; Jellyfin would encode them on demand, the bytes on the wire have the same form.

import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HttpError, queryGet } from './http.js';
import { mediaSource, TICKS_PER_SECOND } from './dto.js';

const SEGMENT_SECONDS = 3;

/** Cuts `clip` into ~3 s TS segments; resolves to {dir, durations[]}. */
export async function makeHlsSegments(clip) {
  const dir = await mkdtemp(join(tmpdir(), 'matinee-standin-hls-'));
  await promisify(execFile)('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', clip, '-c', 'copy',
    '-hls_time', String(SEGMENT_SECONDS), '-hls_playlist_type', 'vod', '-hls_segment_filename', join(dir, '%d.ts'),
    '-f', 'hls', join(dir, 'ffmpeg.m3u8')]);
  const text = await readFile(join(dir, 'ffmpeg.m3u8'), 'utf8');
  const durations = [...text.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
  return { dir, durations, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** @param {import('./http.js').Router} router @param {any} state */
export function mediaRoutes(router, state) {
  const item = (id) => {
    const it = state.itemById(id);
    if (!it) throw new HttpError(404, 'Item not found');
    return it;
  };
  const apiKeyParam = () => (state.versionAtLeast(10, 11) ? 'ApiKey' : 'api_key');

  /** StreamInfo.ToUrl for an HLS video transcode, in Jellyfin's parameter order. */
  const transcodingUrl = (ctx, it, playSessionId, deviceId, reasons) => {
    const m = it.media;
    const p = new URLSearchParams();
    p.set('DeviceId', deviceId || '');
    p.set('MediaSourceId', it.id);
    p.set('VideoCodec', 'h264');
    p.set('AudioCodec', 'aac');
    p.set('AudioStreamIndex', '1');
    p.set('VideoBitrate', String(m.videoBitrate));
    p.set('AudioBitrate', String(m.audioBitrate));
    p.set('AudioSampleRate', '48000');
    p.set('MaxFramerate', String(m.fps));
    p.set('PlaySessionId', playSessionId);
    p.set(apiKeyParam(), ctx.token);
    p.set('TranscodingMaxAudioChannels', '2');
    p.set('RequireAvc', 'false');
    p.set('EnableAudioVbrEncoding', 'true');
    p.set('Tag', it.etag);
    p.set('SegmentContainer', 'ts');
    p.set('MinSegments', '1');
    p.set('BreakOnNonKeyFrames', 'True');
    p.set('h264-level', '40');
    p.set('h264-videobitdepth', '8');
    p.set('h264-profile', 'high');
    p.set('TranscodeReasons', reasons); // StreamInfo.ToUrl: AppendJoin(',', reasons)
    return `/videos/${it.id}/master.m3u8?${p}`;
  };

  /** MediaInfoController: PlaybackInfoDto in the body (POST) or the query (GET). */
  const playbackInfo = (ctx) => {
    const it = item(ctx.params.itemId);
    const body = ctx.body && typeof ctx.body === 'object' ? ctx.body : {};
    const opt = (k) => body[k] ?? (queryGet(ctx.url, k) === null ? undefined : queryGet(ctx.url, k));
    const flag = (k) => { const v = opt(k); return v === undefined ? undefined : v === true || v === 'true'; };
    const maxBitrate = Number(opt('MaxStreamingBitrate') || 0);
    const total = it.media.videoBitrate + it.media.audioBitrate;
    // StreamBuilder's decision, reduced to what matters here: an item whose file the browser
    // cannot play, a caller that forbids direct play, or a bitrate cap below the file's.
    const transcode = Boolean(it.transcodeReasons) || flag('EnableDirectPlay') === false || (maxBitrate > 0 && maxBitrate < total);
    const playSessionId = randomBytes(16).toString('hex');
    const source = transcode
      ? mediaSource(state, it, {
        SupportsDirectPlay: false,
        SupportsDirectStream: false,
        TranscodingUrl: transcodingUrl(ctx, it, playSessionId, ctx.session.deviceId, it.transcodeReasons || 'ContainerBitrateExceedsLimit'),
        TranscodingSubProtocol: 'hls',
        TranscodingContainer: 'ts',
        // MediaSourceInfo.TranscodeReasons is [JsonIgnore]: the reasons travel in the URL only.
      })
      : mediaSource(state, it);
    // The tracks asked for become the source's defaults, as StreamBuilder's choice does
    // (Jellyfin.Api/Helpers/MediaInfoHelper.cs sets DefaultAudioStreamIndex and
    // DefaultSubtitleStreamIndex from it); an index the file does not have is ignored.
    const streamIndex = (k, type) => {
      const v = opt(k);
      if (v === undefined || v === null || v === '') return undefined;
      const n = Number(v);
      if (n === -1 && type === 'Subtitle') return -1;
      return source.MediaStreams.some((s) => s.Type === type && s.Index === n) ? n : undefined;
    };
    const audioIndex = streamIndex('AudioStreamIndex', 'Audio');
    const subtitleIndex = streamIndex('SubtitleStreamIndex', 'Subtitle');
    if (audioIndex !== undefined) source.DefaultAudioStreamIndex = audioIndex;
    if (subtitleIndex !== undefined) source.DefaultSubtitleStreamIndex = subtitleIndex;
    state.playbackInfos.push({ itemId: it.id, userId: ctx.user.id, transcode, startTimeTicks: Number(opt('StartTimeTicks') || 0), playSessionId, audioStreamIndex: audioIndex, subtitleStreamIndex: subtitleIndex });
    return { json: { MediaSources: [source], PlaySessionId: playSessionId } };
  };
  router.add('POST', '/Items/{itemId}/PlaybackInfo', playbackInfo);
  router.add('GET', '/Items/{itemId}/PlaybackInfo', playbackInfo);

  /** VideosController.GetVideoStream: the file, with byte ranges. */
  const stream = async (ctx) => {
    const it = item(ctx.params.itemId);
    if (it.transcodeReasons && queryGet(ctx.url, 'Static') === 'true') {
      // The declared source is not a file the browser can play; only the HLS route serves it.
      throw new HttpError(400, 'this item needs transcoding');
    }
    const { size } = await stat(it.media.file);
    return { file: it.media.file, size, type: 'video/mp4' };
  };
  router.add('GET', '/Videos/{itemId}/stream', stream);
  router.add('GET', '/Videos/{itemId}/stream.{container}', stream);

  router.add('GET', '/Videos/{itemId}/master.m3u8', async (ctx) => {
    const it = item(ctx.params.itemId);
    const bandwidth = it.media.videoBitrate + it.media.audioBitrate;
    // DynamicHlsHelper.GetMasterHlsPlaylist → AppendPlaylist: one variant, main.m3u8 with the
    // same query string.
    const text = '#EXTM3U\n'
      + `#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},AVERAGE-BANDWIDTH=${bandwidth},VIDEO-RANGE=SDR,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=${it.media.width}x${it.media.height},FRAME-RATE=${it.media.fps.toFixed(3)}\n`
      + `main.m3u8${ctx.url.search}\n`;
    return { text, type: 'application/vnd.apple.mpegurl' };
  });
  router.add('GET', '/Videos/{itemId}/main.m3u8', async (ctx) => {
    item(ctx.params.itemId);
    const { durations } = await state.hls();
    let text = '#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-VERSION:3\n'
      + `#EXT-X-TARGETDURATION:${Math.ceil(Math.max(...durations))}\n#EXT-X-MEDIA-SEQUENCE:0\n`;
    let runtime = 0;
    durations.forEach((d, i) => {
      const ticks = Math.round(d * TICKS_PER_SECOND);
      text += `#EXTINF:${d.toFixed(6)}, nodesc\nhls1/main/${i}.ts${ctx.url.search}&runtimeTicks=${runtime}&actualSegmentLengthTicks=${ticks}\n`;
      runtime += ticks;
    });
    text += '#EXT-X-ENDLIST\n';
    return { text, type: 'application/vnd.apple.mpegurl' };
  });
  router.add('GET', '/Videos/{itemId}/hls1/{playlistId}/{segmentId}.{container}', async (ctx) => {
    item(ctx.params.itemId);
    const { dir, durations } = await state.hls();
    const n = Number(ctx.params.segmentId);
    if (!Number.isInteger(n) || n < 0 || n >= durations.length || ctx.params.container !== 'ts') throw new HttpError(404, 'no such segment');
    const file = join(dir, `${n}.ts`);
    const { size } = await stat(file);
    state.segmentsServed += 1;
    return { file, size, type: 'video/mp2t' };
  });
  router.add('DELETE', '/Videos/ActiveEncodings', () => ({ status: 204 }));
}

/** Streams `file` honouring a single `Range: bytes=a-b` (the form browsers send). */
export function sendFile(req, res, { file, size, type }) {
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range || '');
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (range) {
    if (range[1] === '') { start = Math.max(0, size - Number(range[2])); } else {
      start = Number(range[1]);
      if (range[2] !== '') end = Math.min(size - 1, Number(range[2]));
    }
    if (start > end || start >= size) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` });
      res.end();
      return;
    }
    status = 206;
  }
  const headers = { 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Content-Length': end - start + 1 };
  if (status === 206) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(status, headers);
  if (req.method === 'HEAD') { res.end(); return; }
  createReadStream(file, { start, end }).on('error', () => res.destroy()).pipe(res);
}
