// @ts-check
/**
 * Remote seats in the sync harness: the `remote` scenario. Besides the harness's browser
 * members (real client core, simulated players), it seats simulated TV apps: each is a
 * SimRemoteDevice (sim-remote-device.mjs) behind Jellyfin's session endpoints over real HTTP
 * on loopback (sim-remote-jellyfin.mjs), driven by the REAL remote seat (src/remote/seat.js:
 * its own connection to the real server through the harness's network shim, its own skewed
 * clock, RemoteSync, SessionsApi). The god's-eye clock knows each TV's true position, so the
 * errors below are the truth, not what the seat believes.
 *
 * Timeline (× --scale): the host sets item 1 and plays at 1 s; the TVs join the playing room
 * at 3 s; seeks at 31 and 56 s; pauses at 76 s and plays at 81 s; seeks at 101 s; switches to
 * item 2 (and plays) at 126 s; seeks at 156 s; ends at 180 s: several windows of steady play
 * per seat. Profiles (one TV each):
 *   tv-cmd   a native cast-target client as measured against a real one: item load ~120 ms,
 *            Pause/Unpause/Seek obeyed within ~5 ms, progress every 5 s and at once after
 *            every command (SetRepeatMode included), positions trailing the truth by
 *            1–45 ms, and the report right after a Seek carrying the pre-seek position
 *            one time in three; goal band 100 ms
 *   tv-2s    reports every 2 s, seeks reported as they happen; goal band 250 ms
 *   tv-10s   reports every 10 s, seeks only when they jump > 5 s (jellyfin-apiclient's
 *            throttle), no report on request; goal band 250 ms
 *   tv-web   genuine jellyfin-web as the TV, as measured on a real, loaded Jellyfin 10.11.11:
 *            its own Jellyfin queues every request 20–600 ms (reports too), progress 10 s
 *            after the last report of any kind trailing the picture by 0–250 ms, Unpause
 *            reported at once with the old position, seeks reported only ≥ 5 s, SetRepeatMode
 *            answered once playing; load 2–4 s, seek rebuffer 0.1–1.5 s; goal band 250 ms
 * tv-2s and tv-10s (the harness's profiles before tv-cmd): command latency 60–200 ms, PlayNow
 * load 1.5–4 s, seek rebuffer 0.3–1.2 s, unpause 30–150 ms. All: report → Jellyfin 5–40 ms,
 * Jellyfin's clock up to ±30 s off.
 *
 * Printed per seat: join time (seat started → on the room's item with |error| against the
 * room's formula inside the profile's goal band, held 2 s), time to settle after each room
 * event (same rule,
 * from the event), steady |error| p50/p95/p99/max (ms; playing, from max(settle, --settle-s)
 * after each event to the next), commands per minute (all of them, report requests
 * included, over the seat's time in the room), seeks per minute in steady state, and how
 * far the seat's own error estimate is from the truth (|believed − true|, ms).
 * MATINEE_REMOTE_SET="key=value,…" overrides remote-seat settings (src/remote/settings.js).
 *
 * API (used by sync-harness.mjs):
 *   remoteScript(run, n, {god, serverTimeAt, sleep, waitFor, timers})   the scenario
 *   run.remote.result()           its figures, attached to the scenario's result as `remote`
 *   remoteTable(results) → text   remoteSummary(results) → {remote_*: …} for the summary line
 *
 * @module bench/sim-remote
 */

import { RemoteSeat } from '../../src/remote/seat.js';
import { SessionsApi } from '../../src/remote/sessions-api.js';
import { makeRemoteSettings } from '../../src/remote/settings.js';
import { makeSettings } from '../../src/core/settings.js';
import { SimRemoteDevice } from './sim-remote-device.mjs';
import { startSimJellyfin } from './sim-remote-jellyfin.mjs';
import { NetPath } from './net-shim.mjs';
import { convergenceMs, summarize } from './stats.mjs';

export const ITEM1 = '5eed0000000000000000000000000001';
export const ITEM2 = '5eed0000000000000000000000000002';
const USER = { id: 'be7c0000000000000000000000000001', name: 'bench', token: 'bench-remote-token' };
/** A TV counts as settled once inside its goal band for this long. */
const CONV_HOLD_MS = 2000;
/** The `late` figures: every playing sample from this long after each event to the next. */
const LATE_MS = 10_000;

