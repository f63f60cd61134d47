# Ergometer. `make demo` shows what this machine exposes; `make test` runs every test.
# Both install the Debian packages they need first (scripts/install-deps).

SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
CONFIGURATION ?= debug
BIN = .build/$(CONFIGURATION)
DEMO_TREE = $(shell mktemp -d /tmp/ergometer-demo-XXXXXX)

.PHONY: all deps build test demo clean

all: build

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build -c $(CONFIGURATION)

# Builds everything (tests included), fails on a warning in our own sources, runs the suite.
test: deps
	$(SWIFT) build --build-tests 2>&1 | tee .build-log.txt
	@! grep -E '^/.*/(Sources|Tests)/.*: warning:' .build-log.txt || (echo "warnings in our sources (above)"; exit 1)
	$(SWIFT) test --skip-build

# This machine (RAPL if it has it, else the model), then a bundled fixture tree whose counters
# advance at 20 W per zone and 50% CPU, standing in for RAPL hardware.
demo: build
	@echo "== ergo probe --interval 1 on this machine"
	$(BIN)/ergo probe --interval 1 || true
	@tree=$(DEMO_TREE); cp -a Tests/Fixtures/intel-1s/. $$tree/; \
	  scripts/advance-fixture-counters $$tree 20 50 3 & \
	  sleep 0.3; \
	  echo "== ergo probe --interval 1 on the intel-1s fixture (package, core, uncore, dram, psys, MMIO; each counter advancing at 20 W, CPUs 50% busy)"; \
	  $(BIN)/ergo probe --interval 1 --sysfs-root $$tree/sys --procfs-root $$tree/proc; \
	  wait; rm -rf $$tree
	@echo "== ergo run: a shell loop measured as a job (no ergod here, so sampled in-process)"
	@state=$$(mktemp -d /tmp/ergometer-demo-state-XXXXXX); \
	  ERGOMETER_SOCKET=$$state/none.sock $(BIN)/ergo run --state-dir $$state --name demo-loop -- \
	    sh -c 'i=0; while [ $$i -lt 400000 ]; do i=$$((i+1)); done'; \
	  rm -rf $$state

clean:
	rm -rf .build .build-log.txt
