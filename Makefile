# Matinee — one entry point for running, testing, benchmarking and packaging.
# `make run` and `make test` are the two commands a newcomer needs (see README.md).

CARGO ?= cargo
NODE  ?= node
# Respect CARGO_TARGET_DIR when set (a shared build cache), else the workspace's target/.
TARGET_DIR := $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),target)
SERVER_BIN := $(TARGET_DIR)/debug/matinee-server

.PHONY: run test test-rust test-js test-standin test-types test-browser test-plugin test-deploy test-bench-smoke \
        lint lint-fmt lint-clippy build build-server node-deps bench-sync bench-load soak plugin plugin-repo release clean

# Every suite runs through scripts/no-skips.sh: a skipped, ignored or todo test fails the run
# (MATINEE_ALLOW_SKIPS=1 allows them explicitly and prints each with its reason).
NO_SKIPS := bash scripts/no-skips.sh

## run: the session server in demo mode with the demo page on http://127.0.0.1:3000
run:
	$(CARGO) run -p matinee-server --bin matinee-server -- --demo

## test: everything CI runs. node-deps comes first: the type check, the plugin's
## BrowserScriptOrderTests (Chromium through playwright-core) and the browser tests need
## node_modules; each of those targets also depends on it, for `make -j` and for running one alone.
test: node-deps lint test-types test-rust test-js test-standin test-plugin build-server test-browser test-deploy test-bench-smoke
	@echo "make test: all suites passed"

test-rust:
	$(NO_SKIPS) cargo $(CARGO) test --workspace

build-server:
	$(CARGO) build -p matinee-server --bin matinee-server

## node-deps: the dev-only npm packages exactly as locked; again whenever the lock file is
## newer than what was installed (npm writes node_modules/.package-lock.json on every install).
node-deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

test-js:
	$(NO_SKIPS) node $(NODE) --test client-js/test/unit/

## test-standin: the Jellyfin stand-in the browser tests run against (needs mono-mcs, ffmpeg)
test-standin: node-deps
	$(NO_SKIPS) node $(NODE) --test testdata/jellyfin-standin/test/

## test-types: what the client's `// @ts-check` lines promise (client-js/tsconfig.json)
test-types: node-deps
	node_modules/.bin/tsc -p client-js

test-browser: build-server node-deps
	MATINEE_SERVER_BIN=$(abspath $(SERVER_BIN)) $(NO_SKIPS) node $(NODE) --test --test-concurrency=1 client-js/test/e2e/

## test-plugin: the plugin's Core tests twice: under Mono (mcs + Debian's NUnit 2.6, for machines
## without the .NET SDK) and under `dotnet test` (NUnit 3 on the real runtime; where the SDK is
## absent it says plainly that this run did not happen)
test-plugin: node-deps
	bash jellyfin-plugin/tests/run-mono.sh
	bash jellyfin-plugin/tests/run-dotnet.sh

test-deploy: build-server
	MATINEE_SERVER_BIN=$(abspath $(SERVER_BIN)) bash deploy/test/run.sh

test-bench-smoke: build-server
	MATINEE_SERVER_BIN=$(abspath $(SERVER_BIN)) bash scripts/bench-smoke.sh

## lint: formatting and clippy, warnings as errors (`make -k lint` reports both at once)
lint: lint-fmt lint-clippy

lint-fmt:
	$(CARGO) fmt --all --check

lint-clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## bench-sync / bench-load: the measuring instruments (docs/performance.md)
bench-sync:
	$(CARGO) build --release -p matinee-server --bin matinee-server
	MATINEE_SERVER_BIN=$(abspath $(TARGET_DIR)/release/matinee-server) $(NODE) client-js/bench/sync-harness.mjs $(ARGS)

bench-load:
	$(CARGO) build --release -p matinee-server -p matinee-loadgen
	bash scripts/bench-load.sh $(ARGS)

## soak: the chaos soak, not part of `make test` (docs/performance.md): two instances sharing
## rooms through a real redis-server, 50 rooms of 5 members playing for MINUTES (default 2);
## one instance killed (-9 and SIGTERM in turn) and restarted every 30–60 s, Redis restarted
## once. Prints kills survived, rooms lost (must be 0: the exit status says so), seats lost,
## divergences, resume and fan-out times. MATINEE_SERVER_BIN picks another server binary.
MINUTES ?= 2
soak: build-server node-deps
	MATINEE_SERVER_BIN=$${MATINEE_SERVER_BIN:-$(abspath $(SERVER_BIN))} $(NODE) client-js/bench/soak.mjs --minutes $(MINUTES) $(ARGS)

## plugin / plugin-repo: the Jellyfin plugin (needs the .NET SDK)
plugin:
	bash jellyfin-plugin/build.sh

plugin-repo:
	bash jellyfin-plugin/build.sh --repo

## release: what deploy/Dockerfile does, without Docker: release binary + checksums in dist/
release:
	bash deploy/release.sh

clean:
	$(CARGO) clean
	rm -rf dist node_modules
