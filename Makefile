# Ergometer. `make demo` shows what this machine exposes; `make test` runs every test.
# Both install the Debian packages they need first (scripts/install-deps).

SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
CONFIGURATION ?= debug
BIN = .build/$(CONFIGURATION)
DEMO_TREE = $(shell mktemp -d /tmp/ergometer-demo-XXXXXX)

.PHONY: all deps build test demo demo-run bench soak fuzz clean install install-files

# Where `make install` puts things: binaries in $(PREFIX)/bin, the unit in $(UNITDIR), the
# configuration in $(SYSCONFDIR)/ergometer (kept if one is there), all under $(DESTDIR).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/ergometer
INSTALL_FROM ?= .build/release

all: build

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build -c $(CONFIGURATION)

# Builds everything (tests included), fails on a warning in our own sources, runs the suite,
# then the discovery suites alone.
test: deps
	$(SWIFT) build --build-tests 2>&1 | tee .build-log.txt
	@! grep -E '^/.*/(Sources|Tests)/.*: warning:' .build-log.txt || (echo "warnings in our sources (above)"; exit 1)
	$(SWIFT) test --skip-build
	@# The discovery suites make schedulers' cgroups (and run a real Slurm) where every sampler
	@# would find them: a pass of their own each, after the rest.
	ERGOMETER_DISCOVERY_TESTS=1 $(SWIFT) test --skip-build --filter 'ErgometerDaemonTests\.DiscoveryTests'
	ERGOMETER_DISCOVERY_TESTS=1 $(SWIFT) test --skip-build --filter 'ergoTests\.SlurmDiscoveryTests'

# The whole story on this machine: what it exposes (RAPL, else the power model; then a fixture
# tree standing in for RAPL hardware), then the bundled training workload measured twice (A: one
# thread, the plain kernel; B: two threads, the tiled SIMD kernel), both reports, and
# `ergo compare A B`: how much of the growth in compute came from better hardware (here: a better
# kernel), more processors, and running longer; then diminishing returns (scripts/demo-scaling):
# four model sizes and `ergo project` on them. Without ergod, `ergo run` samples in-process.
# DEMO_SAMPLES and the epochs shrink it for CI.
DEMO_SAMPLES ?= 8192
DEMO_EPOCHS_A ?= 2
DEMO_EPOCHS_B ?= 8
DEMO_COMPARE_FLAGS ?=
DEMO_PROJECT_FLAGS ?=
# Where the demo draws its pictures (ergo report/compare/project --svg).
DEMO_PICTURES ?= demo-pictures
demo: build
	@$(MAKE) --no-print-directory demo-run

demo-run:
	@echo "== ergo probe --interval 1 on this machine"
	$(BIN)/ergo probe --interval 1 || true
	@tree=$(DEMO_TREE); cp -a Tests/Fixtures/intel-1s/. $$tree/; \
	  scripts/advance-fixture-counters $$tree 20 50 3 & \
	  sleep 0.3; \
	  echo "== ergo probe --interval 1 on the intel-1s fixture (package, core, uncore, dram, psys, MMIO; each counter advancing at 20 W, CPUs 50% busy)"; \
	  $(BIN)/ergo probe --interval 1 --sysfs-root $$tree/sys --procfs-root $$tree/proc; \
	  wait; rm -rf $$tree
	@state=$$(mktemp -d /tmp/ergometer-demo-state-XXXXXX); \
	  export ERGOMETER_SOCKET=$$state/no-ergod.sock; \
	  echo "== A: ergo run -- ergo-train --kernel naive --threads 1 --epochs $(DEMO_EPOCHS_A)"; \
	  $(BIN)/ergo run --state-dir $$state --name "A naive kernel, 1 thread" -- \
	    $(BIN)/ergo-train --kernel naive --threads 1 --epochs $(DEMO_EPOCHS_A) --samples $(DEMO_SAMPLES) && \
	  echo "== B: ergo run -- ergo-train --kernel tiled --threads 2 --epochs $(DEMO_EPOCHS_B)" && \
	  $(BIN)/ergo run --state-dir $$state --name "B tiled kernel, 2 threads" -- \
	    $(BIN)/ergo-train --kernel tiled --threads 2 --epochs $(DEMO_EPOCHS_B) --samples $(DEMO_SAMPLES) && \
	  mkdir -p $(DEMO_PICTURES) && \
	  echo "== ergo compare 1 2 --svg $(DEMO_PICTURES)/compare.svg" && \
	  $(BIN)/ergo compare 1 2 --state-dir $$state --svg $(DEMO_PICTURES)/compare.svg $(DEMO_COMPARE_FLAGS) && \
	  scripts/demo-scaling $(BIN) $$state "$(DEMO_PROJECT_FLAGS)" $(DEMO_PICTURES) && \
	  echo "== pictures: $(DEMO_PICTURES)/report.svg (the largest sweep job's power), $(DEMO_PICTURES)/compare.svg (A to B), $(DEMO_PICTURES)/project.svg (the scaling law); open them in a browser"; \
	  status=$$?; rm -rf $$state; exit $$status

