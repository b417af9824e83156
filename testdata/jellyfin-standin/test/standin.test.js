// The Jellyfin stand-in over real HTTP on 127.0.0.1:0: Jellyfin's shapes, the plugin's
// endpoints decided by the plugin Core under Mono, bad input refused without side effects.

import test from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startStandin } from '../server.js';
import { startCore, REPO } from '../lib/core.js';

const WEB = (v) => join(REPO, 'testdata', 'jellyfin-web', v);
const VECTOR = join(REPO, 'testdata', 'jwt', 'vector.json');
const KEY = join(REPO, 'testdata', 'jwt', 'test-key.private.jwk.json');
const AUTH = (extra = '') => `MediaBrowser Client="Jellyfin Web", Device="Chrome", DeviceId="dev-${extra || 'x'}", Version="10.11.11"`;

async function login(jf, name, password, device = name) {
  const r = await fetch(`${jf.url}/Users/AuthenticateByName`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: AUTH(device) },
    body: JSON.stringify({ Username: name, Pw: password }),
  });
  assert.equal(r.status, 200);
  return r.json();
}
const authed = (token) => ({ Authorization: `${AUTH()}, Token="${token}"` });
const b64json = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

test('Core under Mono signs the cross-language vector byte for byte', async () => {
  const v = JSON.parse(await readFile(VECTOR, 'utf8'));
  const core = await startCore(KEY);
  try {
    const i = v.issuer_inputs;
    assert.equal(await core.token(i.user_id, i.name, i.server_id, i.issued_at_unix, i.lifetime_seconds), v.token);
    // Core's own input checks still apply: an API key's empty user id gets nothing.
    await assert.rejects(core.token('0'.repeat(32), 'x', i.server_id, 1, 300), /API key/);
  } finally {
    await core.stop();
  }
});

