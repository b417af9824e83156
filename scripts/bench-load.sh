#!/usr/bin/env bash
# Load bench (docs/performance.md): starts the session server on a free loopback port, runs
# the `loadgen` generator against it with the given options, prints its summary line and
# stops the server.
#
#   scripts/bench-load.sh [loadgen options]        e.g. --connections 5000 --room-size 5
#   make bench-load ARGS="--connections 5000"     (builds the release binaries first)
#
# Environment:
#   MATINEE_SERVER_BIN  server binary   (default: target/release/matinee-server)
#   LOADGEN_BIN         generator       (default: target/release/loadgen)
#   MATINEE_<SECTION>__<KEY>  server configuration, passed through; the effective [server]
#                       and [limits] sections are printed before the run, so no limit is
#                       ever changed without it showing.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVER_BIN=${MATINEE_SERVER_BIN:-${CARGO_TARGET_DIR:-target}/release/matinee-server}
LOADGEN_BIN=${LOADGEN_BIN:-${CARGO_TARGET_DIR:-target}/release/loadgen}
for b in "$SERVER_BIN" "$LOADGEN_BIN"; do
    if [ ! -x "$b" ]; then
        echo "bench-load: $b is missing; run 'make bench-load' (builds release binaries)" >&2
        exit 2
    fi
done

for a in "$@"; do
    if [ "$a" = "--help" ] || [ "$a" = "-h" ]; then exec "$LOADGEN_BIN" --help; fi
done

# Server and generator each need one descriptor per connection.
ulimit -n "$(ulimit -Hn)"

# The generator's clients say hello with a display name and no token.
export MATINEE_AUTH__ALLOW_ANONYMOUS=true
# Per-connection log lines would measure the terminal, not the server.
export MATINEE_LOG__LEVEL="${MATINEE_LOG__LEVEL:-warn}"
# Rooms in memory unless asked otherwise: the bench measures fan-out, and the default local
# store would leave thousands of room files in the data directory after every run.
# MATINEE_STORE__BACKEND=local (with MATINEE_STORE__DATA_DIR) measures the server with its
# default store.
export MATINEE_STORE__BACKEND="${MATINEE_STORE__BACKEND:-memory}"

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        # Give graceful shutdown its few seconds, then insist.
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "bench-load: server $SERVER_BIN, descriptors per process: $(ulimit -n)"
echo "bench-load: effective server configuration:"
"$SERVER_BIN" --listen 127.0.0.1:0 --print-config 2>&1 \
    | awk '/^\[/{show = ($0 == "[server]" || $0 == "[limits]" || $0 == "[log]" || $0 == "[auth]" || $0 == "[store]")} show' \
    | sed 's/^/    /'

"$SERVER_BIN" --listen 127.0.0.1:0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!

addr=""
for _ in $(seq 100); do
    addr=$(grep -oE 'listening on http://[^[:space:]]+' "$work/server.out" 2>/dev/null | head -n1 | sed 's#.*http://##' || true)
    [ -n "$addr" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.1
done
if [ -z "$addr" ]; then
    echo "bench-load: the server did not start; its output:" >&2
    cat "$work/server.out" "$work/server.err" >&2
    exit 1
fi
echo "bench-load: server pid $server_pid on $addr"

rc=0
"$LOADGEN_BIN" --url "ws://$addr/ws" --server-pid "$server_pid" "$@" || rc=$?

# The server's own view, to tell its queueing apart from the generator's and the kernel's:
# fan-out latency from the decision to the socket write, by frame type, over the whole run
# (ramp and teardown included; loadgen prints the same histogram over its measuring window),
# and why connections closed.
python3 - "$addr" <<'PY' || true
import sys, urllib.request
try:
    text = urllib.request.urlopen(f"http://{sys.argv[1]}/metrics", timeout=5).read().decode()
except Exception as e:
    print(f"bench-load: /metrics unavailable: {e}")
    sys.exit(0)
series = {}
for line in text.splitlines():
    if line.startswith("matinee_fanout_latency_seconds_bucket{"):
        labels, value = line.split("{", 1)[1].split("} ")
        kv = dict(p.split("=", 1) for p in labels.split(","))
        series.setdefault(kv["type"].strip('"'), []).append((kv["le"].strip('"'), float(value)))
parts = []
for kind, buckets in sorted(series.items()):
    total = buckets[-1][1]
    if not total:
        continue
    def q(p):
        for le, c in buckets:
            if c >= p * total:
                return le
        return "+Inf"
    parts.append(f"{kind} n={int(total)} p50<={q(0.5)} p99<={q(0.99)} p99.9<={q(0.999)} s")
if parts:
    print("bench-load: server-side fan-out over the whole run (decided -> written to the socket): "
          + "; ".join(parts))
closed = [l for l in text.splitlines() if l.startswith("matinee_closes_total") or l.startswith("matinee_errors_total")]
if closed:
    print("bench-load: server counters: " + "; ".join(closed))
PY

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "bench-load: the server died during the run; its stderr:" >&2
    tail -n 50 "$work/server.err" >&2
    rc=1
elif [ -s "$work/server.err" ]; then
    echo "bench-load: server warnings during the run (last 10 lines):" >&2
    tail -n 10 "$work/server.err" >&2
fi
exit "$rc"