/**
 * jellyfin-web as a TV (SimRemoteDevice eventReports 'web': jellyfin-apiclient's report
 * throttle, the unpause reported before the picture moves, seeks under 5 s unreported,
 * SetRepeatMode answered once the stream plays), with the timings a real one showed.
 */
export const WEB_TV = {
  eventReports: /** @type {'web'} */ ('web'), reportPeriodMs: 10_000, reportJitterMs: 5, reportTrailMs: /** @type {[number, number]} */ ([0, 250]),
  seekReportJumpS: 5, commandLatencyMs: /** @type {[number, number]} */ ([20, 80]), loadMs: /** @type {[number, number]} */ ([2000, 4000]),
  seekStallMs: /** @type {[number, number]} */ ([100, 1500]), unpauseMs: /** @type {[number, number]} */ ([20, 300]), reportDelayMs: /** @type {[number, number]} */ ([20, 600]),
};
/** The loaded Jellyfin it was measured on: every request queued 20–600 ms before it is handled
 *  (the TV's reports above too: their `reportDelayMs`). */
const WEB_BUSY_MS = /** @type {[number, number]} */ ([20, 600]);

/** Today's TV timings (the harness's profiles before tv-cmd). */
const SLOW_TV = { commandLatencyMs: [60, 200], loadMs: [1500, 4000], seekStallMs: [300, 1200], unpauseMs: [30, 150] };

export const PROFILES = [
  {
    label: 'tv-cmd', goalMs: 100,
    device: {
      reportPeriodMs: 5000, reportJitterMs: 100, eventReports: 'all', commandLatencyMs: [1, 5], loadMs: [100, 140],
      seekStallMs: [0, 3], unpauseMs: [0, 3], reportTrailMs: [1, 45], staleSeekReportProb: 1 / 3,
    },
  },
  { label: 'tv-2s', goalMs: 250, device: { ...SLOW_TV, reportPeriodMs: 2000, reportJitterMs: 200, seekReportJumpS: 0 } },
  { label: 'tv-10s', goalMs: 250, device: { ...SLOW_TV, reportPeriodMs: 10_000, reportJitterMs: 500, seekReportJumpS: 5 } },
  {
    // Genuine jellyfin-web in a browser window as the TV, as measured on a real Jellyfin
    // 10.11.11 (docs/performance.md, "A real Jellyfin session as the TV").
    label: 'tv-web', goalMs: 250, device: WEB_TV, busyMs: WEB_BUSY_MS,
  },
];

/** Remote-seat setting overrides from MATINEE_REMOTE_SET ("seekThresholdMs=500,pollMs=500"). */
export function remoteOverrides(text = process.env.MATINEE_REMOTE_SET || '') {
  /** @type {Record<string, number>} */
  const o = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\w+)=(.+)$/.exec(part);
    if (!m) throw new Error(`MATINEE_REMOTE_SET: expected key=value, got '${part}'`);
    o[m[1]] = Number(m[2]);
  }
  makeRemoteSettings(o); // unknown keys and bad values fail here
  return o;
}

const round = (x, d = 2) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

/**
 * @param {any} run the harness's Run
 * @param {number} n browser members, host included
 * @param {{god: () => number, serverTimeAt: (g: number) => number, sleep: (ms: number) => Promise<void>,
 *   waitFor: (pred: () => boolean, ms: number, what: string) => Promise<void>, timers: any}} h
 */
