# The two commands a new user needs: `make run` and `make test`. Everything they need is
# installed here, idempotently (nothing is assumed on the machine but rustup/cargo and npm).

SHELL := /bin/bash
.DEFAULT_GOAL := help

TRUNK_VERSION   := 0.21.14
BINARYEN        := binaryen@132
WASM_BINDGEN    := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/version = "\(.*\)"/\1/p;}' Cargo.lock)
TOOLS           := $(CURDIR)/.tools
export PATH     := $(TOOLS)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
SUDO            := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RETAIL          := target/release/retail

.PHONY: help deps deps-build deps-browser deps-bench spa build run test lint fmt openapi bench clean-data

help:
	@echo "make run    build everything, migrate, seed demo data, serve on http://127.0.0.1:8080"
	@echo "make test   fmt check, clippy, unit + API + browser tests"
	@echo "make bench  release build + load test (hello vs product list)"
	@echo "make openapi  regenerate openapi/openapi.json"

## ---- tools (idempotent) -------------------------------------------------------------

deps: deps-build deps-browser

deps-build:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@[ "$$(trunk --version 2>/dev/null)" = "trunk $(TRUNK_VERSION)" ] || cargo install --locked trunk --version $(TRUNK_VERSION)
	@# no --locked: its lock file pins a crate version that is not in the index any more
	@[ "$$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $(WASM_BINDGEN)" ] || cargo install wasm-bindgen-cli --version $(WASM_BINDGEN)
	@grep -q 'wasm_bindgen = "$(WASM_BINDGEN)"' Trunk.toml || { echo "Trunk.toml [tools] wasm_bindgen must be $(WASM_BINDGEN) (Cargo.lock)"; exit 1; }
	@# Debian's binaryen is too old for rustc 1.95 output; npm's is current
	@[ -x $(TOOLS)/node_modules/.bin/wasm-opt ] || npm install --no-audit --no-fund --prefix $(TOOLS) $(BINARYEN)
	@cargo fetch --quiet

deps-browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium chromium-driver; }

deps-bench:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q wrk; }

## ---- build -------------------------------------------------------------------------

spa: deps-build
	trunk build --release

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

## ---- helpers -------------------------------------------------------------------------

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

openapi:
	cargo run --quiet -p retail-server -- openapi > openapi/openapi.json

bench: deps-bench
	cargo build --release -p retail-server
	tests/bench.sh

clean-data:
	rm -rf data
