#!/usr/bin/env bash
# Smoke test of the measuring instruments (docs/performance.md), run by `make test`: a few
# clients for a few seconds of each, so the instruments cannot rot. Every check is a loose
# correctness check (everyone connected, samples taken, files written, numbers finite and
# sane), never a timing target: those belong to `make bench-load` / `make bench-sync`.
#
# Needs MATINEE_SERVER_BIN (the Makefile passes the debug server); builds loadgen itself.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${MATINEE_SERVER_BIN:?set MATINEE_SERVER_BIN to a matinee-server binary}"
export MATINEE_SERVER_BIN
CARGO=${CARGO:-cargo}
NODE=${NODE:-node}

echo "bench-smoke: building loadgen"
$CARGO build -q -p matinee-loadgen --bin loadgen
export LOADGEN_BIN="${CARGO_TARGET_DIR:-target}/debug/loadgen"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs the load bench with the given loadgen options; the JSON report lands in $work/$1.json.
load() {
    local name=$1
    shift
    echo "bench-smoke: loadgen $name: $*"
    bash scripts/bench-load.sh --json "$@" >"$work/$name.out" 2>"$work/$name.err" || {
        echo "bench-smoke: loadgen $name failed:" >&2
        cat "$work/$name.out" "$work/$name.err" >&2
        exit 1
    }
    grep '^loadgen: mode=' "$work/$name.out"
    grep '^{' "$work/$name.out" >"$work/$name.json"
}

load steady --connections 20 --room-size 5 --ramp-per-sec 200 --settle 0.5 --duration 3 --control-every 1
load storm --mode join-storm --connections 40 --room-size 10 --procs 2 --settle 0.5 --duration 1 --control-every 1
load churn --mode churn --connections 12 --room-size 4 --churn-life 1 --settle 0.5 --duration 3 --control-every 1

echo "bench-smoke: node unit tests of the sync harness's parts"
bash scripts/no-skips.sh node $NODE --test client-js/bench/test/

echo "bench-smoke: sync harness (3 clients, shortened scenarios)"
$NODE client-js/bench/sync-harness.mjs --clients 3 --scenarios steady,seek,late-join --scale 0.3 \
    --settle-s 1 --out "$work/sync" | tee "$work/sync.out"

echo "bench-smoke: sync harness, remote seats (2 clients + 3 simulated TVs, shortened)"
$NODE client-js/bench/sync-harness.mjs --clients 2 --scenarios remote --scale 0.15 \
    --settle-s 1 --no-plot --out "$work/remote" | tee "$work/remote.out"

python3 - "$work" <<'PY'
import json, math, os, sys
work = sys.argv[1]
problems = []
def check(ok, what):
    if not ok:
        problems.append(what)

def load(name):
    with open(os.path.join(work, name + ".json")) as f:
        return json.load(f)

s = load("steady")
check(s["held"] == 20 and s["failed"] == 0, f"steady: held {s['held']} of 20, failures {s['failures']}")
check(s["fanout"]["count"] > 0, "steady: no fan-out samples")
check(s["fanout_unmatched"] == 0, f"steady: {s['fanout_unmatched']} states not matched to a control")
check(0 < s["fanout"]["p50_ms"] <= s["fanout"]["p99_ms"] <= s["fanout"]["max_ms"], f"steady: fan-out percentiles out of order {s['fanout']}")
check(s["server_in_msgs_per_s"] > 0 and s["server_out_msgs_per_s"] > 0, "steady: no traffic counted")
check(s["server_out_by_type_per_s"].get("state", 0) > 0 and s["server_out_by_type_per_s"].get("pong", 0) > 0, "steady: no state or pong received")
sv = s.get("server") or {}
check(sv.get("rss_end_kb", 0) > 0 and sv.get("fds_end", 0) >= 20, f"steady: server /proc figures missing {sv}")

st = load("storm")
check(st["held"] == 40 and st["failed"] == 0 and st["procs"] == 2, f"storm: held {st['held']} of 40 over {st['procs']} processes, failures {st['failures']}")
check(st["join"]["count"] == 40, f"storm: {st['join']['count']} join samples")

c = load("churn")
check(c["failed"] == 0, f"churn: failures {c['failures']}")
check(c["churn_cycles"] > 0 and c["joins"] > 12, f"churn: {c['churn_cycles']} cycles, {c['joins']} joins")

with open(os.path.join(work, "sync", "sync.json")) as f:
    sync = json.load(f)
scen = {r["name"]: r for r in sync["scenarios"]}
check(set(scen) == {"steady", "seek", "late-join"}, f"sync: scenarios {sorted(scen)}")
for name, r in scen.items():
    # Offsets while playing: measured, finite, and well under a second once settled (a
    # broken clock sync or an ignored state shows up as seconds, not milliseconds).
    check(r["all_playing"]["n"] > 0 and r["steady"]["n"] > 0, f"sync {name}: no offset samples while playing")
    for part, k, bound in (("steady", "p99", 1000), ("all_playing", "max", 10000)):
        v = r[part][k]
        check(v is not None and math.isfinite(v) and 0 <= v < bound, f"sync {name}: {part} {k} = {v} ms")
    check(len(r["events"]) >= 1 and len(r["per_client"]) == 3, f"sync {name}: events {r['events']}, clients {len(r['per_client'])}")
check(os.path.getsize(os.path.join(work, "sync", "sync.png")) > 1000, "sync: PNG missing or empty")
with open(os.path.join(work, "sync", "sync.png"), "rb") as f:
    check(f.read(8) == b"\x89PNG\r\n\x1a\n", "sync: sync.png is not a PNG")

# Remote seats: both TVs seated, commanded and polled, none refused or lost (the figures
# themselves need the full timeline: make bench-sync ARGS="--scenarios remote").
with open(os.path.join(work, "remote", "sync.json")) as f:
    rem = json.load(f)["scenarios"][0].get("remote") or {}
seats = rem.get("seats") or []
check(len(seats) == 4, f"remote: {len(seats)} seats (tv-cmd, tv-2s, tv-10s, tv-web)")
for st in seats:
    check(st["commands"] >= 3 and st["requests"]["list"] >= 10, f"remote {st['label']}: {st['commands']} commands, {st['requests']['list']} listings")
    check(st["final_status"] not in ("refused", "signed_out", "gone"), f"remote {st['label']}: ended {st['final_status']}")
    check(st["steady_abs_error"]["n"] >= 0 and st["learned"]["load_ms"] is not None, f"remote {st['label']}: no figures")

if problems:
    print("bench-smoke: FAILED\n  " + "\n  ".join(problems))
    sys.exit(1)
print("bench-smoke: all instrument checks passed")
PY
grep -q '^sync: clients=3 ' "$work/sync.out" || { echo "bench-smoke: no sync summary line" >&2; exit 1; }
grep -q '^remote seats ' "$work/remote.out" || { echo "bench-smoke: no remote-seat table" >&2; exit 1; }