export async function remoteScript(run, n, h) {
  const { god, timers } = h;
  const remoteSettings = makeRemoteSettings(remoteOverrides());
  await run.setup(n);
  const epochNow = () => performance.timeOrigin + god();
  const devices = PROFILES.map((p, i) => {
    const rng = run.rng;
    return new SimRemoteDevice({
      now: epochNow, rng: () => rng(), id: `bench-${p.label}`, userId: USER.id, userName: USER.name,
      deviceName: p.label, deviceId: `bench-dev-${i}`, jfSkewMs: (rng() * 2 - 1) * 30_000,
      reportDelayMs: [5, 40], ...p.device,
      items: { [ITEM1]: { name: 'Bench 1' }, [ITEM2]: { name: 'Bench 2' } },
    });
  });
  // One Jellyfin per TV: a busy one (tv-web's) slows only its own seat.
  const jfs = await Promise.all(PROFILES.map((p, i) => {
    const rng = run.rng;
    const busy = /** @type {any} */ (p).busyMs;
    return startSimJellyfin({ users: [USER], devices: [devices[i]], busyMs: busy ? () => busy[0] + rng() * (busy[1] - busy[0]) : undefined });
  }));
  const jf = { stop: () => Promise.all(jfs.map((j) => j.stop())) };
  const seats = PROFILES.map((p, i) => {
    const rng = run.rng;
    // Each seat's browser clock: up to ±10 s off and ±100 ppm, like the harness's members.
    const offsetMs = (rng() * 2 - 1) * 10_000;
    const k = 1 + (rng() * 2 - 1) * 100e-6;
    const base = performance.timeOrigin + offsetMs;
    const now = () => base + god() * k;
    const net = new NetPath({
      god, timers, rng: () => rng(), upMs: run.opts.delayMs, downMs: run.opts.delayMs,
      jitterMs: run.opts.jitterMs, spikeProb: run.opts.spikeProb, spikeMs: run.opts.spikeMs,
    });
    const api = new SessionsApi({ baseUrl: jfs[i].url, userId: USER.id, token: () => USER.token, now });
    const seat = new RemoteSeat({
      url: run.url, createSocket: (u) => net.createSocket(u), now, timers, credentials: async () => ({}),
      api, sessionId: devices[i].id, code: /** @type {string} */ (run.code), name: `bench — ${p.label}`,
      random: () => rng(), settings: makeSettings(run.opts.set), remoteSettings,
      client: { name: 'matinee-sync-harness-remote', version: '1' },
    });
    return { label: p.label, goalMs: p.goalMs, device: devices[i], seat, api, startG: 0, samples: /** @type {{g: number, err: number|null, ok: boolean, playing: boolean, believed: number|null}[]} */ ([]) };
  });
  /** @type {{g: number, label: string, kind: string}[]} */
  const events = [];
  const state = { jf, seats, events, sampler: /** @type {any} */ (null), t0: run.t0 };
  run.remote = {
    state,
    result: () => remoteResult(run, state),
  };
  const sample = () => {
    const g = god();
    const st = run.truth.state;
    const expected = run.truth.expectedAt(g);
    const playing = run.truth.playingAt(g);
    for (const s of seats) {
      const t = performance.timeOrigin + g;
      const item = s.device.trueItem(t);
      const onItem = Boolean(st && st.media && item === st.media.id);
      const err = onItem && expected !== null ? (s.device.truePosition(t) - expected) * 1000 : null;
      const ok = onItem && s.device.isAdvancing(t) === playing;
      // What the seat believes its error is (from Jellyfin's reports), beside the truth.
      const believed = s.seat.sync.errorMs;
      // `playing` now: the room's state changes later, so it cannot be asked afterwards.
      s.samples.push({ g, err, ok, playing, believed: typeof believed === 'number' && Number.isFinite(believed) ? believed : null });
    }
  };
  state.sampler = setInterval(sample, run.opts.sampleMs);
  const ev = (label, kind) => { events.push({ g: god(), label, kind }); run.event(label, kind); };
  try {
    const host = () => run.host?.manager;
    host()?.setMedia({ id: ITEM1, title: 'Bench 1', duration: 7200 }, 0);
    await run.at(1);
    ev('play', 'play');
    host()?.play();
    await run.at(3);
    // The TVs join the playing room (anonymous names in the harness): what the panel does
    // first lists the sessions, which also marks each as the user's own.
    for (const s of seats) {
      await s.api.listOwn();
      s.startG = god();
      s.seat.start();
    }
    await h.waitFor(() => seats.every((s) => s.seat.memberId), 10_000, 'remote seats in the room');
    for (const [t, pos] of [[31, 600], [56, 1200]]) {
      await run.at(t);
      ev(`seek ${pos}s`, 'seek');
      host()?.seek(pos);
    }
    await run.at(76);
    ev('pause', 'pause');
    host()?.pause();
    await run.at(81);
    ev('play', 'play');
    host()?.play();
    await run.at(101);
    ev('seek 300s', 'seek');
    host()?.seek(300);
    await run.at(126);
    ev('item change', 'media');
    host()?.setMedia({ id: ITEM2, title: 'Bench 2', duration: 7200 }, 0);
    await run.at(126.5);
    host()?.play();
    await run.at(156);
    ev('seek 900s', 'seek');
    host()?.seek(900);
    await run.at(180);
  } finally {
    clearInterval(state.sampler);
    for (const s of seats) s.seat.stop();
    await jf.stop();
  }
}

