// @ts-check
/**
 * Starts a real matinee-server on a free loopback port for a benchmark and stops it after.
 *
 * The binary comes from MATINEE_SERVER_BIN (the Makefile sets it), else the release build,
 * else the debug build. Anonymous hellos are allowed through the documented configuration
 * variable, and logging is turned down so the terminal does not become the bottleneck.
 *
 * @module bench/server
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** @returns {string} */
export function serverBinary() {
  const fromEnv = process.env.MATINEE_SERVER_BIN;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`MATINEE_SERVER_BIN=${fromEnv} does not exist`);
    return fromEnv;
  }
  for (const p of ['target/release/matinee-server', 'target/debug/matinee-server']) {
    const full = path.join(ROOT, p);
    if (existsSync(full)) return full;
  }
  throw new Error('no matinee-server binary: run `cargo build -p matinee-server` or set MATINEE_SERVER_BIN');
}

/**
 * @param {{env?: Record<string, string>, timeoutMs?: number}} [o]
 * @returns {Promise<{url: string, pid: number, stop: () => Promise<void>, stderr: () => string}>}
 */
export async function startServer({ env = {}, timeoutMs = 15000 } = {}) {
  const bin = serverBinary();
  const child = spawn(bin, ['--listen', '127.0.0.1:0'], {
    env: {
      ...process.env,
      MATINEE_AUTH__ALLOW_ANONYMOUS: 'true',
      MATINEE_LOG__LEVEL: process.env.MATINEE_LOG__LEVEL || 'warn',
      // Rooms in memory unless a scenario asks for a store: no files kept between runs.
      MATINEE_STORE__BACKEND: 'memory',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => {
    err += d.toString();
    if (err.length > 100_000) err = err.slice(-50_000);
  });
  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`matinee-server did not report its address within ${timeoutMs} ms:\n${out}${err}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      // Keep draining stdout for the whole run (a full pipe would stall the server), but
      // keep only the start of it.
      if (out.length > 100_000) return;
      out += d.toString();
      const m = /listening on http:\/\/(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`matinee-server exited (${code}) before listening:\n${out}${err}`));
    });
  });
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return {
    url: `ws://${addr}/ws`,
    pid: /** @type {number} */ (child.pid),
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 6000);
      await exited;
      clearTimeout(t);
    },
  };
}
