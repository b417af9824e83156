// The stand-in held to a real Jellyfin's answers (testdata/jellyfin-real/<version>/, recorded by
// testdata/jellyfin-real/record.mjs): for every call in testdata/jellyfin-real/endpoints.js the
// stand-in answers with the real status, every field it sends exists in the real answer with
// the same JSON type, and every field Matinee's own code reads is present in both.

import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStandin } from '../server.js';
import { REPO } from '../lib/core.js';
import { ENDPOINTS, MATINEE_ENDPOINTS, SOCKET_MESSAGES } from '../../jellyfin-real/endpoints.js';
import { call, missingFields, setUp, shapeProblems, shapeOf } from '../../jellyfin-real/exchange.js';

const VERSIONS = ['10.11.11', '12.0.0'];
// Fields the real server sends only for items the recorded library did not have, each with the
// source line that sends it; the stand-in may send these although the recording lacks them.
const SOURCE_ONLY = [
  // Emby.Server.Implementations/Dto/DtoService.cs: `if (video.HasSubtitles) dto.HasSubtitles = …`
  // (the recorded clips have no subtitle streams; the stand-in's two-language films do).
  'HasSubtitles',
];
const sourceOnly = (problem) =>
  SOURCE_ONLY.some((f) => new RegExp(`(^|[.\\]])${f}: sent by the stand-in, absent from the real answer$`).test(problem));
const fixture = (version, name) => {
  const p = join(REPO, 'testdata', 'jellyfin-real', version, `${name}.json`);
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null;
};

test('the shape check finds a field the real server does not send, and a changed type', () => {
  const real = { Id: 'a', Items: [{ Name: 'x', RunTimeTicks: 1 }, { Name: 'y' }], ImageTags: { Primary: 'p' } };
  assert.deepEqual(shapeProblems(real, { Id: 'b', Items: [{ Name: 'z' }], ImageTags: { Thumb: 'q' } }), []);
  assert.deepEqual(shapeProblems(real, { Id: 'b', Extra: 1 }), ['Extra: sent by the stand-in, absent from the real answer']);
  assert.deepEqual(shapeProblems(real, { Id: 1 }), ['Id: stand-in number, real string']);
  assert.deepEqual(shapeProblems(real, { Items: [{ RunTimeTicks: '1' }] }), ['Items[].RunTimeTicks: stand-in string, real number']);
  assert.deepEqual(shapeProblems(real, { ImageTags: { Primary: 2 } }), ['ImageTags{}: stand-in number, real string']);
  assert.deepEqual(missingFields(real, ['Id', 'Items[].RunTimeTicks', 'Items[].Overview']), ['Items[].Overview']);
  assert.ok(shapeOf([{ A: 1 }]).has('[].A'));
});

for (const version of VERSIONS) {
  test(`Jellyfin ${version}: every recorded call has a fixture, with the fields Matinee reads`, () => {
    for (const ep of [...ENDPOINTS, ...MATINEE_ENDPOINTS]) {
      const f = fixture(version, ep.name);
      assert.ok(f, `${ep.name}: no fixture recorded`);
      if (ep.reads) assert.deepEqual(missingFields(f.body, ep.reads.fields), [], `${ep.name}: the real answer lacks what ${ep.reads.by} reads`);
    }
  });

  test(`Jellyfin ${version}: the stand-in answers like the real server`, async (t) => {
    const jf = await startStandin({ version, quiet: true, matinee: { serverUrl: 'http://127.0.0.1:9/' } });
    t.after(() => jf.stop());
    const ctx = await setUp(jf.url, { admin: ['Ann', 'ann-pw'], user: ['Bob', 'bob-pw'], other: 'Cleo', directItem: 'The Clock', transcodeItem: 'The Clock Transcoded' });
    t.after(() => ctx.socket.close());
    const problems = [];
    for (const ep of [...ENDPOINTS, ...MATINEE_ENDPOINTS]) {
      const real = fixture(version, ep.name);
      if (!real) { problems.push(`${ep.name}: no fixture`); continue; }
      const got = await call(jf.url, ctx, ep);
      if (got.status !== real.status) { problems.push(`${ep.name}: status ${got.status}, real ${real.status}`); continue; }
      if (real.contentType !== got.contentType) problems.push(`${ep.name}: content type ${got.contentType}, real ${real.contentType}`);
      if (real.body !== null && got.json !== undefined) for (const p of shapeProblems(real.body, got.json).filter((x) => !sourceOnly(x))) problems.push(`${ep.name}: ${p}`);
      if (ep.reads && got.status < 300) for (const f of missingFields(got.json, ep.reads.fields)) problems.push(`${ep.name}: stand-in lacks ${f} (read by ${ep.reads.by})`);
    }
    await new Promise((r) => setTimeout(r, 200));
    for (const type of SOCKET_MESSAGES) {
      const real = fixture(version, `socket-${type.toLowerCase()}`);
      if (!real) continue;
      const got = ctx.socket.messages.find((m) => m.MessageType === type);
      if (!got) { problems.push(`socket ${type}: the stand-in sent none`); continue; }
      for (const p of shapeProblems(real.message, got)) problems.push(`socket ${type}: ${p}`);
    }
    assert.deepEqual(problems, []);
  });
}
