# Regal POS — the two commands a newcomer needs:
#   make run    set up Postgres and Redis, build, migrate, create the default admin, serve
#   make test   set up Postgres and Redis, build and run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

PGHOST ?= 127.0.0.1
PGPORT ?= 5432
DATABASE_NAME ?= regal
export DATABASE_URL ?= postgres://postgres@$(PGHOST):$(PGPORT)/$(DATABASE_NAME)
export REDIS_URL ?= redis://127.0.0.1:6379/0
export TEST_DATABASE_URL ?= postgres://postgres@$(PGHOST):$(PGPORT)/postgres
export TEST_REDIS_URL ?= $(REDIS_URL)

.PHONY: help services build run test lint fmt

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

services: ## make sure Postgres and Redis answer (start or install them when needed)
	@scripts/ensure-services.sh $(DATABASE_NAME)

build: ## build the regal binary (release)
	cargo build --release --locked -p regal

run: services build dashboard ## run everything in one process: four services, the gateway and the dashboard (/dashboard)
	target/release/regal serve all

test: services ## run every test (unit, integration, end-to-end) against real Postgres and Redis
	@if cargo nextest --version >/dev/null 2>&1; then \
		cargo nextest run --workspace --locked --no-fail-fast; \
	else \
		cargo test --workspace --locked --no-fail-fast; \
	fi
	@$(MAKE) --no-print-directory e2e

lint: ## formatting and clippy, as CI runs them
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt: ## format the code
	cargo fmt --all

.PHONY: bench
bench: services ## build in release, run every benchmark on a fresh database; table + target/bench/results.json (BENCH_QUICK=1: < 2 min; BENCH_ARGS="product-get --seconds 60")
	cargo build --release --locked -p regal -p regal-bench
	$${CARGO_TARGET_DIR:-target}/release/regal-bench $(BENCH_ARGS)

.PHONY: deploy-check
deploy-check: ## lint the Dockerfile, validate compose and every kustomize render, cross-check them with the code
	scripts/deploy-check.sh

SOAK_MINUTES ?= 10
SOAK_PROFILE ?= release
SOAK_DIR = $(if $(filter dev,$(SOAK_PROFILE)),debug,$(SOAK_PROFILE))
.PHONY: soak
soak: services ## mixed load while parts are killed and restarted, then check the books (SOAK_MINUTES=10, SOAK_SEED=<replay>, SOAK_PROFILE=dev for a debug build, SOAK_ARGS)
	cargo build --locked --profile $(SOAK_PROFILE) -p regal -p regal-bench
	SOAK_MINUTES=$(SOAK_MINUTES) $${CARGO_TARGET_DIR:-target}/$(SOAK_DIR)/regal-soak $(SOAK_ARGS)

# The web dashboard (dashboard/): npm ci when the lock file changed, then generate the
# gRPC-web client from proto/, typecheck and bundle into dashboard/dist.
.PHONY: dashboard e2e
dashboard/node_modules/.package-lock.json: dashboard/package.json dashboard/package-lock.json
	@scripts/ensure-browser.sh --node-only
	cd dashboard && npm ci --no-audit --no-fund

dashboard: dashboard/node_modules/.package-lock.json ## build the web dashboard into dashboard/dist (served at /dashboard)
	cd dashboard && npm run --silent build

e2e: services dashboard ## the dashboard's unit tests, then the dashboard in headless Chromium against a real suite (screenshots in target/dashboard-e2e/)
	@scripts/ensure-browser.sh
	cargo build --locked -p regal
	cd dashboard && npm test --silent
	cd dashboard && REGAL_BIN="$${CARGO_TARGET_DIR:-target}/debug/regal" node scripts/e2e.mjs