// jellyfin-web's files (testdata/jellyfin-web/<web>/), served by the Jellyfin they ship with;
// `abi`: the plugin build that Jellyfin line installs (x.y.z.<abi>).
for (const { web, version, abi } of [
  { web: '10.10.7', version: '10.10.7', abi: 10 },
  { web: '10.11.11', version: '10.11.11', abi: 11 },
  { web: '12.0-rc5', version: '12.0.0', abi: 12 },
]) {
  test(`jellyfin-web ${web} files come through the plugin's rewrite`, async (t) => {
    const jf = await startStandin({ webDir: WEB(web), version, quiet: true, matinee: { serverUrl: 'http://127.0.0.1:9/' } });
    t.after(() => jf.stop());
    const original = await readFile(join(WEB(web), 'index.html'), 'utf8');
    const r = await fetch(`${jf.url}/web/index.html`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    const html = await r.text();
    const tag = `<script src="/Matinee/ClientScript?v=0.1.0.${abi}" data-matinee="0.1.0.${abi}"></script>`;
    // Exactly one tag, before the first deferred bundle, and nothing else changed.
    assert.equal(html.split('data-matinee=').length, 2);
    const first = original.indexOf('<script');
    assert.equal(html, original.slice(0, first) + tag + original.slice(first));
    assert.equal(await (await fetch(`${jf.url}/web/`)).text(), html, '/web/ is the same page');
    const config = await (await fetch(`${jf.url}/web/config.json`)).json();
    const shipped = JSON.parse(await readFile(join(WEB(web), 'config.json'), 'utf8'));
    assert.deepEqual(config.plugins, [...shipped.plugins, 'MatineePlugin']);
    assert.deepEqual(jf.state.rewrites.map((x) => x.outcome), ['Inserted', 'Inserted', 'Added']);
  });
}

test('without the plugin nothing is rewritten and /Matinee/* does not exist', async (t) => {
  const jf = await startStandin({ webDir: WEB('10.11.11'), quiet: true, matinee: null });
  t.after(() => jf.stop());
  assert.equal(await (await fetch(`${jf.url}/web/index.html`)).text(), await readFile(join(WEB('10.11.11'), 'index.html'), 'utf8'));
  assert.equal((await fetch(`${jf.url}/Matinee/ClientScript`)).status, 404);
  assert.deepEqual(jf.unknown.map((u) => u.path), ['/Matinee/ClientScript']);
});

test('login, users, items and playback info have Jellyfin\'s shapes', async (t) => {
  const jf = await startStandin({ quiet: true, matinee: null });
  t.after(() => jf.stop());
  const info = await (await fetch(`${jf.url}/System/Info/Public`)).json();
  assert.deepEqual(Object.keys(info), ['LocalAddress', 'ServerName', 'Version', 'ProductName', 'OperatingSystem', 'Id', 'StartupWizardCompleted']);
  assert.match(info.Id, /^[0-9a-f]{32}$/);

  // Wrong password and unknown user look the same; nothing is created.
  for (const [u, p] of [['Bob', 'nope'], ['Nobody', '']]) {
    const r = await fetch(`${jf.url}/Users/AuthenticateByName`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: AUTH() }, body: JSON.stringify({ Username: u, Pw: p }) });
    assert.equal(r.status, 401);
  }
  const bad = await fetch(`${jf.url}/Users/AuthenticateByName`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: AUTH() }, body: '{"Username":' });
  assert.equal(bad.status, 400);
  assert.equal(jf.sessions.byId.size, 0);

  const auth = await login(jf, 'bob', 'bob-pw', 'bob-1'); // user names match without case, like UserManager
  assert.deepEqual(Object.keys(auth), ['User', 'SessionInfo', 'AccessToken', 'ServerId']);
  assert.equal(auth.User.Name, 'Bob');
  assert.equal(auth.User.Policy.IsAdministrator, false);
  // What .NET prints for new Guid(MD5(UTF-16LE("Jellyfin Web" + "dev-bob-1"))).ToString("N"),
  // computed once under Mono: SessionManager's session id for this client and device.
  assert.equal(auth.SessionInfo.Id, '6e26a3681b0366f0bbe17eed6582ddca');
  assert.equal(auth.SessionInfo.UserId, auth.User.Id);
  const h = authed(auth.AccessToken);
  assert.equal((await (await fetch(`${jf.url}/Users/Me`, { headers: h })).json()).Id, auth.User.Id);
  assert.equal((await fetch(`${jf.url}/Users/Me`)).status, 401, 'no token, no user');
  assert.equal((await fetch(`${jf.url}/Users/${jf.user('Ann').id}`, { headers: h })).status, 403, 'another user\'s record');

  const views = await (await fetch(`${jf.url}/UserViews?userId=${auth.User.Id}`, { headers: h })).json();
  assert.equal(views.Items[0].CollectionType, 'movies');
  const items = await (await fetch(`${jf.url}/Items?ParentId=${views.Items[0].Id}&IncludeItemTypes=Movie&Recursive=true`, { headers: h })).json();
  assert.deepEqual(items.Items.map((i) => i.Name), ['The Clock', 'The Clock Bilingual', 'The Clock Returns', 'The Clock Transcoded', 'The Clock Trilingual']);
  assert.equal(items.TotalRecordCount, 5);

  const clock = jf.item('The Clock');
  const full = await (await fetch(`${jf.url}/Users/${auth.User.Id}/Items/${clock.id}`, { headers: h })).json();
  assert.equal(full.MediaSources[0].Id, clock.id);
  assert.equal(full.RunTimeTicks, 600_000_000);

  const pi = async (item, body = {}) => (await fetch(`${jf.url}/Items/${item.id}/PlaybackInfo?UserId=${auth.User.Id}`, { method: 'POST', headers: { ...h, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json();
  const direct = await pi(clock);
  assert.equal(direct.MediaSources[0].SupportsDirectPlay, true);
  assert.equal(direct.MediaSources[0].TranscodingUrl, undefined);
  assert.match(direct.PlaySessionId, /^[0-9a-f]{32}$/);
  const hls = await pi(jf.item('The Clock Transcoded'));
  const src = hls.MediaSources[0];
  assert.equal(src.SupportsDirectPlay, false);
  assert.equal(src.TranscodingSubProtocol, 'hls');
  assert.match(src.TranscodingUrl, new RegExp(`^/videos/${jf.item('The Clock Transcoded').id}/master\\.m3u8\\?DeviceId=dev-bob-1&MediaSourceId=`), 'the session\'s device');
  assert.ok(src.TranscodingUrl.endsWith('&TranscodeReasons=ContainerNotSupported%2CVideoCodecNotSupported%2CAudioCodecNotSupported'));
  assert.ok(src.TranscodingUrl.includes(`ApiKey=${auth.AccessToken}`), '10.11 names the key ApiKey');
  assert.equal((await pi(clock, { MaxStreamingBitrate: 1000 })).MediaSources[0].SupportsDirectPlay, false, 'a bitrate cap below the file\'s transcodes');

  // Two audio and two subtitle streams (MediaBrowser.Model/Entities/MediaStream.cs shapes).
  const bilingual = jf.item('The Clock Bilingual');
  const two = await (await fetch(`${jf.url}/Users/${auth.User.Id}/Items/${bilingual.id}`, { headers: h })).json();
  assert.equal(two.HasSubtitles, true);
  assert.deepEqual(two.MediaStreams.map((x) => [x.Index, x.Type, x.Language ?? null, x.IsDefault]),
    [[0, 'Video', null, true], [1, 'Audio', 'eng', true], [2, 'Audio', 'fra', false], [3, 'Subtitle', 'eng', false], [4, 'Subtitle', 'fra', false]]);
  assert.equal(two.MediaStreams[2].DisplayTitle, 'French - AAC - Mono');
  assert.equal(two.MediaStreams[4].DisplayTitle, 'French - SUBRIP');
  assert.equal(two.MediaStreams[4].IsTextSubtitleStream, true);
  assert.deepEqual(full.MediaStreams.map((x) => [x.Index, x.Type]), [[0, 'Video'], [1, 'Audio']], 'the other films unchanged');
  // The tracks asked for become the source's defaults; one the file lacks is ignored.
  const chosen = (await pi(bilingual, { AudioStreamIndex: 2, SubtitleStreamIndex: 4 })).MediaSources[0];
  assert.equal(chosen.DefaultAudioStreamIndex, 2);
  assert.equal(chosen.DefaultSubtitleStreamIndex, 4);
  const off = (await pi(bilingual, { AudioStreamIndex: 9, SubtitleStreamIndex: -1 })).MediaSources[0];
  assert.equal(off.DefaultAudioStreamIndex, 1);
  assert.equal(off.DefaultSubtitleStreamIndex, -1);
});

test('login reads Username and Pw without regard to case, and nothing else, like a real 10.11.11', async (t) => {
  const jf = await startStandin({ quiet: true, matinee: null });
  t.after(() => jf.stop());
  const post = (body) => fetch(`${jf.url}/Users/AuthenticateByName`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: AUTH('case') }, body: JSON.stringify(body),
  });
  // What a real Jellyfin 10.11.11 answered to each body (testdata/jellyfin-real/README.md).
  assert.equal((await post({ username: 'Bob', pw: 'bob-pw' })).status, 200);
  assert.equal((await post({ USERNAME: 'bob', PW: 'bob-pw' })).status, 200);
  assert.equal((await post({ Username: 'Bob', Password: 'bob-pw' })).status, 401);
  assert.equal((await post({ username: 'Bob', pw: 'wrong' })).status, 401);
  assert.equal((await post({ name: 'Bob' })).status, 400);
  assert.deepEqual(jf.state.log.filter((e) => e.kind === 'auth-failed').map((e) => e.name), ['Bob', 'Bob']);
  assert.equal(jf.sessions.list({}).length, 1, 'the good logins share their device\'s one session');
});

