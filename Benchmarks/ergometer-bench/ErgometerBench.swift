import ArgumentParser
import ErgometerCore
import ErgometerDaemon
import ErgometerProbes
import ErgometerStore
import ErgometerWire
import Foundation

/// `ergometer-bench`: time and allocations per call of Ergometer's hot paths, each row also as
/// a ratio to one sysfs attribute read measured in the same run.
@main
struct ErgometerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ergometer-bench",
        abstract: "Time and allocations per call of the sampler tick, attribution, /metrics rendering and store queries."
    )

    @Option(help: "Fixture trees (Tests/Fixtures of the package).") var fixtures = "Tests/Fixtures"
    @Flag(help: "A few iterations each: checks that every benchmark runs (CI), times nothing worth reading.") var quick = false
    @Option(help: "Only the benchmarks whose name contains this.") var only: String?

    func run() async throws {
        let scale = quick ? 0.02 : 1.0
        func iterations(_ count: Int) -> Int { max(Int(Double(count) * scale), 3) }
        func wanted(_ name: String) -> Bool { only.map { name.contains($0) } ?? true }
        var rows: [Measurement] = []
        DescriptorLimit.raise()  // as ergod does: 1000 jobs keep 1000 cpu.stat files open

        let attribute = fixtures + "/intel-1s/proc/sys/kernel/random/boot_id"
        var sink = 0
        let baseline = Harness.measure("baseline: read one sysfs attribute", iterations: iterations(5000)) {
            sink &+= (try? SysfsFile.readLine(attribute).get())?.count ?? 0
        }
        rows.append(baseline)

        if wanted("cpu.stat") {
            // One job's counter as the tick reads it: a kept-open descriptor and pread.
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ergometer-bench-\(getpid())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try "usage_usec 123456789\nuser_usec 100000000\nsystem_usec 23456789\n".write(toFile: directory + "/cpu.stat", atomically: false, encoding: .utf8)
            let file = KeptOpenFile(path: directory + "/cpu.stat")
            let buffer = ReadBuffer(byteCount: 64 * 1024)
            rows.append(Harness.measure("read one job's cpu.stat (kept open, pread)", iterations: iterations(5000)) {
                sink &+= Int(truncatingIfNeeded: (try? CgroupV2.cpuUsageMicroseconds(file: file, buffer: buffer.bytes).get()) ?? 0)
            })
        }

        if wanted("/proc/stat") {
            // The tick's fixed part on a real box: /proc/stat opened for each read (as under a
            // fixture root) or kept open (the live /proc, `KernelFileSystem`).
            let procfs = ProcFS(root: "/proc")
            let buffer = ReadBuffer(byteCount: 64 * 1024)
            rows.append(Harness.measure("read /proc/stat (open, read, close)", iterations: iterations(5000)) {
                sink &+= (try? ProcStatReader.read(procfs: procfs, buffer: buffer.bytes).get())?.perCPU.count ?? 0
            })
            if let file = KernelFileSystem.keptOpenIfSafe(procfs.path("stat"), treeChangesInPlace: false) {
                rows.append(Harness.measure("read /proc/stat (kept open, pread)", iterations: iterations(5000)) {
                    sink &+= (try? ProcStatReader.read(file: file, buffer: buffer.bytes).get())?.perCPU.count ?? 0
                })
            }
        }

        if wanted("attribution") {
            let usage = (0..<100).map { _ in UInt64.random(in: 0...1_000_000) }
            rows.append(Harness.measure("attribution of one tick, 100 jobs", iterations: iterations(5000)) {
                let split = Attribution.split(
                    energyMicrojoules: 40_000_000, seconds: 1, jobCPUMicroseconds: usage, busyCPUMicroseconds: 60_000_000, idleWatts: 10,
                    policy: .proportional)
                sink &+= split.jobs.count
            })
        }
        var ticks: [String: Measurement] = [:]
        var discovery: Measurement?
        for jobs in [1, 100, 1000] where wanted("sampler tick, \(jobs) job(s)") {
            let fixture = try await SamplerFixture(fixtures: fixtures, jobs: jobs)
            let row = await Harness.measure("sampler tick, \(jobs) job(s)", iterations: iterations(jobs >= 1000 ? 200 : 1000), setup: fixture.advance) {
                await fixture.sampler.tick()
            }
            ticks[row.name] = row
            rows.append(row)
        }
        // The 100-job tick on other meters and jobs, each against the same plain tick.
        let variants: [(key: String, name: String, fixture: () async throws -> SamplerFixture)] = [
            ("metered", "sampler tick, 100 job(s), RAPL + hwmon meters (GPU gauge, 2 GPU counters, platform meter, rest)",
             { try await SamplerFixture(fixtures: fixtures, jobs: 100, tree: "gpu-box") }),
            ("nvidia", "sampler tick, 100 job(s), 8 NVIDIA GPUs (fake NVML: energy, utilization, processes, SM samples)",
             { try await SamplerFixture(fixtures: fixtures, jobs: 100, nvidiaGPUs: 8) }),
            ("nvidia-4", "sampler tick, 100 job(s), 4 NVIDIA GPUs",
             { try await SamplerFixture(fixtures: fixtures, jobs: 100, nvidiaGPUs: 4) }),
            ("everything", "sampler tick, 100 job(s), 8 NVIDIA GPUs and the hwmon meters",
             { try await SamplerFixture(fixtures: fixtures, jobs: 100, tree: "gpu-box", nvidiaGPUs: 8) }),
            ("discovered", "sampler tick, 100 discovered Slurm job(s) (50 on cgroup v2, 50 on v1 cpuacct)",
             { try await SamplerFixture(fixtures: fixtures, jobs: 100, discovered: true) }),
        ]
        for variant in variants where wanted(variant.name) {
            let fixture = try await variant.fixture()
            let row = await Harness.measure(variant.name, iterations: iterations(1000), setup: fixture.advance) {
                await fixture.sampler.tick()
            }
            ticks[variant.key] = row
            rows.append(row)
        }
        if wanted("discovery scan") {
            let tree = try DiscoveryTreeFixture(containers: 1000)
            let row = Harness.measure("discovery scan, \(tree.count) container cgroups in system.slice", iterations: iterations(300)) {
                sink &+= tree.scan.scan().found.count
            }
            discovery = row
            rows.append(row)
        }
        if wanted("checkpoint") {
            // What a checkpoint writes at the defaults (every 5 s, 1 s ticks): 100 jobs' totals
            // and 5 ticks of their samples, in one transaction.
            let fixture = try await SamplerFixture(fixtures: fixtures, jobs: 100)
            rows.append(await Harness.measure("checkpoint: 100 jobs, 5 ticks of samples", iterations: iterations(200), setup: {
                for _ in 0..<5 {
                    fixture.advance()
                    await fixture.sampler.tick()
                }
            }) {
                await fixture.sampler.checkpoint()
            })
        }
        if wanted("metrics") {
            let fixture = try await SamplerFixture(fixtures: fixtures, jobs: 1000)
            await fixture.sampler.tick()
            rows.append(await Harness.measure("publish /metrics from the sampler, 1000 jobs", iterations: iterations(300)) {
                await fixture.sampler.publishMetricsNow()
            })
            rows.append(Harness.measure("serve /metrics from the board (a scrape's share)", iterations: iterations(20_000)) {
                sink &+= fixture.sampler.board.latest()?.readableBytes ?? 0
            })
            var snapshot = MetricsSnapshot(version: "bench")
            snapshot.jobs = (0..<1000).map {
                .init(id: "box-\($0)", name: "job \($0)", user: "user\($0 % 10)", microjoules: UInt64($0) * 1_000_000, watts: 12.5, cpuMicroseconds: 42, co2Grams: 0.5)
            }
            rows.append(Harness.measure("render /metrics text, 1000 jobs", iterations: iterations(300)) {
                sink &+= MetricsExposition.render(snapshot).count
            })
        }
        if wanted("store") {
            let store = try StoreFixture(jobs: quick ? 200 : 10_000)
            rows.append(Harness.measure("ergo report (store → report), \(store.count) jobs stored", iterations: iterations(2000)) {
                if let (job, totals) = try? store.store.job(id: String(Int.random(in: 1...store.count))) {
                    sink &+= JobReportBuilder.report(job: job, totals: totals, now: 0).command.count
                }
            })
            rows.append(Harness.measure("ergo jobs --all (newest 1000 of \(store.count))", iterations: iterations(50)) {
                sink &+= ((try? store.store.jobs(includeEnded: true)) ?? []).map { JobReportBuilder.summary(job: $0.0, totals: $0.1) }.count
            })
        }

        print("ergometer-bench: \(quick ? "quick check, figures not meaningful" : "per call"); baseline = one sysfs attribute read")
        var table = [["OPERATION", "MEDIAN (µs)", "P99 (µs)", "× BASELINE", "ALLOCS/CALL", "KB/CALL"]]
        for row in rows {
            table.append([
                row.name, fixed(row.medianMicroseconds, 2), fixed(row.p99Microseconds, 2), fixed(row.medianMicroseconds / baseline.medianMicroseconds, 1),
                fixed(row.allocationsPerCall, 1), fixed(row.bytesPerCall / 1024, 1),
            ])
        }
        let widths = (0..<table[0].count).map { column in table.map { $0[column].count }.max() ?? 0 }
        for row in table {
            print("  " + row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
        if let plain = ticks["sampler tick, 100 job(s)"], let metered = ticks["metered"] {
            print("  the 100-job tick with the hwmon meters: \(fixed(metered.medianMicroseconds / plain.medianMicroseconds, 2)) × the RAPL-only tick (goal ≤ 1.2 ×)")
        }
        if let plain = ticks["sampler tick, 100 job(s)"], let nvidia = ticks["nvidia"] {
            let perGPU = (nvidia.medianMicroseconds - plain.medianMicroseconds) / 8
            print("  the 100-job tick with 8 NVIDIA GPUs: \(fixed(nvidia.medianMicroseconds / plain.medianMicroseconds, 2)) × the RAPL-only tick; \(fixed(perGPU, 2)) µs = \(fixed(perGPU / baseline.medianMicroseconds, 1)) × baseline per GPU")
        }
        if let plain = ticks["sampler tick, 100 job(s)"], let found = ticks["discovered"] {
            print("  the 100-job tick with discovered Slurm jobs (v2 and v1): \(fixed(found.medianMicroseconds / plain.medianMicroseconds, 2)) × the registered jobs' tick")
        }
        BenchGoal.print(goals(ticks: ticks, discovery: discovery))
        if sink == Int.min { print(sink) }
    }

    func fixed(_ value: Double, _ digits: Int) -> String { FixedDecimal.string(value, digits) }

    /// The issue's tick and discovery goals, from this run's rows (those that ran).
    func goals(ticks: [String: Measurement], discovery: Measurement?) -> [BenchGoal] {
        var goals: [BenchGoal] = []
        let one = ticks["sampler tick, 1 job(s)"]
        let hundred = ticks["sampler tick, 100 job(s)"]
        if let hundred { goals.append(BenchGoal(name: "tick, 100 jobs", measured: hundred.medianMicroseconds, bound: 100, unit: "µs")) }
        if let everything = ticks["everything"] {
            goals.append(BenchGoal(name: "tick, 100 jobs, 8 GPUs and the hwmon meters", measured: everything.medianMicroseconds, bound: 250, unit: "µs"))
        }
        // Linear: a job costs the same at 1,000 jobs as at 100 (within 1.5×), a GPU the same at 8 as at 4.
        if let one, let hundred, let thousand = ticks["sampler tick, 1000 job(s)"] {
            let small = (hundred.medianMicroseconds - one.medianMicroseconds) / 99
            let large = (thousand.medianMicroseconds - one.medianMicroseconds) / 999
            goals.append(BenchGoal(name: "tick's cost per job at 1,000 jobs over at 100 (linear)", measured: large / small, bound: 1.5, unit: "×"))
        }
        if let hundred, let four = ticks["nvidia-4"], let eight = ticks["nvidia"] {
            let perGPU4 = (four.medianMicroseconds - hundred.medianMicroseconds) / 4
            let perGPU8 = (eight.medianMicroseconds - hundred.medianMicroseconds) / 8
            goals.append(BenchGoal(name: "tick's cost per GPU at 8 GPUs over at 4 (linear)", measured: perGPU8 / max(perGPU4, 0.01), bound: 1.5, unit: "×"))
        }
        if let discovery {
            goals.append(BenchGoal(name: "discovery scan of 1,000 cgroups", measured: discovery.medianMicroseconds / 1000, bound: 5, unit: "ms"))
        }
        return goals
    }
}
