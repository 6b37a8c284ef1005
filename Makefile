# goal-signals — build, run and test. GNU make.
#
#   make run       install missing Debian packages, build, run the whole stack locally (Ctrl-C stops it)
#   make cluster-run   the same on a local Redis Cluster of 3 masters and 3 replicas, started for the run
#   make test      install missing Debian packages, build, unit + integration tests, compose test, smoke test
#   make compose-test  the compose stack built and run on a Docker engine (a private one when none answers)
#   make build     debug build            make release   release build
#   make smoke     smoke test of the debug build's executables (health, probe, goalctl)
#   make faults    the full fault suite: hundreds of goals through crashes, restarts and stalls (not in make test)
#   make soak      20 minutes of constant load on the release build, docker settings, memory sampled (not in make test)
#   make bench     the performance profiles of the whole chain, each on a fresh release stack (not part of make test)
#   make bench-profile  the standard profile with perf recording where each process's CPU goes in the closed loop
#   make redis-cost  Redis instructions per chain, counted under valgrind: a figure the machine's noise leaves alone
#   make reply-cost  a stream entry's client CPU with hiredis's reply objects and with the connections' reply arena
#   make deps      install missing Debian packages (libhiredis-dev, libjemalloc-dev, redis, docker-compose, ...)
#   make compose-check  validate docker-compose.yml without an engine
#   make completions  install goalctl's shell completions (bash, zsh, fish) under COMPLETIONS_PREFIX
#   make clean     remove build products and local run state

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# Swift comes with the machine under /opt/swift; use it when it is not on PATH already.
ifeq ($(shell command -v swift 2>/dev/null),)
  ifneq ($(wildcard /opt/swift/usr/bin/swift),)
    export PATH := /opt/swift/usr/bin:$(PATH)
  endif
endif

SWIFT ?= swift
SWIFT_BUILD_FLAGS ?=
SWIFT_TEST_FLAGS ?=
DOCKER_COMPOSE ?= docker-compose

# The folder of the debug binaries, asked of SwiftPM when a recipe runs.
BIN_DIR ?= $$($(SWIFT) build $(SWIFT_BUILD_FLAGS) --show-bin-path)

# What the compose test needs beyond `make deps`: an engine (when no dockerd is installed) and debootstrap.
COMPOSE_DEPS := --also docker.io:dockerd --also debootstrap:debootstrap

.PHONY: help deps build release test compose-test faults run cluster-run smoke soak bench bench-profile redis-cost reply-cost compose-check completions clean

help:
	@sed -n '3,18p' Makefile | sed 's/^# \{0,1\}//'

# More packages a target needs, as scripts/deps.sh --also PACKAGE:COMMAND (set per target below).
DEPS_ALSO ?=

deps:
	@scripts/deps.sh $(DEPS_ALSO)

build: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)

release: deps
	$(SWIFT) build -c release $(SWIFT_BUILD_FLAGS)

# Every step must pass; the first failure stops the run with a non-zero status. The tests drive
# `goalctl top` in a terminal through tmux.
test: DEPS_ALSO = --also tmux:tmux
test: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)
	REDIS_SERVER="$$(command -v redis-server)" GOAL_SIGNALS_BIN="$(BIN_DIR)" \
		$(SWIFT) test $(SWIFT_BUILD_FLAGS) $(SWIFT_TEST_FLAGS)
	$(MAKE) --no-print-directory compose-test
	scripts/smoke.sh "$(BIN_DIR)"

# Builds the image, runs the stack scaled (goals=3, sessions=2) with Prometheus, 200 chains and a SIGKILLed
# replica, checks it all with the documented recipes, and brings it down (scripts/compose-test.sh).
compose-test: deps
	@scripts/deps.sh $(COMPOSE_DEPS)
	scripts/compose-test.sh

# The fault suites alone, at full size (FAULT_LOAD=full); `make test` runs the same cases shorter.
faults: build
	FAULT_LOAD=full REDIS_SERVER="$$(command -v redis-server)" GOAL_SIGNALS_BIN="$(BIN_DIR)" \
		$(SWIFT) test $(SWIFT_BUILD_FLAGS) $(SWIFT_TEST_FLAGS) --filter 'CrashRecoveryTests|RedisFaultTests|GracefulStopTests'

run: build
	scripts/run-stack.sh "$(BIN_DIR)"

# The same stack on a local Redis Cluster (3 masters, 3 replicas) started for the run and stopped with it.
cluster-run: build
	RUN_CLUSTER=1 scripts/run-stack.sh "$(BIN_DIR)"

smoke: build
	scripts/smoke.sh "$(BIN_DIR)"

soak: release
	scripts/soak.py "$$($(SWIFT) build -c release --show-bin-path)" $(SOAK_ARGS)

# BENCH_GOALS sets the profiles' size, BENCH_PROFILES picks some of them ("standard batched traced long");
# scripts/bench.sh lists the other knobs (long run, perf, replicas, preload, Redis).
bench: release
	scripts/bench.sh "$$($(SWIFT) build -c release --show-bin-path)" $(BENCH_GOALS)

# perf records every service and redis-server during the standard closed loop: .run/bench/profile-<process>.txt.
bench-profile: release
	BENCH_PERF=1 BENCH_PROFILES=standard scripts/bench.sh "$$($(SWIFT) build -c release --show-bin-path)" $(BENCH_GOALS)

# REDIS_COST_GOALS sets how many chains are counted (default 1000); compare runs of the same size.
redis-cost: release
	scripts/redis-cost.sh "$$($(SWIFT) build -c release --show-bin-path)" $(REDIS_COST_GOALS)

reply-cost: deps
	scripts/reply-cost.sh

# goalctl's completion scripts, generated by swift-argument-parser from the build, installed where
# bash-completion, zsh and fish look under COMPLETIONS_PREFIX (default ~/.local/share, for this user;
# /usr/local/share for everyone: zsh finds site-functions there without changing fpath).
COMPLETIONS_PREFIX ?= $(HOME)/.local/share

completions: build
	install -d "$(COMPLETIONS_PREFIX)/bash-completion/completions" "$(COMPLETIONS_PREFIX)/zsh/site-functions" \
		"$(COMPLETIONS_PREFIX)/fish/vendor_completions.d"
	"$(BIN_DIR)/goalctl" --generate-completion-script bash > "$(COMPLETIONS_PREFIX)/bash-completion/completions/goalctl"
	"$(BIN_DIR)/goalctl" --generate-completion-script zsh > "$(COMPLETIONS_PREFIX)/zsh/site-functions/_goalctl"
	"$(BIN_DIR)/goalctl" --generate-completion-script fish > "$(COMPLETIONS_PREFIX)/fish/vendor_completions.d/goalctl.fish"
	@echo "goalctl completions installed under $(COMPLETIONS_PREFIX) (bash-completion, zsh/site-functions, fish)"

compose-check: deps
	$(DOCKER_COMPOSE) -f docker-compose.yml config -q

clean:
	rm -rf .build .run
