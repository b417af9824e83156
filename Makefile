# Matinee — one entry point for running, testing, benchmarking and packaging.
# `make run` and `make test` are the two commands a newcomer needs (see README.md).

CARGO ?= cargo
NODE  ?= node
# Respect CARGO_TARGET_DIR when set (a shared build cache), else the workspace's target/.
TARGET_DIR := $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),target)
SERVER_BIN := $(TARGET_DIR)/debug/matinee-server

.PHONY: run test test-rust test-js test-browser test-plugin test-deploy test-bench-smoke \
        lint build build-server node-deps bench-sync bench-load plugin plugin-repo release clean

## run: the session server in demo mode with the demo page on http://127.0.0.1:3000
run:
	$(CARGO) run -p matinee-server --bin matinee-server -- --demo

## test: everything CI runs
test: test-rust test-js test-plugin build-server node-deps test-browser test-deploy test-bench-smoke
	@echo "make test: all suites passed"

test-rust:
	$(CARGO) test --workspace

build-server:
	$(CARGO) build -p matinee-server --bin matinee-server

node-deps:
	@test -d node_modules || npm ci --no-audit --no-fund

test-js:
	$(NODE) --test client-js/test/unit/

test-browser: build-server node-deps
	MATINEE_SERVER_BIN=$(abspath $(SERVER_BIN)) $(NODE) --test --test-concurrency=1 client-js/test/e2e/

test-plugin:
	bash jellyfin-plugin/tests/run-mono.sh

test-deploy: build-server
	MATINEE_SERVER_BIN=$(abspath $(SERVER_BIN)) bash deploy/test/run.sh

test-bench-smoke: build-server
	MATINEE_SERVER_BIN=$(abspath $(SERVER_BIN)) bash scripts/bench-smoke.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## bench-sync / bench-load: the measuring instruments (docs/performance.md)
bench-sync:
	$(CARGO) build --release -p matinee-server --bin matinee-server
	MATINEE_SERVER_BIN=$(abspath $(TARGET_DIR)/release/matinee-server) $(NODE) client-js/bench/sync-harness.mjs $(ARGS)

bench-load:
	$(CARGO) build --release -p matinee-server -p matinee-loadgen
	bash scripts/bench-load.sh $(ARGS)

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
