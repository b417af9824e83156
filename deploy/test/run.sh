#!/usr/bin/env bash
# Tests for deploy/ and the configuration docs (`make test-deploy`).
#
# Against a real matinee-server (MATINEE_SERVER_BIN, the debug build from the Makefile):
#   - the Dockerfile's structure, and its HEALTHCHECK command run against the live server;
#   - deploy/release.sh: release binary, version in its name, SHA256SUMS that verify;
#   - the systemd unit (`systemd-analyze verify`), the example TOML against --print-config;
#   - docs/configuration.md against --print-config (every key, default and env name);
#   - both nginx examples: `nginx -t`, then a real WebSocket session through a real nginx (TLS)
#     to the real server — healthz, origin refused with 403, hello/welcome, ping/pong, a room,
#     a friend joining, a play reaching both;
#   - the Caddyfile: `caddy validate` and the same session through caddy, when caddy is installed;
#   - compose.yaml and the Traefik files: YAML structure (Traefik is not installable here).
#
# Needs python3 ≥ 3.11, node with the `ws` dev dependency (npm ci), nginx and openssl.
# Optional tools (caddy, systemd-analyze, PyYAML): when one is missing its checks print SKIP, are
# never counted as passed, and fail the suite unless MATINEE_ALLOW_SKIPS=1 says that is
# intended. MATINEE_TEST_RELEASE=0 skips the release build (a full optimised compile) likewise.
set -uo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

BIN="${MATINEE_SERVER_BIN:-$root/target/debug/matinee-server}"
tmp="$(mktemp -d)"
chmod 0755 "$tmp"   # nginx workers may run as another user and must reach their temp paths
pids=()

cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); echo "PASS  $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP  $*"; }
# Run a command; PASS/FAIL with its output indented on failure.
check() {
    local what="$1"; shift
    local out
    if out="$("$@" 2>&1)"; then pass "$what"; else fail "$what"; printf '%s\n' "$out" | sed 's/^/      /'; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait until something accepts TCP connections on 127.0.0.1:$1 (bounded: 20 s).
wait_port() {
    local i
    for i in $(seq 1 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

# start_server NAME [VAR=value...]: a demo server on a free loopback port; sets $server_port.
start_server() {
    local name="$1"; shift
    "${clean_env[@]}" "$@" "$BIN" --demo --listen 127.0.0.1:0 >"$tmp/$name.out" 2>"$tmp/$name.err" &
    local pid=$! i
    pids+=("$pid")
    server_pid="$pid" server_port=""
    for i in $(seq 1 300); do
        server_port="$(sed -n 's#^Matinee listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p' "$tmp/$name.out")"
        [ -n "$server_port" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "server $name did not print its address; stderr:"; sed 's/^/      /' "$tmp/$name.err"
    return 1
}

echo "== deploy tests (server: $BIN)"
if [ ! -x "$BIN" ]; then
    fail "server binary $BIN exists (build it: make build-server)"
    echo "deploy tests: $passed passed, $failed failed, $skipped skipped"
    exit 1
fi

# --- The server's own view of its configuration: the reference for everything below. ---------
printed="$tmp/print-config.toml"
# A clean environment for --print-config: defaults only, whatever the caller has exported.
clean_env=(env -u MATINEE_CONFIG $(env | sed -n 's/^\(MATINEE_[A-Z0-9_]*__[A-Z0-9_]*\)=.*/-u \1/p'))
check "matinee-server --version prints a version" sh -c "'$BIN' --version | grep -Eq '[0-9]+\.[0-9]+\.[0-9]+'"
if "${clean_env[@]}" "$BIN" --print-config >"$printed" 2>"$tmp/print-config.err" \
    && python3 -c 'import sys, tomllib; tomllib.load(open(sys.argv[1], "rb"))' "$printed"; then
    pass "matinee-server --print-config prints TOML ($(python3 deploy/test/config_check.py keys "$printed" | wc -l) keys)"
else
    fail "matinee-server --print-config prints TOML"; sed 's/^/      /' "$tmp/print-config.err" "$printed"
fi

# --- Configuration: example file, docs, env names used in deploy files. -----------------------
check "deploy/matinee.toml.example has exactly the keys of --print-config, each commented" \
    python3 deploy/test/config_check.py example "$printed" deploy/matinee.toml.example
check "deploy/matinee.toml.example is accepted by the server (--config ... --print-config)" \
    "${clean_env[@]}" "$BIN" --config deploy/matinee.toml.example --print-config
check "docs/configuration.md documents every key of --print-config (default, env name) and no other" \
    python3 deploy/test/config_check.py docs "$printed" docs/configuration.md
check "every MATINEE_* variable named in deploy/ and docs/ is a real configuration key" \
    python3 deploy/test/config_check.py env "$printed" deploy/Dockerfile deploy/compose.yaml \
        deploy/matinee.service deploy/proxy/traefik-compose.yaml README.md docs/install.md \
        docs/configuration.md docs/troubleshooting.md docs/protocol.md docs/architecture.md

# --- systemd unit. -----------------------------------------------------------------------------
unit=deploy/matinee.service
missing=""
for d in 'DynamicUser=yes' 'ProtectSystem=strict' 'NoNewPrivileges=yes' 'PrivateTmp=yes' \
    'ProtectHome=yes' 'RestrictAddressFamilies=' 'CapabilityBoundingSet=$' 'Restart=on-failure' \
    'KillSignal=SIGTERM' 'TimeoutStopSec=' 'ExecStart=/usr/local/bin/matinee-server --config /etc/matinee/matinee.toml'; do
    grep -q "^$d" "$unit" || missing="$missing $d"
done
if [ -z "$missing" ]; then pass "$unit has every hardening directive"; else fail "$unit lacks:$missing"; fi
if command -v systemd-analyze >/dev/null; then
    # verify needs the ExecStart binary to exist: point a copy of the unit at the real one.
    mkdir -p "$tmp/unit"
    sed "s#^ExecStart=/usr/local/bin/matinee-server#ExecStart=$BIN#" "$unit" >"$tmp/unit/matinee.service"
    # It reports unknown or misspelt directives as warnings with exit 0: any output is a failure.
    out="$(systemd-analyze verify "$tmp/unit/matinee.service" 2>&1)"; rc=$?
    if [ $rc -eq 0 ] && [ -z "$out" ]; then pass "systemd-analyze verify $unit (no warnings)"
    else fail "systemd-analyze verify $unit"; printf '%s\n' "$out" | sed 's/^/      /'; fi
else
    skip "systemd-analyze verify $unit: systemd-analyze not available (not counted)"
fi

# --- Dockerfile (no Docker engine here: structure, and its health check run for real). ---------
check "deploy/Dockerfile: multi-stage, non-root, STOPSIGNAL, EXPOSE, HEALTHCHECK, same cargo command as release.sh" \
    python3 deploy/test/structure_check.py dockerfile deploy/Dockerfile deploy/release.sh

if start_server main MATINEE_SERVER__ALLOWED_ORIGINS=https://jellyfin.test; then
    pass "matinee-server --demo --listen 127.0.0.1:0 starts and prints its address (port $server_port)"
    main_port="$server_port"
    hc="$(python3 deploy/test/structure_check.py healthcheck deploy/Dockerfile)"
    check "the Dockerfile's HEALTHCHECK command succeeds against a live server" \
        env MATINEE_SERVER__LISTEN="127.0.0.1:$main_port" timeout 10 bash -c "$hc"
    dead="$(free_port)"
    if env MATINEE_SERVER__LISTEN="127.0.0.1:$dead" timeout 10 bash -c "$hc" 2>/dev/null; then
        fail "the Dockerfile's HEALTHCHECK command fails when nothing answers"
    else
        pass "the Dockerfile's HEALTHCHECK command fails when nothing answers"
    fi
else
    fail "matinee-server --demo --listen 127.0.0.1:0 starts and prints its address"
    main_port=""
fi

# --- Graceful shutdown, which STOPSIGNAL, KillSignal/TimeoutStopSec and stop_grace_period rely on:
# SIGTERM closes a connected client with 1001 and the process exits well before the 10 s that
# Docker (and our systemd unit, with 15 s) wait before SIGKILL. The bound is generous on purpose:
# it checks the contract, not speed.
if start_server shutdown; then
    node --input-type=module -e '
        import WebSocket from "ws";
        const ws = new WebSocket(`ws://127.0.0.1:${process.argv[1]}/ws`);
        ws.on("open", () => ws.send(JSON.stringify({ type: "hello", protocol: 1, name: "s" })));
        ws.on("message", (d) => { if (JSON.parse(String(d)).type === "welcome") console.log("ready"); });
        ws.on("close", (code) => { console.log(`close ${code}`); process.exit(0); });
        ws.on("error", (e) => { console.log(`error ${e.message}`); process.exit(1); });
        setTimeout(() => { console.log("no close within 20 s"); process.exit(1); }, 20000);
    ' "$server_port" >"$tmp/shutdown-client.out" 2>&1 &
    client_pid=$!
    for i in $(seq 1 100); do grep -q ready "$tmp/shutdown-client.out" && break; sleep 0.1; done
    start_ns=$(date +%s%N)
    kill -TERM "$server_pid"
    for i in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
    if kill -0 "$server_pid" 2>/dev/null; then
        fail "SIGTERM stops the server within 10 s (still running)"
    else
        wait "$server_pid"; rc=$?
        wait "$client_pid"
        if [ $rc -eq 0 ] && grep -q '^close 1001$' "$tmp/shutdown-client.out"; then
            pass "SIGTERM: the client gets close 1001 and the server exits 0 (after ${elapsed_ms} ms; Docker/systemd wait 10/15 s)"
        else
            fail "SIGTERM: client close 1001 and exit status 0 (exit $rc; client: $(tr '\n' ' ' <"$tmp/shutdown-client.out"))"
        fi
    fi
else
    fail "a second server starts for the shutdown check"
fi

# --- Reverse proxies: nginx. ------------------------------------------------------------------
# A self-signed certificate for 127.0.0.1, so the examples run with TLS exactly as written.
mkdir -p "$tmp/tls"
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$tmp/tls/privkey.pem" -out "$tmp/tls/fullchain.pem" >"$tmp/openssl.log" 2>&1; then
    fail "openssl made a test certificate"; sed 's/^/      /' "$tmp/openssl.log"
fi

# nginx_site SRC DEST HTTPS_PORT HTTP_PORT: the example with test ports and certificate paths.
# Each rewrite must take, or the test would silently exercise less than the example says.
nginx_site() {
    sed -e "s#^\([[:space:]]*\)listen 443 ssl;#\1listen 127.0.0.1:$3 ssl;#" \
        -e "s#^\([[:space:]]*\)listen 80;#\1listen 127.0.0.1:$4;#" \
        -e '/^[[:space:]]*listen \[::\]:/d' \
        -e "s#/etc/letsencrypt/live/[^/]*/#$tmp/tls/#" \
        -e "s#127\.0\.0\.1:3000#127.0.0.1:$main_port#" "$1" >"$2"
    grep -q "listen 127.0.0.1:$3 ssl;" "$2" && grep -q "listen 127.0.0.1:$4;" "$2" \
        && grep -q "127.0.0.1:$main_port" "$2" && grep -q "$tmp/tls/fullchain.pem" "$2" \
        && ! grep -Eq 'listen (443|80|\[::\])' "$2" && ! grep -q '127\.0\.0\.1:3000' "$2"
}

# nginx_wrapper NAME: a minimal nginx.conf around the site, everything under $tmp.
nginx_wrapper() {
    cat >"$tmp/nginx-$1.conf" <<EOF
worker_processes 1;
pid $tmp/nginx-$1.pid;
error_log $tmp/nginx-$1.error.log notice;
events { worker_connections 256; }
http {
    access_log $tmp/nginx-$1.access.log;
    client_body_temp_path $tmp/nginx-$1-body;
    proxy_temp_path $tmp/nginx-$1-proxy;
    fastcgi_temp_path $tmp/nginx-$1-fastcgi;
    uwsgi_temp_path $tmp/nginx-$1-uwsgi;
    scgi_temp_path $tmp/nginx-$1-scgi;
    include $tmp/site-$1.conf;
}
EOF
}

# The session client: base URL as an admin would type it into the plugin, the Origin the
# server allows (or same-origin), and a foreign Origin that must be refused.
ws_session() {
    node deploy/test/ws_session.mjs "$(printf '{"base":"%s","ca":"%s","origin":"%s","foreignOrigin":"https://evil.test"}' "$1" "$tmp/tls/fullchain.pem" "$2")"
}

# Debian keeps nginx in /usr/sbin, which is not on a normal user's PATH.
nginx="$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; })"
if [ -z "$nginx" ]; then
    fail "nginx is installed (CI installs nginx-light; apt-get install nginx-light)"
elif [ -z "$main_port" ]; then
    fail "nginx examples: no server to proxy to"
else
    for example in own-host subpath; do
        src="deploy/proxy/nginx-$example.conf"
        https_port="$(free_port)" http_port="$(free_port)"
        if ! nginx_site "$src" "$tmp/site-$example.conf" "$https_port" "$http_port"; then
            fail "$src: the test could not map its listen/certificate/upstream lines to test values"
            continue
        fi
        nginx_wrapper "$example"
        check "nginx -t accepts $src" "$nginx" -t -q -p "$tmp" -c "$tmp/nginx-$example.conf"
        "$nginx" -p "$tmp" -c "$tmp/nginx-$example.conf" -g 'daemon off;' >"$tmp/nginx-$example.out" 2>&1 &
        pids+=("$!")
        if ! wait_port "$https_port"; then
            fail "nginx with $src starts"; sed 's/^/      /' "$tmp/nginx-$example.out" "$tmp/nginx-$example.error.log" 2>/dev/null
            continue
        fi
        if [ "$example" = own-host ]; then
            # Cross-origin, as from the Jellyfin page: admitted by server.allowed_origins.
            base="https://127.0.0.1:$https_port/" origin="https://jellyfin.test"
        else
            # Same origin as the page (Jellyfin's host), which needs no allow-list entry.
            base="https://127.0.0.1:$https_port/matinee/" origin="https://127.0.0.1:$https_port"
        fi
        if out="$(ws_session "$base" "$origin" 2>&1)"; then
            pass "a real WebSocket session through nginx with $src ($base)"
            printf '%s\n' "$out" | sed 's/^/      /'
        else
            fail "a real WebSocket session through nginx with $src ($base)"
            printf '%s\n' "$out" | sed 's/^/      /'
            tail -n 20 "$tmp/nginx-$example.error.log" 2>/dev/null | sed 's/^/      nginx: /'
        fi
        # Port 80 sends browsers to HTTPS.
        loc="$(python3 - "$http_port" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("GET", "/matinee/ws")
r = c.getresponse()
print(r.status, r.getheader("Location"))
EOF
)"
        if [ "$loc" = "301 https://127.0.0.1/matinee/ws" ]; then pass "$src: plain HTTP redirects to HTTPS"
        else fail "$src: plain HTTP redirects to HTTPS (got: $loc)"; fi
    done
fi

# --- Reverse proxies: Caddy. ------------------------------------------------------------------
caddyfile=deploy/proxy/Caddyfile
if ! command -v caddy >/dev/null; then
    skip "caddy validate $caddyfile and a session through Caddy: caddy not installed (not counted; apt-get install caddy)"
else
    # Caddy keeps state under HOME/XDG dirs: keep it in the temp folder.
    caddy_env=(env HOME="$tmp/caddy-home" XDG_DATA_HOME="$tmp/caddy-home" XDG_CONFIG_HOME="$tmp/caddy-home")
    check "caddy validate $caddyfile" "${caddy_env[@]}" caddy validate --adapter caddyfile --config "$caddyfile"
    if [ -n "$main_port" ]; then
        own="$(free_port)" sub="$(free_port)"
        # Plain-HTTP site addresses on test ports (no certificates), no admin endpoint (port 2019).
        { printf '{\n\tadmin off\n}\n\n'
          sed -e "s#^matinee\.example\.com {#http://127.0.0.1:$own {#" \
              -e "s#^jellyfin\.example\.com {#http://127.0.0.1:$sub {#" \
              -e "s#127\.0\.0\.1:3000#127.0.0.1:$main_port#" "$caddyfile"; } >"$tmp/Caddyfile"
        if grep -q "http://127.0.0.1:$own {" "$tmp/Caddyfile" && grep -q "http://127.0.0.1:$sub {" "$tmp/Caddyfile" \
            && ! grep -q '127\.0\.0\.1:3000' "$tmp/Caddyfile"; then
            "${caddy_env[@]}" caddy run --adapter caddyfile --config "$tmp/Caddyfile" >"$tmp/caddy.log" 2>&1 &
            pids+=("$!")
            if wait_port "$own" && wait_port "$sub"; then
                for base in "http://127.0.0.1:$own/" "http://127.0.0.1:$sub/matinee/"; do
                    origin="https://jellyfin.test"
                    [ "$base" != "${base%/matinee/}" ] && origin="${base%/matinee/}"
                    if out="$(ws_session "$base" "$origin" 2>&1)"; then
                        pass "a real WebSocket session through Caddy ($base)"
                    else
                        fail "a real WebSocket session through Caddy ($base)"
                        printf '%s\n' "$out" | sed 's/^/      /'; tail -n 20 "$tmp/caddy.log" | sed 's/^/      caddy: /'
                    fi
                done
            else
                fail "caddy runs $caddyfile"; tail -n 20 "$tmp/caddy.log" | sed 's/^/      /'
            fi
        else
            fail "$caddyfile: the test could not map its site addresses/upstream to test values"
        fi
    fi
fi

# --- compose, Traefik and the release workflow: YAML structure only. --------------------------------------------------
for spec in "compose deploy/compose.yaml" "traefik deploy/proxy/traefik-compose.yaml deploy/proxy/traefik-dynamic.yaml" "release .github/workflows/release.yml"; do
    # shellcheck disable=SC2086
    out="$(python3 deploy/test/structure_check.py $spec 2>&1)"; rc=$?
    what="structure of ${spec#* } (YAML parsed; neither Traefik nor GitHub Actions runs here)"
    case $rc in
        0) pass "$what" ;;
        3) skip "$what: PyYAML not available (not counted)" ;;
        *) fail "$what"; printf '%s\n' "$out" | sed 's/^/      /' ;;
    esac
