import ErgometerCharts
import ErgometerCore
import ErgometerDaemon
import ErgometerStore
import ErgometerTestSupport
import ErgometerWire
import Foundation
import Logging
import Testing

/// The whole box through the sampler: the gpu-box tree with RAPL (package 40 W, DRAM 5 W), an
/// i915 counter (30 W), an amdgpu gauge (100 W) and an ACPI power meter gauge (600 W), two busy
/// jobs on real cgroups, one of which holds a DRM client on the amdgpu with advancing engine
/// time, in simulated time. What the meters drew is known independently of the sampler: per
/// domain, measured must equal it (exactly for counters; for gauges, their watts over the
/// simulated window), the buckets must add up to measured, the GPU's energy
/// must go to the job using it, the CPU domains follow CPU time and `rest` the components.
extension LoadSensitiveSuites {
@Suite(.serialized)
struct MeteredBoxTests {
    static let caller = ControlCaller(uid: Int(getuid()), gid: Int(getgid()), pid: getpid(), user: "test", isAdmin: true)

    /// A procfs root for the sampler: the real /proc for everything (symlinks), except the GPU
    /// job's process, whose descriptors are a DRM render node with an fdinfo the test advances.
    static func procfs(at root: String, gpuProcess pid: Int32) throws -> (root: String, fdinfo: String) {
        let manager = FileManager.default
        try manager.createDirectory(atPath: root, withIntermediateDirectories: true)
        for entry in try manager.contentsOfDirectory(atPath: "/proc") where entry != String(pid) {
            try manager.createSymbolicLink(atPath: root + "/" + entry, withDestinationPath: "/proc/" + entry)
        }
        let process = root + "/\(pid)"
        try manager.createDirectory(atPath: process + "/fd", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: process + "/fdinfo", withIntermediateDirectories: true)
        for entry in ["status", "cgroup", "stat", "cmdline"] {
            try manager.createSymbolicLink(atPath: process + "/" + entry, withDestinationPath: "/proc/\(pid)/" + entry)
        }
        try manager.createSymbolicLink(atPath: process + "/fd/0", withDestinationPath: "/dev/null")
        try manager.createSymbolicLink(atPath: process + "/fd/7", withDestinationPath: "/dev/dri/renderD128")
        try "pos:\t0\nflags:\t02\n".write(toFile: process + "/fdinfo/0", atomically: true, encoding: .utf8)
        SimulatedMeters.writeEngine(nanoseconds: 0, to: process + "/fdinfo/7")
        return (root, process + "/fdinfo/7")
    }