/** @param {any} run @param {any} state */
function remoteResult(run, state) {
  const settleMs = run.opts.settleS * 1000;
  const evs = state.events;
  const perSeat = state.seats.map((s) => {
    // Settled = on the room's item and within the band of the formula: a TV paused while the
    // room plays (or the reverse) leaves the band within band-many ms, and one that starts a
    // few ms after `at` is a few ms off, not "not playing".
    const pts = s.samples.map((x) => ({ t: x.g, spreadMs: x.err === null ? Infinity : Math.abs(x.err), ok: x.err !== null }));
    // Events the seat lived through; joining is its own first event.
    const mine = [{ g: s.startG, label: 'join', kind: 'join' }, ...evs.filter((e) => e.g > s.startG)];
    const conv = mine.map((e, i) => {
      const until = i + 1 < mine.length ? mine[i + 1].g : Infinity;
      const c = convergenceMs(pts, e.g, { thresholdMs: s.goalMs, holdMs: CONV_HOLD_MS, untilT: until });
      return { label: e.label, kind: e.kind, convergence_s: c === null ? null : round(c / 1000, 2), from: e.g, until };
    });
    // Steady: from max(convergence, settle) after an event until the next one, while playing.
    const steadyWin = conv.filter((c) => c.convergence_s !== null).map((c) => ({ from: c.from + Math.max(settleMs, c.convergence_s * 1000), until: c.until }));
    const inSteady = (g) => steadyWin.some((w) => g >= w.from && g < w.until);
    const steadySamples = s.samples.filter((x) => x.err !== null && x.ok && x.playing && inSteady(x.g));
    // Settled or not: every sample while the room plays, from LATE_MS after each event to the
    // next (a window that never settles counts here, and not in the steady figures).
    const lateAll = s.samples.filter((x) => x.playing && conv.some((c) => x.g >= c.from + LATE_MS && x.g < c.until));
    const late = lateAll.filter((x) => x.err !== null && x.ok).map((x) => Math.abs(/** @type {number} */ (x.err)));
    const errs = steadySamples.map((x) => Math.abs(/** @type {number} */ (x.err)));
    // How far the seat's belief is from the truth: what limits any threshold.
    const belief = steadySamples.filter((x) => x.believed !== null).map((x) => Math.abs(/** @type {number} */ (x.believed) - /** @type {number} */ (x.err)));
    const last = s.samples.length ? s.samples[s.samples.length - 1].g : 0;
    const steadyMs = steadyWin.reduce((a, w) => a + Math.max(0, Math.min(w.until, last) - w.from), 0);
    const seeksAt = s.device.commands.filter((c) => c.kind === 'Seek').map((c) => c.t - performance.timeOrigin);
    const steadySeeks = seeksAt.filter(inSteady).length;
    const sync = s.seat.sync;
    const inRoomMin = Math.max(1e-9, (last - s.startG) / 60_000);
    return {
      label: s.label,
      goal_ms: s.goalMs,
      join_s: conv[0].convergence_s,
      commands_per_min: round(s.device.commands.length / inRoomMin, 1),
      report_requests: s.device.commands.filter((c) => c.kind.startsWith('General:')).length,
      steady_abs_error: summarize(errs),
      late_abs_error: summarize(late),
      // Of those samples, the share where the TV was not playing the room's item at all.
      late_not_playing_pct: lateAll.length ? round(100 * (1 - late.length / lateAll.length), 1) : null,
      estimate_abs_error: summarize(belief),
      events: conv.map(({ label, kind, convergence_s }) => ({ label, kind, convergence_s })),
      steady_minutes: round(steadyMs / 60_000, 2),
      steady_seeks: steadySeeks,
      seeks_per_min_steady: steadyMs > 0 ? round(steadySeeks / (steadyMs / 60_000), 2) : null,
      commands: s.device.commands.length,
      // Every command with the TV's true error (ms) just before it, and each second's true
      // error: how a figure above is read.
      timeline: s.device.commands.map((c) => {
        const g = c.t - performance.timeOrigin;
        const before = s.samples.filter((x) => x.g <= g).at(-1);
        return [round((g - run.t0) / 1000, 2), c.kind, before && before.err !== null ? round(before.err, 0) : null];
      }),
      errors_per_s: s.samples.filter((_, i) => i % Math.round(1000 / run.opts.sampleMs) === 0)
        .map((x) => [round((x.g - run.t0) / 1000, 1), x.err === null ? null : round(x.err, 0), x.believed === null ? null : round(x.believed, 0)]),
      seeks_total: seeksAt.length,
      learned: {
        seek_ms: round(sync.seekMs, 0), unpause_ms: round(sync.unpauseMs, 0), load_ms: round(sync.loadMs, 0), report_period_ms: round(sync.reportPeriodMs, 0), report_delay_ms: round(sync.reportDelayMs, 1),
        ...(typeof sync.thresholdMs === 'number' ? { threshold_ms: round(sync.thresholdMs, 0) } : {}),
      },
      final_status: sync.status,
      requests: { list: s.api.sent.list, command: s.api.sent.command },
    };
  });
  return { seats: perSeat };
}