test('the stream honours ranges; the HLS transcode is master → main → TS segments', async (t) => {
  const jf = await startStandin({ quiet: true, matinee: null, version: '10.10.7' });
  t.after(() => jf.stop());
  const { AccessToken: token } = await login(jf, 'Ann', 'ann-pw');
  const clock = jf.item('The Clock');
  const file = await readFile(clock.media.file);
  const r = await fetch(`${jf.url}/Videos/${clock.id}/stream.mp4?Static=true&api_key=${token}`, { headers: { Range: 'bytes=100-199' } });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get('content-range'), `bytes 100-199/${file.length}`);
  assert.deepEqual(Buffer.from(await r.arrayBuffer()), file.subarray(100, 200));
  assert.equal((await fetch(`${jf.url}/Videos/${clock.id}/stream.mp4?Static=true`)).status, 401, 'no key, no stream');
  assert.equal((await fetch(`${jf.url}/Videos/${clock.id}/stream.mp4?api_key=${token}`, { headers: { Range: `bytes=${file.length + 5}-` } })).status, 416);
  assert.ok(!jf.state.log.some((e) => e.path.includes(token)), 'the request log never holds a token');

  const hlsItem = jf.item('The Clock Transcoded');
  const info = await (await fetch(`${jf.url}/Items/${hlsItem.id}/PlaybackInfo`, { method: 'POST', headers: { ...authed(token), 'Content-Type': 'application/json' }, body: '{}' })).json();
  const masterUrl = new URL(info.MediaSources[0].TranscodingUrl, jf.url);
  assert.equal(masterUrl.searchParams.get('api_key'), token, '10.10 names the key api_key');
  const master = await (await fetch(masterUrl)).text();
  assert.match(master, /^#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,VIDEO-RANGE=SDR,CODECS="avc1\.640028,mp4a\.40\.2",RESOLUTION=640x360,FRAME-RATE=25\.000\nmain\.m3u8\?/);
  const mainUrl = new URL(master.trim().split('\n').pop(), masterUrl);
  const main = await (await fetch(mainUrl)).text();
  const lines = main.trim().split('\n');
  assert.deepEqual(lines.slice(0, 5), ['#EXTM3U', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:3', '#EXT-X-MEDIA-SEQUENCE:0']);
  assert.equal(lines.at(-1), '#EXT-X-ENDLIST');
  const durations = lines.filter((l) => l.startsWith('#EXTINF:')).map((l) => Number(/#EXTINF:([\d.]+), nodesc/.exec(l)[1]));
  assert.ok(Math.abs(durations.reduce((a, b) => a + b, 0) - 60) < 0.1, 'the segments cover the whole clip');
  const segs = lines.filter((l) => l.startsWith('hls1/main/'));
  assert.equal(segs.length, durations.length);
  assert.match(segs[1], /^hls1\/main\/1\.ts\?.*&runtimeTicks=\d+&actualSegmentLengthTicks=\d+$/);
  const seg = Buffer.from(await (await fetch(new URL(segs[1], mainUrl))).arrayBuffer());
  assert.ok(seg.length > 188 && seg.length % 188 === 0 && seg[0] === 0x47 && seg[188] === 0x47, 'an MPEG-TS segment');
  assert.equal((await fetch(new URL(`hls1/main/${segs.length}.ts${mainUrl.search}`, mainUrl))).status, 404);
});

test('sessions: playing reports, remote playstate over /socket, unknown endpoints logged', async (t) => {
  const jf = await startStandin({ quiet: true, matinee: null });
  t.after(() => jf.stop());
  const bob = await login(jf, 'Bob', 'bob-pw', 'tv');
  const ann = await login(jf, 'Ann', 'ann-pw', 'phone');
  const clock = jf.item('The Clock');
  const post = (token, path, body) => fetch(`${jf.url}${path}`, { method: 'POST', headers: { ...authed(token), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal((await post(bob.AccessToken, '/Sessions/Capabilities/Full', { PlayableMediaTypes: ['Video'], SupportedCommands: ['Play'], SupportsMediaControl: true })).status, 204);
  assert.equal((await post(bob.AccessToken, '/Sessions/Playing', { ItemId: clock.id, PositionTicks: 50_000_000, IsPaused: false, PlayMethod: 'DirectPlay', PlaySessionId: 'p1' })).status, 204);
  await post(bob.AccessToken, '/Sessions/Playing/Progress', { ItemId: clock.id, PositionTicks: 70_000_000, IsPaused: true, EventName: 'pause' });
  const list = await (await fetch(`${jf.url}/Sessions?controllableByUserId=${bob.User.Id}`, { headers: authed(bob.AccessToken) })).json();
  assert.equal(list.length, 1);
  assert.equal(list[0].NowPlayingItem.Id, clock.id);
  assert.equal(list[0].PlayState.PositionTicks, 70_000_000);
  assert.equal(list[0].PlayState.IsPaused, true);
  assert.equal(jf.state.userData(bob.User.Id, clock.id).positionTicks, 70_000_000, 'progress keeps the resume point');
  // The login's DeviceId is "dev-tv"; Jellyfin matches ?deviceId= without regard to case.
  const byDevice = async (id) => (await (await fetch(`${jf.url}/Sessions?deviceId=${id}`, { headers: authed(bob.AccessToken) })).json()).map((s) => s.Id);
  assert.deepEqual(await byDevice('DEV-TV'), [list[0].Id]);
  assert.deepEqual(await byDevice('dev-phone'), [], 'Ann\'s session is not Bob\'s to see');

  // Bob's browser socket: ForceKeepAlive first, then the command Bob sends to his own session.
  const ws = new WebSocket(`${jf.url.replace('http', 'ws')}/socket?api_key=${bob.AccessToken}&deviceId=dev-tv`);
  const messages = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d))));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  t.after(() => ws.close());
  const until = async (fn) => { for (let i = 0; i < 100 && !fn(); i++) await new Promise((r) => setTimeout(r, 20)); assert.ok(fn()); };
  await until(() => messages.length >= 1);
  assert.equal(messages[0].MessageType, 'ForceKeepAlive');
  ws.send(JSON.stringify({ MessageType: 'KeepAlive' }));
  await until(() => messages.some((m) => m.MessageType === 'KeepAlive'));
  const sid = list[0].Id;
  assert.equal((await post(ann.AccessToken, `/Sessions/${sid}/Playing/Unpause`, {})).status, 204, 'an admin may control it');
  assert.equal((await post(bob.AccessToken, `/Sessions/${sid}/Playing/seek?seekPositionTicks=90000000`, {})).status, 204);
  assert.equal((await post(bob.AccessToken, `/Sessions/${sid}/Playing/Explode`, {})).status, 400);
  await until(() => messages.filter((m) => m.MessageType === 'Playstate').length === 2);
  assert.deepEqual(messages.filter((m) => m.MessageType === 'Playstate').map((m) => m.Data), [
    { Command: 'Unpause', ControllingUserId: ann.User.Id },
    { Command: 'Seek', SeekPositionTicks: 90_000_000, ControllingUserId: bob.User.Id },
  ]);
  // A general command (what a remote seat sends to ask for a report) reaches the socket too.
  assert.equal((await post(bob.AccessToken, `/Sessions/${sid}/Command`, { Name: 'SetRepeatMode', Arguments: { RepeatMode: 'RepeatNone' } })).status, 204);
  assert.equal((await post(bob.AccessToken, `/Sessions/${sid}/Command`, { Arguments: {} })).status, 400, 'a GeneralCommand needs a Name');
  assert.equal((await post(bob.AccessToken, '/Sessions/no-such-session/Command', { Name: 'SetRepeatMode', Arguments: {} })).status, 404);
  await until(() => messages.some((m) => m.MessageType === 'GeneralCommand'));
  assert.deepEqual(messages.filter((m) => m.MessageType === 'GeneralCommand').map((m) => m.Data), [
    { Name: 'SetRepeatMode', Arguments: { RepeatMode: 'RepeatNone' }, ControllingUserId: bob.User.Id },
  ]);
  // An unknown token: refused with 403, as Jellyfin's WebSocketManager (SecurityException) does.
  const unauthorized = new WebSocket(`${jf.url.replace('http', 'ws')}/socket?api_key=wrong`);
  const refused = await new Promise((r) => { unauthorized.once('error', () => r('error')); unauthorized.once('unexpected-response', (_, res) => r(res.statusCode)); });
  assert.equal(refused, 403);

  assert.equal((await fetch(`${jf.url}/Nothing/Here?ApiKey=${bob.AccessToken}`)).status, 404);
  assert.deepEqual(jf.unknown, [{ method: 'GET', path: '/Nothing/Here?ApiKey=***' }]);
});

test('a playing session\'s listed position moves a second every second after its report; its check-in does not', async (t) => {
  // Jellyfin's automatic progress: MediaBrowser.Controller/Session/SessionInfo.cs
  // (StartAutomaticProgress, OnProgressTimerCallback: ProgressIncrement = 1 s every 1000 ms,
  // nothing while paused) through SessionManager.OnPlaybackProgress(info, isAutomated: true),
  // which leaves LastPlaybackCheckIn alone. Seen on a real 10.11.11: PositionTicks 100249650,
  // 110249650, 120249650 a second apart under one LastPlaybackCheckIn.
  const jf = await startStandin({ quiet: true, matinee: null });
  t.after(() => jf.stop());
  const bob = await login(jf, 'Bob', 'bob-pw', 'tv');
  const clock = jf.item('The Clock');
  const post = (path, body) => fetch(`${jf.url}${path}`, { method: 'POST', headers: { ...authed(bob.AccessToken), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const listed = async () => (await (await fetch(`${jf.url}/Sessions?deviceId=dev-tv`, { headers: authed(bob.AccessToken) })).json())[0];
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  assert.equal((await post('/Sessions/Playing', { ItemId: clock.id, PositionTicks: 50_000_000, IsPaused: false, PlayMethod: 'DirectPlay' })).status, 204);
  const first = await listed();
  const checkIn = first.LastPlaybackCheckIn;
  await sleep(1100);
  const later = await listed();
  const added = later.PlayState.PositionTicks - 50_000_000;
  assert.ok(added >= 10_000_000 && added % 10_000_000 === 0, `whole seconds added: ${added}`);
  assert.equal(later.LastPlaybackCheckIn, checkIn, 'the check-in stays that of the report');
  assert.ok(Date.parse(later.LastActivityDate) > Date.parse(checkIn), 'the activity date moves with each step');
  // A paused report stays where it was.
  await post('/Sessions/Playing/Progress', { ItemId: clock.id, PositionTicks: 70_000_000, IsPaused: true, EventName: 'pause' });
  await sleep(1100);
  assert.equal((await listed()).PlayState.PositionTicks, 70_000_000);
  // Never past the item's runtime.
  const runTime = first.NowPlayingItem.RunTimeTicks;
  await post('/Sessions/Playing/Progress', { ItemId: clock.id, PositionTicks: runTime - 5_000_000, IsPaused: false, EventName: 'unpause' });
  await sleep(1100);
  assert.equal((await listed()).PlayState.PositionTicks, runTime - 5_000_000);
});

test('the plugin endpoints: tokens for users only, verifiable with the published JWKS', async (t) => {
  const jf = await startStandin({ quiet: true, apiKeys: ['an-api-key'], matinee: { serverUrl: ' https://watch.example.org/ ', defaultControl: 'SHARED', tokenLifetimeSeconds: 10 } });
  t.after(() => jf.stop());
  const cleo = await login(jf, 'Cleo', 'cleo-pw');
  const r = await fetch(`${jf.url}/Matinee/Token`, { headers: authed(cleo.AccessToken) });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const { Token, ExpiresIn } = await r.json();
  assert.equal(ExpiresIn, 30, 'TokenLifetime.Effective clamps 10 s to the 30 s minimum');
  const [h, p, s] = Token.split('.');
  const header = b64json(h);
  const payload = b64json(p);
  assert.equal(payload.sub, cleo.User.Id);
  assert.equal(payload.name, 'Cleo');
  assert.equal(payload.aud, 'matinee');
  assert.equal(payload.iss, jf.state.serverId);
  assert.equal(payload.exp - payload.iat, 30);
  const jwks = await (await fetch(`${jf.url}/Matinee/Jwks`)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, 'the token\'s kid is in the JWKS');
  assert.ok(verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url')));

  assert.equal((await fetch(`${jf.url}/Matinee/Token`)).status, 401);
  const byKey = await fetch(`${jf.url}/Matinee/Token`, { headers: { Authorization: 'MediaBrowser Token="an-api-key"' } });
  assert.equal(byKey.status, 403, 'API keys get no token');
  assert.equal((await byKey.json()).Code, 'forbidden');

  const config = await (await fetch(`${jf.url}/Matinee/Config`, { headers: authed(cleo.AccessToken) })).json();
  assert.equal(config.Version, '0.1.0');
  assert.equal(config.DefaultControl, 'shared');
  assert.equal(config.TokenLifetimeSeconds, 30);
  assert.match(config.ServerUrl, /^https:\/\/watch\.example\.org\/?$/);

  const loader = await fetch(`${jf.url}/Matinee/ClientScript`);
  assert.equal(loader.headers.get('etag'), '"0.1.0.11"');
  assert.equal(await loader.text(), await readFile(join(REPO, 'client-js', 'src', 'loader.js'), 'utf8'));
  assert.equal((await fetch(`${jf.url}/Matinee/Client/core/manager.js`, { headers: { 'If-None-Match': '"0.1.0.11"' } })).status, 304);
  for (const bad of ['..%2Floader.js', 'core%2F..%2F..%2FREADME.md', 'core//manager.js', 'nothing.js', 'demo/clip.mp4', 'core/manager.js%00']) {
    assert.equal((await fetch(`${jf.url}/Matinee/Client/${bad}`)).status, 404, bad);
  }
});

test('Jellyfin 12 refuses the legacy ways of passing a token; 10.11 takes them all', async (t) => {
  const ways = (token) => ({
    'Authorization: MediaBrowser': [{ headers: authed(token) }, ''],
    '?ApiKey=': [{}, `?ApiKey=${token}`],
    'Authorization: Emby': [{ headers: { Authorization: `Emby Token="${token}"` } }, ''],
    'X-Emby-Authorization': [{ headers: { 'X-Emby-Authorization': `MediaBrowser Token="${token}"` } }, ''],
    'X-Emby-Token': [{ headers: { 'X-Emby-Token': token } }, ''],
    'X-MediaBrowser-Token': [{ headers: { 'X-MediaBrowser-Token': token } }, ''],
    '?api_key=': [{}, `?api_key=${token}`],
  });
  const statuses = async (jf, token) => {
    const out = {};
    for (const [way, [init, query]] of Object.entries(ways(token))) out[way] = (await fetch(`${jf.url}/Users/Me${query}`, init)).status;
    return out;
  };
  const socketOpens = async (jf, query, headers = {}) => new Promise((resolve) => {
    const ws = new WebSocket(`${jf.url.replace('http', 'ws')}/socket${query}`, { headers });
    ws.once('open', () => { ws.close(); resolve(true); });
    ws.once('error', () => resolve('error'));
    ws.once('unexpected-response', (_, res) => resolve(res.statusCode));
  });

  const jf12 = await startStandin({ quiet: true, version: '12.0.0' });
  t.after(() => jf12.stop());
  const bob12 = await login(jf12, 'Bob', 'bob-pw');
  assert.deepEqual(await statuses(jf12, bob12.AccessToken), {
    'Authorization: MediaBrowser': 200, '?ApiKey=': 200,
    'Authorization: Emby': 401, 'X-Emby-Authorization': 401, 'X-Emby-Token': 401, 'X-MediaBrowser-Token': 401, '?api_key=': 401,
  });
  assert.equal(await socketOpens(jf12, `?ApiKey=${bob12.AccessToken}`), true);
  assert.equal(await socketOpens(jf12, '', authed(bob12.AccessToken)), true, 'a native client sends the header');
  assert.equal(await socketOpens(jf12, `?api_key=${bob12.AccessToken}`), 403, 'refused as the real 12.0.0 refuses it (403)');
  const on = await startStandin({ quiet: true, version: '12.0.0', legacyAuth: true });
  t.after(() => on.stop());
  assert.equal((await fetch(`${on.url}/Users/Me`, { headers: { 'X-Emby-Token': (await login(on, 'Bob', 'bob-pw')).AccessToken } })).status, 200, 'the admin may turn legacy authorization back on');

  const jf11 = await startStandin({ quiet: true, version: '10.11.11' });
  t.after(() => jf11.stop());
  const bob11 = await login(jf11, 'Bob', 'bob-pw');
  assert.deepEqual(Object.values(await statuses(jf11, bob11.AccessToken)), Array(7).fill(200));
  assert.equal(await socketOpens(jf11, `?api_key=${bob11.AccessToken}`), true);
});

test('a series of three episodes: next-up follows what the user played, episodes list from a start item', async (t) => {
  const jf = await startStandin({ quiet: true, matinee: null });
  t.after(() => jf.stop());
  const auth = await login(jf, 'Ann', 'ann-pw', 'ann-series');
  const h = authed(auth.AccessToken);
  const get = async (path) => {
    const r = await fetch(`${jf.url}${path}`, { headers: h });
    assert.equal(r.status, 200, path);
    return r.json();
  };
  const [e1, e2, e3] = [1, 2, 3].map((n) => jf.item(`Tick ${n}`));
  const seriesId = e1.episode.series.id;
  const nextUp = () => get(`/Shows/NextUp?SeriesId=${seriesId}&UserId=${auth.User.Id}&Fields=MediaSourceCount`);

  // Nothing played: the first episode. The answer is a QueryResult of BaseItemDto.
  let r = await nextUp();
  assert.deepEqual(Object.keys(r), ['Items', 'TotalRecordCount', 'StartIndex']);
  assert.deepEqual(r.Items.map((i) => i.Id), [e1.id]);
  const dto = r.Items[0];
  assert.equal(dto.Type, 'Episode');
  assert.deepEqual([dto.SeriesId, dto.SeriesName, dto.ParentIndexNumber, dto.IndexNumber, dto.SeasonName], [seriesId, 'The Clock Series', 1, 1, 'Season 1']);
  assert.equal(dto.RunTimeTicks, 600_000_000);
  // The home screen's row (no SeriesId) lists only series the user has played in.
  assert.deepEqual((await get(`/Shows/NextUp?UserId=${auth.User.Id}`)).Items, []);
  // E1 played: E2; E2 played too: E3; all played: nothing.
  for (const [played, next] of [[e1, [e2.id]], [e2, [e3.id]], [e3, []]]) {
    assert.equal((await fetch(`${jf.url}/Users/${auth.User.Id}/PlayedItems/${played.id}`, { method: 'POST', headers: h })).status, 200);
    r = await nextUp();
    assert.deepEqual(r.Items.map((i) => i.Id), next);
    assert.deepEqual((await get(`/Shows/NextUp?UserId=${auth.User.Id}`)).Items.map((i) => i.Id), next);
  }
  // Another user's plays are not Ann's: Bob's next up is the first episode.
  const bob = await login(jf, 'Bob', 'bob-pw', 'bob-series');
  const rb = await (await fetch(`${jf.url}/Shows/NextUp?SeriesId=${seriesId}`, { headers: authed(bob.AccessToken) })).json();
  assert.deepEqual(rb.Items.map((i) => i.Id), [e1.id]);

  // Episodes from a start item (TvShowsController.GetEpisodes' startItemId): E2 then E3.
  const eps = await get(`/Shows/${seriesId}/Episodes?UserId=${auth.User.Id}&StartItemId=${e2.id}&Limit=2`);
  assert.deepEqual(eps.Items.map((i) => i.Name), ['Tick 2', 'Tick 3']);
  assert.equal((await get(`/Shows/${seriesId}/Episodes?StartItemId=${'0'.repeat(32)}`)).Items.length, 0);
  assert.equal((await fetch(`${jf.url}/Shows/${'0'.repeat(32)}/Episodes`, { headers: h })).status, 404);
  // An episode is an item like any other: by id, and through Items?Ids= (playbackManager.play).
  assert.equal((await get(`/Items/${e2.id}`)).SeriesId, seriesId);
  assert.deepEqual((await get(`/Users/${auth.User.Id}/Items?Ids=${e3.id}`)).Items.map((i) => i.Name), ['Tick 3']);
  // The movie library's listing is unchanged: no episodes in it.
  assert.ok((await get(`/Users/${auth.User.Id}/Items`)).Items.every((i) => i.Type === 'Movie'));
});