    static func busyLoop() throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "while :; do :; done"]
        try process.run()
        return process
    }

    @Test(.enabled(if: getuid() == 0, "needs root to make job cgroups"))
    func everyDomainIsMeasuredAndAttributed() async throws {
        let root = try Fixtures.scratchCopy(of: "gpu-box")
        let gpuJob = try Self.busyLoop()
        let cpuJob = try Self.busyLoop()
        defer {
            for process in [gpuJob, cpuJob] where process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            try? FileManager.default.removeItem(atPath: root)
        }
        let (procfs, fdinfo) = try Self.procfs(at: root + "/live-proc", gpuProcess: gpuJob.processIdentifier)
        let sys = root + "/sys"
        let gpu = sys + "/devices/pci0000:00/0000:00:01.1/0000:03:00.0/hwmon/hwmon0/power1_average"
        let meter = sys + "/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI000D:00/hwmon/hwmon3/power1_average"
        SimulatedMeters.writeInPlace(100_000_000, to: gpu)
        SimulatedMeters.writeInPlace(600_000_000, to: meter)
        let simulated = SimulatedMeters(
            counters: [
                .init(path: sys + "/class/powercap/intel-rapl:0/energy_uj", watts: 40),
                .init(path: sys + "/class/powercap/intel-rapl:0:0/energy_uj", watts: 5),
                .init(path: sys + "/devices/pci0000:00/0000:00:01.2/0000:04:00.0/hwmon/hwmon1/energy1_input", watts: 30),
            ], engineFile: fdinfo)

        var configuration = DaemonConfiguration()
        configuration.sysfsRoot = sys
        configuration.procfsRoot = procfs
        configuration.stateDirectory = root + "/state"
        configuration.cgroupSubtree = "ergometer-test-\(UUID().uuidString.prefix(8))"
        configuration.checkpointSeconds = 600
        configuration.idleWatts = 0  // CPU energy by CPU share alone
        try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true)
        // Simulated time: the meters move by exactly the clock's steps, so what each domain drew
        // over the sampler's window is known exactly; the jobs' CPU time is real (each step
        // waits as long as it simulates), and only it can vary between runs.
        let clock = SimulatedClock(wall: Date().timeIntervalSince1970)
        let sampler = try Sampler(
            configuration: configuration, store: try JobStore(directory: configuration.stateDirectory), logger: Logger(label: "metered-box"),
            clock: clock.samplerClock)
        var jobs: [String] = []
        for (name, process) in [("gpu", gpuJob), ("cpu", cpuJob)] {
            let response = try await sampler.register(
                RegisterJobRequest(name: name, jobID: nil, labels: [:], command: ["sh"], pid: process.processIdentifier, processors: nil),
                caller: Self.caller)
            jobs.append(response.id)
        }
        let step = 0.1
        var steps = 0
        func run(steps count: Int) async {
            for _ in 0..<count {
                usleep(UInt32(step * 1e6))
                clock.advance(seconds: step)
                simulated.advance(seconds: step)
                await sampler.tick()
                steps += 1
            }
        }
        // A first DRM window (a second), then a steady stretch whose shares the test compares.
        await run(steps: 15)
        let steadyFrom = try await jobs.asyncMap { try await sampler.report(id: $0) }
        await run(steps: 30)
        let window = Double(steps) * step

        let ledger = await sampler.ledger(for: Self.caller)
        // `ergo top`'s live view: the box now is the platform meter's 600 W (rest completes the
        // components to it), each domain with its source, both jobs there.
        let live = await sampler.live(for: Self.caller)
        let platform = try #require(live.domains.first { $0.name == "platform" })
        #expect(abs(platform.watts - 600) < 0.01 && platform.source == "hwmon-power", "\(platform)")
        #expect(abs(live.hostWatts - platform.watts) < 0.01, "components and rest \(live.hostWatts) W against the platform meter's \(platform.watts) W")
        #expect(live.domains.first { $0.name == "rest" }.map { $0.watts > 0 } == true)
        #expect(Set(live.jobs.map(\.name)) == ["gpu", "cpu"])
        let domains = Dictionary(uniqueKeysWithValues: ledger.domains.map { ($0.domain, $0) })
        #expect(ledger.domains.map(\.domain) == ["cpu-package", "dram", "gpu-0000:03:00.0", "gpu-0000:04:00.0", "gpu-0000:05:00.0", "platform", "rest"])
        #expect(ledger.domains.map(\.source) == ["rapl", "rapl", "hwmon-power", "hwmon-energy", "hwmon-energy", "hwmon-power", "hwmon-power"])
        let drawn = simulated.drawnMicrojoules
        // Counters: exactly what was drawn.
        #expect(domains["cpu-package"]?.measuredMicrojoules == drawn[0])
        #expect(domains["dram"]?.measuredMicrojoules == drawn[1])
        #expect(domains["gpu-0000:04:00.0"]?.measuredMicrojoules == drawn[2])
        #expect(domains["gpu-0000:05:00.0"]?.measuredMicrojoules == 0, "the xe card drew nothing")
        // Gauges: a constant power over the sampler's window, integrated tick by tick (each
        // tick rounds down to the µJ).
        for (name, watts) in [("gpu-0000:03:00.0", 100.0), ("platform", 600.0)] {
            let microjoules = Double(domains[name]?.measuredMicrojoules ?? 0)
            #expect(abs(microjoules - watts * window * 1e6) <= Double(steps), "\(name): \(microjoules) µJ, drawn \(watts * window) J")
        }
        // rest = platform − components, and the box's energy is the platform meter's.
        let components = ["cpu-package", "dram", "gpu-0000:03:00.0", "gpu-0000:04:00.0", "gpu-0000:05:00.0"].reduce(UInt64(0)) {
            $0 + (domains[$1]?.measuredMicrojoules ?? 0)
        }
        // The components (175 W) never draw more than the platform's 600 W here: rest is never clamped.
        let beyond = domains["rest"]?.componentsBeyondPlatformMicrojoules ?? 0
        #expect(beyond == 0, "the components never exceed the platform meter here: \(beyond) µJ")
        #expect(domains["rest"]?.measuredMicrojoules == (domains["platform"]?.measuredMicrojoules ?? 0) - components + beyond)
        #expect(ledger.measuredMicrojoules == (domains["platform"]?.measuredMicrojoules ?? 0) + beyond)
        #expect(domains["platform"]?.buckets == nil, "the platform is measured, not attributed")
        // Buckets add up to measured, per domain and in all: two figures kept apart.
        for domain in ledger.domains {
            guard let buckets = domain.buckets else { continue }
            let sum = buckets.jobsMicrojoules.values.reduce(buckets.systemMicrojoules + buckets.idleMicrojoules, +)
            #expect(sum == domain.measuredMicrojoules, "\(domain.domain)")
        }
        let total = ledger.buckets.jobsMicrojoules.values.reduce(ledger.buckets.systemMicrojoules + ledger.buckets.idleMicrojoules, +)
        #expect(total == ledger.measuredMicrojoules)

        // The GPU's energy goes to the job using it: all of it once its first DRM window (a
        // second) is past; nothing to the job that never opened the GPU.
        let amdgpu = try #require(domains["gpu-0000:03:00.0"]?.buckets)
        let gpuShare = Double(amdgpu.jobsMicrojoules[jobs[0]] ?? 0) / Double(domains["gpu-0000:03:00.0"]!.measuredMicrojoules)
        #expect(gpuShare > 0.6, "the GPU job's share of the amdgpu over the whole run: \(gpuShare)")
        #expect((amdgpu.jobsMicrojoules[jobs[1]] ?? 0) == 0, "the CPU job never touched the GPU")
        let reports = try await jobs.asyncMap { try await sampler.report(id: $0) }
        func energy(_ report: JobReport, _ domain: String) -> Double {
            report.domains.filter { $0.domain == domain }.reduce(0) { $0 + $1.joules }
        }
        let steadyGPU = energy(reports[0], "gpu-0000:03:00.0") - energy(steadyFrom[0], "gpu-0000:03:00.0")
        #expect(abs(steadyGPU / 100 / 3 - 1) < 1e-6, "the steady stretch's 3 s of the 100 W GPU went to its job: \(steadyGPU) J")

        // Over the steady stretch, the CPU domains follow CPU time, and rest each job's share of
        // the components.
        func steady(_ job: Int, _ domain: String) -> Double { energy(reports[job], domain) - energy(steadyFrom[job], domain) }
        let cpuRatio = (reports[0].cpuSeconds - steadyFrom[0].cpuSeconds) / (reports[1].cpuSeconds - steadyFrom[1].cpuSeconds)
        let packageRatio = steady(0, "cpu-package") / steady(1, "cpu-package")
        #expect(abs(packageRatio / cpuRatio - 1) < 0.05, "package energy ratio \(packageRatio), CPU time ratio \(cpuRatio)")
        let steadyComponents = (0..<2).map { job in
            (reports[job].energyJoules - steadyFrom[job].energyJoules) - steady(job, "rest")
        }
        // Every tick's rest is the same multiple of its components (425 W over 175 W), so the
        // jobs' rest keeps their components' ratio up to the µJ rounding of each tick's split.
        let restRatio = steady(0, "rest") / steady(1, "rest")
        #expect(abs(restRatio / (steadyComponents[0] / steadyComponents[1]) - 1) < 0.001, "rest \(restRatio), components \(steadyComponents)")
        #expect(reports[0].energyByDomain.gpuJoules > 0 && reports[0].energyByDomain.restJoules > 0)
        #expect(reports[0].domains.allSatisfy { $0.joules > 0 })
        for report in reports {
            #expect(abs(report.domains.reduce(0) { $0 + $1.joules } - report.energyJoules) < 1e-6, "the domains sum to the job's energy")
        }

        for process in [gpuJob, cpuJob] {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        var finals: [JobReport] = []
        for id in jobs { finals.append(try await sampler.end(id: id, exitStatus: 0, caller: Self.caller)) }
        // The stored series per domain and source against the job's totals per domain: two
        // accumulations of each tick's split, kept apart; then drawn (`ergo report --svg`).
        for (index, id) in jobs.enumerated() {
            let series = try await sampler.series(id: id, for: Self.caller)
            #expect(series.samples.count >= steps - 1 && series.samples.count <= steps, "\(series.samples.count) samples over \(steps) ticks")
            #expect(Set(series.series.map { $0.domain + " " + $0.source }) == Set(finals[index].domains.map { $0.domain + " " + $0.source }))
            for (position, entry) in series.series.enumerated() {
                let summed = Double(series.samples.reduce(Int64(0)) { $0 + $1.seriesMicrojoules[position] }) / 1e6
                let total = finals[index].domains.filter { $0.domain == entry.domain && $0.source == entry.source }.reduce(0) { $0 + $1.joules }
                #expect(abs(summed - total) < 1e-6, "job \(id) \(entry.domain): series \(summed) J, totals \(total) J")
            }
        }
        let gpuSeries = try await sampler.series(id: jobs[0], for: Self.caller)
        #expect(gpuSeries.series.map(\.domain).contains("gpu-0000:03:00.0") && gpuSeries.series.map(\.domain).contains("rest"))
        try LoadSensitiveSuites.ChartTests.check(PowerChart.svg(series: gpuSeries, summary: PowerChart.Summary(finals[0])), named: "chart-report-gpu-box", snapshot: false)
        if let mount = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
            .split(separator: "\n").first(where: { $0.contains(" - cgroup2 ") })?.split(separator: " ")[4]
        {
            rmdir("\(mount)/\(configuration.cgroupSubtree)")
        }
    }
}

}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
