// @ts-check
// A real watch-party session through a reverse proxy, for deploy/test/run.sh.
//
//   node deploy/test/ws_session.mjs '{"base":"https://127.0.0.1:8443/matinee/","ca":"cert.pem",
//                                     "origin":"https://jellyfin.test","foreignOrigin":"https://evil.test"}'
//
// `base` is what an admin types as the plugin's "Session server URL" (ending in "/"); the
// WebSocket is `base` + "ws", where the client opens it. Checks, in order: GET /healthz through
// the proxy; a foreign Origin is refused with 403 at the handshake; a host says hello, gets
// welcome, pong and a room; a friend joins with the code; the host's play reaches both as the
// same scheduled `state`.
// Prints one "ok - ..." line per check and exits 1 at the first failure.

import fs from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import WebSocket from 'ws';

/** Generous bound for one reply: this is about correctness through the proxy, not speed. */
const REPLY_TIMEOUT_MS = 10_000;

const opts = JSON.parse(process.argv[2] ?? '{}');
for (const key of ['base', 'origin', 'foreignOrigin']) {
  if (typeof opts[key] !== 'string') fail(`missing option "${key}"`);
}
const base = new URL(opts.base);
const ca = opts.ca ? fs.readFileSync(opts.ca) : undefined;
const wsUrl = new URL('ws', base);
wsUrl.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';

/** @param {string} msg */
function fail(msg) {
  console.error(`not ok - ${msg}`);
  process.exit(1);
}

/** @param {boolean} cond @param {string} what */
function check(cond, what) {
  if (!cond) fail(what);
  console.log(`ok - ${what}`);
}

/** GET a path below `base`; resolves {status, body}. @param {string} path */
function get(path) {
  const url = new URL(path, base);
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { ca, timeout: REPLY_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/**
 * Open a WebSocket with the given Origin. Resolves with a small reader, or rejects with
 * {status} when the server refuses the upgrade.
 * @param {string} origin
 */
function connect(origin) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { origin, ca, handshakeTimeout: REPLY_TIMEOUT_MS });
    /** @type {any[]} */
    const inbox = [];
    /** @type {(() => void) | null} */
    let wake = null;
    ws.on('message', (data) => {
      inbox.push(JSON.parse(String(data)));
      if (wake) wake();
    });
    ws.on('close', () => { if (wake) wake(); });
    ws.on('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode }));
      ws.terminate();
    });
    ws.on('error', (err) => reject(err));
    ws.on('open', () => resolve({
      /** @param {object} msg */
      send(msg) { ws.send(JSON.stringify(msg)); },
      /** Next message of `type`, skipping others (members updates and the like). @param {string} type */
      async next(type) {
        const deadline = Date.now() + REPLY_TIMEOUT_MS;
        const skipped = [];
        for (;;) {
          while (inbox.length) {
            const msg = inbox.shift();
            if (msg.type === type) return msg;
            if (msg.type === 'error') fail(`expected ${type}, got error ${JSON.stringify(msg)}`);
            skipped.push(msg.type);
          }
          if (ws.readyState !== WebSocket.OPEN) fail(`connection closed while waiting for ${type}`);
          const left = deadline - Date.now();
          if (left <= 0) fail(`no ${type} within ${REPLY_TIMEOUT_MS} ms (skipped: ${skipped.join(',') || 'none'})`);
          // Wake on the next message or close, or at the deadline; never leave the timer behind
          // (it would keep the process alive after the session ends).
          let timer;
          await new Promise((r) => { wake = () => r(undefined); timer = setTimeout(r, left); });
          clearTimeout(timer);
          wake = null;
        }
      },
      close() { ws.close(1000); },
    }));
  });
}

async function main() {
  const health = /** @type {{status: number, body: string}} */ (await get('healthz'));
  check(health.status === 200 && health.body.trim() === 'ok', `GET ${new URL('healthz', base)} → 200 ok through the proxy`);

  try {
    const sock = await connect(opts.foreignOrigin);
    sock.close();
    fail(`a foreign Origin (${opts.foreignOrigin}) was let through the proxy`);
  } catch (err) {
    check(/** @type {any} */ (err).status === 403, `foreign Origin ${opts.foreignOrigin} → 403 through the proxy (${/** @type {any} */ (err).message})`);
  }

  const host = await connect(opts.origin);
  host.send({ type: 'hello', protocol: 1, name: 'x' });
  const welcome = await host.next('welcome');
  check(welcome.protocol === 1 && typeof welcome.session === 'string' && typeof welcome.resume === 'string'
    && welcome.user?.name === 'x', `hello → welcome over ${wsUrl} with Origin ${opts.origin}`);

  const t0 = 1234.5;
  host.send({ type: 'ping', t0 });
  const pong = await host.next('pong');
  const now = Date.now();
  check(pong.t0 === t0 && typeof pong.t1 === 'number' && typeof pong.t2 === 'number' && pong.t1 <= pong.t2
    && Math.abs(pong.t1 - now) < 60_000, 'ping → pong with t0 echoed and server times t1 ≤ t2');

  host.send({ type: 'create_room', id: 'c1' });
  const room = await host.next('room');
  check(typeof room.code === 'string' && room.code.length > 0 && room.you === room.host,
    `create_room → room ${room.code}, we are host`);

  const friend = await connect(opts.origin);
  friend.send({ type: 'hello', protocol: 1, name: 'y' });
  await friend.next('welcome');
  friend.send({ type: 'join_room', code: room.code });
  const joined = await friend.next('room');
  check(joined.code === room.code && joined.host === room.host && joined.you !== room.host,
    'a second client joins the room through the proxy');

  host.send({ type: 'play', position: 12.5 });
  const [hs, fs2] = await Promise.all([host.next('state'), friend.next('state')]);
  check(hs.playing === true && hs.position === 12.5 && hs.seq === fs2.seq && hs.at === fs2.at,
    `host's play reaches both clients as the same state (seq ${hs.seq})`);

  host.close();
  friend.close();
}

// Any unexpected failure (refused upgrade, reset connection) is one clear "not ok" line.
main().catch((err) => fail(`session aborted: ${err?.message ?? err}`));
