// @ts-check
import test from 'node:test';
import assert from 'node:assert/strict';
import { expectedPosition, parseServerMessage, ProtocolError, msg, normalizeRoomCode, stateOf } from '../../src/core/protocol.js';
import { makeSettings, DEFAULT_SETTINGS } from '../../src/core/settings.js';
import { translator, pickLanguage, STRINGS, leftText } from '../../src/ui/i18n.js';
import { parseConfig, wsUrlFrom, inviteUrlFrom } from '../../src/jellyfin.js';

test('the one formula: holds before `at`, advances at `rate` after, frozen when paused', () => {
  const s = { playing: true, position: 10, rate: 1.5, at: 1000 };
  assert.equal(expectedPosition(s, 500), 10);
  assert.equal(expectedPosition(s, 1000), 10);
  assert.equal(expectedPosition(s, 3000), 13);
  assert.equal(expectedPosition({ ...s, playing: false }, 3000), 10);
});

test('server frames are checked; unknown types and fields pass through', () => {
  assert.throws(() => parseServerMessage('{'), ProtocolError);
  assert.throws(() => parseServerMessage('[]'), ProtocolError);
  assert.throws(() => parseServerMessage('{"type":"pong","t0":1}'), ProtocolError);
  assert.throws(() => parseServerMessage('{"type":"state","playing":true,"position":1,"rate":0,"at":1,"seq":1}'), ProtocolError);
  const st = parseServerMessage('{"type":"state","media":null,"playing":true,"position":1,"rate":1,"at":5,"seq":3,"reason":"play","by":null,"extra":1}');
  assert.equal(stateOf(st).seq, 3);
  assert.equal(stateOf({ type: 'state', state: { seq: 9 } }).seq, 9);
  assert.deepEqual(parseServerMessage('{"type":"future_thing","x":1}'), { type: 'future_thing', x: 1 });
});

test('client messages match DESIGN §3 field names', () => {
  assert.deepEqual(msg.hello({ name: 'A', resume: 'r' }), { type: 'hello', protocol: 1, resume: 'r', name: 'A' });
  assert.deepEqual(msg.status({ position: 1.23456, playing: true, buffering: false, rtt_ms: null, offset_ms: 2, error_ms: -1, seek_ms: 80 }),
    { type: 'status', position: 1.235, playing: true, buffering: false, rtt_ms: 0, offset_ms: 2, error_ms: -1, seek_ms: 80 });
  assert.deepEqual(msg.transferHost('m2'), { type: 'transfer_host', member_id: 'm2' });
  assert.deepEqual(msg.setMedia({ id: 'x' }, 3), { type: 'set_media', media: { id: 'x' }, position: 3 });
});

test('room codes are normalised; garbage is refused', () => {
  assert.equal(normalizeRoomCode(' ab-c d12 '), 'ABCD12');
  assert.equal(normalizeRoomCode('a'), null);
  assert.equal(normalizeRoomCode('abc!@#'), null);
});

test('settings: overrides are checked', () => {
  assert.equal(makeSettings({ deadBandMs: 5 }).deadBandMs, 5);
  assert.equal(makeSettings().seekThresholdMs, DEFAULT_SETTINGS.seekThresholdMs);
  assert.throws(() => makeSettings({ nope: 1 }), /unknown/);
  assert.throws(() => makeSettings({ deadBandMs: -1 }), /finite/);
  assert.ok(Object.isFrozen(makeSettings()));
});

test('strings: French where translated, English fallback for anything else', () => {
  assert.equal(pickLanguage(['fr-CA', 'en']), 'fr');
  assert.equal(pickLanguage(['de-DE']), 'en');
  const fr = translator('fr');
  assert.equal(fr('createRoom'), 'Créer un salon');
  assert.equal(fr('codePlaceholder'), 'ABCDEF', 'missing French key falls back to English');
  assert.equal(translator('xx')('leave'), 'Leave');
  assert.equal(fr('syncWaiting', { names: 'Bob' }), 'En attente de Bob');
  // Every French key exists in English (English is the reference).
  for (const k of Object.keys(STRINGS.fr)) assert.ok(k in STRINGS.en, k);
});

test('jellyfin: config in PascalCase or camelCase; server URL to a ws(s) URL', () => {
  assert.deepEqual(parseConfig({ ServerUrl: 'https://m.example', Version: '1.0.0', DefaultControl: 'shared', DefaultWaitForAll: false }),
    { serverUrl: 'https://m.example', version: '1.0.0', defaultControl: 'shared', defaultWaitForAll: false });
  assert.equal(parseConfig({ serverUrl: 'http://x', defaultWaitForAll: true }).defaultControl, 'host');
  assert.throws(() => parseConfig({}), /not configured/);
  assert.equal(wsUrlFrom('https://m.example'), 'wss://m.example/ws');
  assert.equal(wsUrlFrom('https://m.example/matinee/'), 'wss://m.example/matinee/ws');
  assert.equal(wsUrlFrom('wss://m.example/ws'), 'wss://m.example/ws');
  assert.equal(wsUrlFrom('http://10.0.0.2:3000/?x=1'), 'ws://10.0.0.2:3000/ws');
  assert.throws(() => wsUrlFrom('ftp://x'), /unsupported/);
});

test('jellyfin: the invite link is jellyfin-web\'s address with the room code only', () => {
  assert.equal(inviteUrlFrom('https://jf.example/web/?foo=1#/video?id=abc&serverId=s', 'ABCDEF'),
    'https://jf.example/web/?matinee=ABCDEF');
  assert.equal(inviteUrlFrom('http://10.0.0.2:8096/web/index.html#/home', 'XYZ123'),
    'http://10.0.0.2:8096/web/index.html?matinee=XYZ123');
});

test('strings: a `left` reason the client does not know yet still reads as a sentence', () => {
  for (const lang of ['en', 'fr']) {
    const t = translator(lang);
    assert.equal(leftText(t, 'kicked'), STRINGS[lang].left_kicked);
    const other = leftText(t, 'server_moved');
    assert.equal(other, STRINGS[lang].left_other);
    assert.ok(!other.includes('left_'));
  }
});
