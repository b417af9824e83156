// Shared set-up for the remote-seat tests: a virtual clock, simulated TV sessions behind the
// Sessions endpoints over real HTTP on loopback, and a driver that runs a RemoteSync's two
// loops (decide every tick, poll on its own schedule) on the virtual clock.

import { SimRemoteDevice } from '../../bench/lib/sim-remote-device.mjs';
import { startSimJellyfin } from '../../bench/lib/sim-remote-jellyfin.mjs';
import { SessionsApi } from '../../src/remote/sessions-api.js';
import { RemoteSync } from '../../src/remote/remote-sync.js';
import { makeRemoteSettings } from '../../src/remote/settings.js';
// The seeded PRNG of the unit tests: a TV's jitter is the same on every run.
import { rng } from './fakes.js';

export const ALICE = { id: 'a11ce000000000000000000000000001', name: 'alice', token: 'tok-alice-secret', controlOthers: true };
export const BOB = { id: 'b0b00000000000000000000000000002', name: 'bob', token: 'tok-bob-secret' };
export const ITEM = '0123456789abcdef0123456789abcdef';
export const ITEM2 = 'fedcba9876543210fedcba9876543210';

/** A clock that moves only when told: local ms; the session server's clock is 1234.5 ms ahead. */
export function virtualClock(start = 1_700_000_000_000) {
  const c = {
    t: start,
    now: () => c.t,
    serverNow: (local = c.t) => local + 1234.5,
    localFromServer: (s) => s - 1234.5,
    advance: (ms) => { c.t += ms; },
  };
  return c;
}

/**
 * @param {ReturnType<typeof virtualClock>} clock
 * @param {Partial<ConstructorParameters<typeof SimRemoteDevice>[0]>} [o]
 */
export function tv(clock, o = {}) {
  return new SimRemoteDevice({
    now: clock.now, rng: rng(11), id: 'sess-alice-tv', userId: ALICE.id, userName: ALICE.name,
    deviceName: 'Living room TV', jfSkewMs: -3_456_789.25, reportPeriodMs: 3000,
    items: { [ITEM]: { name: 'Big Buck Bunny' }, [ITEM2]: { name: 'Sintel' } },
    ...o,
  });
}

/** Starts the Sessions endpoints with these devices; returns them with an API for a user. */
export async function jellyfin(devices, users = [ALICE, BOB]) {
  const jf = await startSimJellyfin({ users, devices });
  return jf;
}

/** @param {string} url @param {typeof ALICE} user @param {ReturnType<typeof virtualClock>} clock */
export function apiFor(url, user, clock, extra = {}) {
  return new SessionsApi({ baseUrl: url, userId: user.id, token: () => user.token, now: clock.now, ...extra });
}

/**
 * How close to the room a seat claims its device is once settled: its threshold (or the limit
 * of a device that cannot do better), plus the tolerance of its estimate.
 * @param {RemoteSync} sync
 */
export function within(sync) {
  return Math.max(sync.sync.thresholdMs, sync.sync.limitMs ?? 0) + sync._toleranceMs();
}

/** A room state. */
export function state(clock, o = {}) {
  return { media: { id: ITEM }, playing: true, position: 100, rate: 1, at: clock.serverNow(), seq: 1, reason: 'play', by: null, ...o };
}

/**
 * Timers on the virtual clock: a callback runs when `run` reaches its due time, to the ms.
 * @param {ReturnType<typeof virtualClock>} clock
 */
export function virtualTimers(clock) {
  /** @type {Map<number, {due: number, fn: () => void}>} */
  const queue = new Map();
  let next = 1;
  return {
    queue,
    setTimeout: (fn, ms) => { const id = next++; queue.set(id, { due: clock.now() + Math.max(0, ms), fn }); return id; },
    clearTimeout: (id) => { queue.delete(id); },
    setInterval: () => 0,
    clearInterval: () => {},
    /** The earliest timer due by `until`, removed from the queue, or null. @param {number} until */
    take(until) {
      let best = null;
      for (const [id, x] of queue) if (x.due <= until && (!best || x.due < best[1].due)) best = [id, x];
      if (!best) return null;
      queue.delete(best[0]);
      return best[1];
    },
  };
}

/**
 * A RemoteSync on the virtual clock, with a driver that runs both of its loops (decide every
 * tick, poll on its own schedule) and its one-off timers, each at its due time.
 * @param {any} api @param {string} sessionId @param {ReturnType<typeof virtualClock>} clock
 */
export function driven(api, sessionId, clock, settings = {}) {
  const timers = virtualTimers(clock);
  const sync = new RemoteSync({ api, sessionId, clock, timers, settings: makeRemoteSettings(settings) });
  let nextPoll = clock.now();
  let nextTick = clock.now() + sync.s.tickMs;
  const settleDown = async () => {
    await sync.idle();
    // A command or a report request was just sent: the seat's own loop polls soon after.
    nextPoll = Math.min(nextPoll, clock.now() + sync._nextPollMs());
  };
  /** Runs `ms` of virtual time: ticks, polls and timers in the order they fall due. */
  async function run(ms, onTick) {
    const end = clock.now() + ms;
    while (clock.now() < end) {
      const timer = timers.take(Math.min(nextTick, nextPoll));
      if (timer) {
        clock.t = Math.max(clock.t, timer.due);
        const before = sync.sync.commands + sync.sync.requests;
        timer.fn();
        if (sync.sync.commands + sync.sync.requests !== before) await settleDown();
        else await sync.idle();
        continue;
      }
      if (nextPoll < nextTick) {
        clock.t = Math.max(clock.t, nextPoll);
        const before = sync.sync.commands + sync.sync.requests;
        await sync.poll(); // (a new report is decided on at once: it may send a command)
        nextPoll = clock.now() + sync._nextPollMs();
        if (sync.sync.commands + sync.sync.requests !== before) await settleDown();
        else await sync.idle();
        continue;
      }
      clock.t = Math.max(clock.t, nextTick);
      nextTick += sync.s.tickMs;
      const before = sync.sync.commands + sync.sync.requests;
      sync.tick();
      if (sync.sync.commands + sync.sync.requests !== before) await settleDown();
      else await sync.idle();
      if (onTick) onTick();
    }
  }
  return { sync, run, timers };
}