# The soak (release build): 90 simulated days of a busy node at a 1 s tick (1,000 jobs a day of
# 1 to 60 minutes, ten week-long jobs, ergod restarted every 10 days) against the real sampler
# and store; prints each day's store size, rows, memory and query times, then every bound,
# "held" or "broke". SOAK_DAYS shortens it. The allocator's setting is the one
# systemd/ergod.service gives ergod.
SOAK_DAYS ?= 90
soak: deps
	$(SWIFT) build -c release --product ergometer-soak
	GLIBC_TUNABLES=glibc.malloc.tcache_count=2 .build/release/ergometer-soak --fixtures Tests/Fixtures --days $(SOAK_DAYS)

# Benchmarks (release build): the hot paths, time and allocations per call (ergometer-bench),
# the probe's reads (ergo bench), the kernels of the training workload, and ergod side by side
# with node_exporter. BENCH_IDLE shortens the idle window (seconds).
BENCH_IDLE ?= 60
bench: deps
	$(SWIFT) build -c release
	.build/release/ergometer-bench
	.build/release/ergo bench
	.build/release/ergo-train --benchmark --threads 2
	scripts/bench-vs-node-exporter .build/release 200 10 $(BENCH_IDLE)

# Fuzzing (release build): every parser a stranger can reach, FUZZ_SECONDS per target with a
# fresh seed each run (printed; rerun with FUZZ_SEED=N). Crashing or contract-breaking inputs
# land in fuzz-findings/; copy them to Tests/Fixtures/fuzz-regressions/<target>/ once fixed.
FUZZ_SECONDS ?= 60
FUZZ_SEED ?= $(shell date +%s)
fuzz: deps
	$(SWIFT) build -c release --product ergometer-fuzz
	@echo "seed $(FUZZ_SEED)"
	.build/release/ergometer-fuzz --iterations 100000000 --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED) --output fuzz-findings
	.build/release/ergometer-fuzz --replay Tests/Fixtures/fuzz-regressions --output fuzz-findings

# Release build with the Swift runtime linked in (the box needs no Swift toolchain, and ergod's
# resident memory is ~5 MB smaller), then the files. `make install-files INSTALL_FROM=DIR` skips
# the build.
install: deps
	$(SWIFT) build -c release --static-swift-stdlib --build-path .build/static
	$(MAKE) install-files INSTALL_FROM=.build/static/release

install-files:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/ergometer $(DESTDIR)$(DOCDIR)
	install -m 0755 $(INSTALL_FROM)/ergod $(INSTALL_FROM)/ergo $(DESTDIR)$(PREFIX)/bin/
	sed -e 's#/usr/local/bin/#$(PREFIX)/bin/#g' -e 's#/usr/local/share/doc/#$(PREFIX)/share/doc/#g' \
	  -e 's#/etc/ergometer/#$(SYSCONFDIR)/ergometer/#g' systemd/ergod.service > $(DESTDIR)$(UNITDIR)/ergod.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/ergod.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/ergometer/ergometer.toml ]; then \
	  echo "kept $(DESTDIR)$(SYSCONFDIR)/ergometer/ergometer.toml; the shipped one is ergometer.toml.dist"; \
	  install -m 0644 Config/ergometer.toml $(DESTDIR)$(SYSCONFDIR)/ergometer/ergometer.toml.dist; \
	else install -m 0644 Config/ergometer.toml $(DESTDIR)$(SYSCONFDIR)/ergometer/ergometer.toml; fi
	install -m 0644 README.md Config/prometheus.yml Config/prometheus-rules.yml Config/grafana-dashboard.json $(DESTDIR)$(DOCDIR)/
	@echo "installed; then: systemctl daemon-reload && systemctl enable --now ergod"

clean:
	rm -rf .build .build-log.txt