done

# --- Links in README.md and docs/ point at files that exist. ----------------------------------
check "relative links (and #anchors) in README.md and docs/*.md point at existing files and headings" python3 - README.md docs/*.md <<'EOF'
import os, re, sys

def slugs(md_path):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    in_code = False
    for line in open(md_path, encoding="utf-8"):
        if line.startswith("```"):
            in_code = not in_code
        m = None if in_code else re.match(r"^#{1,6}\s+(.*?)\s*$", line)
        if m:
            out.add(re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-"))
    return out

bad = []
for path in sys.argv[1:]:
    text = re.sub(r"```.*?```", "", open(path, encoding="utf-8").read(), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        file = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
        if not os.path.exists(file):
            bad.append(f"{path}: {target} (no such file)")
        elif anchor and file.endswith(".md") and anchor not in slugs(file):
            bad.append(f"{path}: {target} (no such heading)")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF

# --- docs/protocol.md: every JSON example is valid JSON with a protocol message type. ----------
check "every JSON example in docs/protocol.md parses and has a v1 message type" python3 - docs/protocol.md <<'EOF'
import json, re, sys
types = {"hello", "ping", "create_room", "join_room", "leave_room", "play", "pause", "seek", "set_media",
         "status", "chat", "reaction", "transfer_host", "kick",
         "welcome", "pong", "room", "state", "members", "left", "error",
         # added to v1 (DESIGN §8: party additions, docs/protocol.md)
         "set_rights", "ready_check", "ready", "ready_result",
         "queue_add", "queue_remove", "queue_move", "queue_clear", "ended", "queue"}
blocks = re.findall(r"```json\n(.*?)```", open(sys.argv[1], encoding="utf-8").read(), re.S)
bad = []
for b in blocks:
    try:
        msg = json.loads(b)
    except ValueError as e:
        bad.append(f"not JSON ({e}): {b.strip()[:80]}")
        continue
    if msg.get("type") not in types:
        bad.append(f"unknown type {msg.get('type')!r}: {b.strip()[:80]}")
print("\n".join(bad) if bad else f"{len(blocks)} examples")
sys.exit(1 if bad or not blocks else 0)
EOF

# --- Release build (what the Dockerfile's build stage does). ------------------------------------
if [ "${MATINEE_TEST_RELEASE:-1}" = 0 ]; then
    skip "deploy/release.sh: MATINEE_TEST_RELEASE=0 (not counted)"
else
    echo "..    deploy/release.sh (release build; takes a while the first time)"
    if bash deploy/release.sh --dist "$tmp/dist" >"$tmp/release.log" 2>&1; then
        pass "deploy/release.sh builds the release binary"
        version="$("$BIN" --version | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+[^ ]*' | head -n 1)"
        target="$(rustc -vV | sed -n 's/^host: //p')"
        rel="$tmp/dist/matinee-server-$version-$target"
        check "dist/ holds matinee-server-$version-$target" test -x "$rel"
        check "the release binary runs: --version names $version" sh -c "'$rel' --version | grep -qF '$version'"
        check "the release binary runs: --print-config prints valid TOML" \
            "${clean_env[@]}" sh -c "'$rel' --print-config | python3 -c 'import sys, tomllib; tomllib.loads(sys.stdin.read())'"
        check "SHA256SUMS verifies (sha256sum -c)" sh -c "cd '$tmp/dist' && sha256sum -c SHA256SUMS"
        # And it is a real check: one changed byte is caught.
        cp "$rel" "$tmp/release-copy"
        printf 'x' | dd of="$rel" bs=1 seek=100 conv=notrunc status=none
        if (cd "$tmp/dist" && sha256sum -c --quiet SHA256SUMS) >/dev/null 2>&1; then
            fail "SHA256SUMS catches a modified binary"
        else
            pass "SHA256SUMS catches a modified binary"
        fi
    else
        fail "deploy/release.sh builds the release binary"; tail -n 30 "$tmp/release.log" | sed 's/^/      /'
    fi
fi

echo "deploy tests: $passed passed, $failed failed, $skipped skipped"
# A check that did not run proves nothing: skips fail the suite unless allowed explicitly
# (MATINEE_ALLOW_SKIPS=1, as for the other suites: scripts/no-skips.sh).
if [ "$skipped" -gt 0 ] && [ "${MATINEE_ALLOW_SKIPS:-0}" != 1 ]; then
    echo "deploy tests: $skipped check(s) skipped (SKIP lines above); install what they name or set MATINEE_ALLOW_SKIPS=1"
    exit 1
fi
[ "$failed" -eq 0 ]