/** @param {an/** @param {any[]} results the harness's scenario results */
export function remoteTable(results) {
  const rows = [];
  for (const r of results) {
    if (!r.remote) continue;
    for (const s of r.remote.seats) {
      const e = s.steady_abs_error;
      rows.push([`${r.name}/${s.label}`, s.goal_ms, s.join_s === null ? 'never' : s.join_s,
        s.events.filter((x) => x.kind !== 'join').map((x) => `${x.label}:${x.convergence_s === null ? 'never' : x.convergence_s}`).join(' '),
        e.p50, e.p95, e.max, s.steady_minutes, s.late_abs_error.p50, s.late_abs_error.p95, s.commands_per_min, `${s.steady_seeks}/${s.seeks_total}`,
        `${s.estimate_abs_error.p50}/${s.estimate_abs_error.p95}`,
        Object.entries(s.learned).map(([k, v]) => `${k.replace(/_ms$/, '')} ${v}`).join(' ')]);
    }
  }
  if (!rows.length) return '';
  const head = ['remote seat', 'band ms', 'join s', `settle s after each room event (|err| < band for ${CONV_HOLD_MS / 1000} s)`, 'p50', 'p95', 'max', 'steady min', `≥${LATE_MS / 1000}s p50`, `≥${LATE_MS / 1000}s p95`, 'cmds/min', 'seeks st/all', 'belief−truth p50/p95', 'learned ms'];
  const fmt = (x) => (x === null || x === undefined ? '—' : String(x));
  const widths = head.map((hd, i) => Math.max(hd.length, ...rows.map((r) => fmt(r[i]).length)));
  const line = (r) => r.map((c, i) => fmt(c).padEnd(widths[i])).join('  ');
  return ['remote seats (TV apps through the Sessions API): true |error| vs the room in steady play (ms)', line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** @param {any[]} results */
export function remoteSummary(results) {
  const seats = results.flatMap((r) => (r.remote ? r.remote.seats : []));
  if (!seats.length) return {};
  const worst = (f) => {
    const xs = seats.map(f);
    return xs.some((x) => x === null) ? null : Math.max(...xs);
  };
  const conv = (kind) => worst((s) => {
    const cs = s.events.filter((e) => e.kind === kind).map((e) => e.convergence_s);
    return cs.some((c) => c === null) ? null : Math.max(0, ...cs);
  });
  return {
    remote_join_s: worst((s) => s.join_s),
    remote_steady_p50_ms: worst((s) => s.steady_abs_error.p50),
    remote_steady_p95_ms: worst((s) => s.steady_abs_error.p95),
    remote_steady_p99_ms: worst((s) => s.steady_abs_error.p99),
    remote_conv_play_s: conv('play'),
    remote_conv_pause_s: conv('pause'),
    remote_conv_seek_s: conv('seek'),
    remote_conv_item_s: conv('media'),
    remote_cmds_per_min: worst((s) => s.commands_per_min),
    remote_seeks_per_min_steady: worst((s) => s.seeks_per_min_steady),
    // Per profile, the two figures the goals are about.
    ...Object.fromEntries(seats.flatMap((s) => {
      const k = s.label.replace(/\W/g, '_');
      return [[`remote_${k}_join_s`, s.join_s], [`remote_${k}_steady_p95_ms`, s.steady_abs_error.p95]];
    })),
  };
}
