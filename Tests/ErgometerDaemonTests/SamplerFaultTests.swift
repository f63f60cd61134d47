import ErgometerDaemon
import ErgometerStore
import ErgometerTestSupport
import ErgometerWire
import Foundation
import Logging
import Synchronization
import Testing

/// Faults the machine can hand the sampler mid-run, each driven tick by tick on a copied
/// fixture tree: a RAPL zone that disappears and returns, a counter reset, the wall clock
/// stepping both ways, the store deleted from under it, a job's cgroup removed by someone else.
/// In each, every tick still has one energy figure, marked with where it came from, and the
/// buckets still add up to what was measured.
@Suite(.serialized)
struct SamplerFaultTests {
    /// A sampler on a scratch copy of intel-1s (real /proc and cgroups, a job cgroup subtree of
    /// its own) measuring a busy shell loop as a job.
    final class Bench {
        let root: String
        let log = RecordedLog()
        let sampler: Sampler
        let busy = Process()
        var job: RegisterJobResponse!
        let subtree = "ergometer-test-\(UUID().uuidString.prefix(8))"
        var package: String { root + "/sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj" }
        var dram: String { root + "/sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/intel-rapl:0:2/energy_uj" }
        let state: String
        let configuration: DaemonConfiguration
        static let caller = ControlCaller(uid: Int(getuid()), gid: Int(getgid()), pid: getpid(), user: "test", isAdmin: true)

        init(fixture: String = "intel-1s") async throws {
            root = try Fixtures.scratchCopy(of: fixture)
            state = root + "/state"
            var configuration = DaemonConfiguration()
            configuration.sysfsRoot = root + "/sys"
            configuration.stateDirectory = state
            configuration.cgroupSubtree = subtree
            configuration.checkpointSeconds = 600  // checkpoints only when a test asks
            configuration.idleWatts = 0  // every joule of a tick goes by CPU share
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            self.configuration = configuration
            sampler = try Self.sampler(configuration, log: log)
            await sampler.restore()  // as ergod does at start
            busy.executableURL = URL(fileURLWithPath: "/bin/sh")
            busy.arguments = ["-c", "while :; do :; done"]
            busy.standardOutput = FileHandle.nullDevice
            try busy.run()
            job = try await sampler.register(
                RegisterJobRequest(name: "busy", jobID: nil, labels: [:], command: ["sh"], pid: busy.processIdentifier, processors: nil),
                caller: Self.caller)
        }

        /// A sampler on the bench's tree and store (a restarted ergod is a second one).
        static func sampler(_ configuration: DaemonConfiguration, log: RecordedLog) throws -> Sampler {
            let logger = Logger(label: "fault-test") { _ in RecordedLog.Handler(log: log) }
            return try Sampler(configuration: configuration, store: try JobStore(directory: configuration.stateDirectory), logger: logger)
        }

        func counter(_ path: String) throws -> UInt64 {
            UInt64(try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        }

        func write(_ value: UInt64, to path: String) throws {
            try "\(value)\n".write(toFile: path, atomically: true, encoding: .utf8)
        }

        /// Both counters up by `joules` each, then a tick 50 ms later.
        func tick(drawing joules: Double = 2) async throws {
            for path in [package, dram] where FileManager.default.fileExists(atPath: path) && !isDirectory(path) {
                try write(try counter(path) + UInt64(joules * 1e6), to: path)
            }
            usleep(50_000)
            await sampler.tick()
        }

        func isDirectory(_ path: String) -> Bool {
            var directory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
        }

        func ledgerAddsUp() async -> Bool {
            let ledger = await sampler.ledger(for: Self.caller)
            let buckets = ledger.buckets.jobsMicrojoules.values.reduce(ledger.buckets.systemMicrojoules + ledger.buckets.idleMicrojoules, +)
            return buckets == ledger.measuredMicrojoules && ledger.measuredMicrojoules > 0
        }

        deinit {
            if busy.isRunning {
                kill(busy.processIdentifier, SIGKILL)
                busy.waitUntilExit()
            }
            if let cgroups = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
                .split(separator: "\n").first(where: { $0.contains(" - cgroup2 ") })?.split(separator: " ")[4] {
                rmdir("\(cgroups)/\(subtree)/job-\(job?.id ?? "")")
                rmdir("\(cgroups)/\(subtree)")
            }
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    @Test func aZoneThatDisappearsIsEstimatedForTheGapAndMarked() async throws {
        let bench = try await Bench()
        try await bench.tick()
        try await bench.tick()
        let before = try await bench.sampler.report(id: bench.job.id)
        #expect(before.source == "rapl")
        // The package zone's counter becomes unreadable even for root (a directory where the
        // file was), as when a driver is unloaded.
        let saved = try bench.counter(bench.package)
        try FileManager.default.removeItem(atPath: bench.package)
        try FileManager.default.createDirectory(atPath: bench.package, withIntermediateDirectories: false)
        try await bench.tick()
        try await bench.tick()
        #expect(bench.log.contains("RAPL unusable, this tick is estimated by the model"))
        #expect(bench.log.contains("could not be read"))
        let gap = try await bench.sampler.report(id: bench.job.id)
        #expect(gap.source == "mixed", "measured, then estimated: \(gap.source)")
        #expect(gap.energyJoules > before.energyJoules, "the gap was estimated, not skipped")
        // It comes back: the first tick has no earlier reading (model), then it is measured again.
        try FileManager.default.removeItem(atPath: bench.package)
        try bench.write(saved + 50_000_000, to: bench.package)
        try await bench.tick()
        try await bench.tick()
        try await bench.tick()
        #expect(bench.log.contains("RAPL readable again: measuring"))
        let ledger = await bench.sampler.ledger(for: Bench.caller)
        #expect(ledger.source == "rapl")
        #expect(await bench.ledgerAddsUp())
    }

    @Test func aCounterThatJumpsBackwardsIsAResetNotAWrap() async throws {
        let bench = try await Bench()
        try await bench.tick()
        try await bench.tick()
        let before = await bench.sampler.ledger(for: Bench.caller).measuredMicrojoules
        // Backwards by 1 kJ, far from the top of the range: read as a wrap, it would be ~262 kJ
        // in 50 ms (5 MW), which no zone draws.
        try bench.write(try bench.counter(bench.package) - 1_000_000_000, to: bench.package)
        usleep(50_000)
        await bench.sampler.tick()
        let after = await bench.sampler.ledger(for: Bench.caller).measuredMicrojoules
        #expect(after - before < 100_000_000, "the reset tick is the model's few joules, not a phantom wrap: \(after - before) µJ")
        #expect(bench.log.contains("counter went backwards (reset)"))
        try await bench.tick()
        #expect(await bench.sampler.ledger(for: Bench.caller).source == "rapl", "measuring again from the new value")
        #expect(await bench.ledgerAddsUp())
    }

    @Test func aSteppingWallClockMovesTimestampsNotDurations() async throws {
        let started = Date()  // before the bench registers its job
        let bench = try await Bench(fixture: "no-powercap")  // the model: energy = watts × monotonic seconds
        let offset = Mutex(0.0)
        await bench.sampler.useWallClock { Date().timeIntervalSince1970 + offset.withLock { $0 } }
        try await bench.tick()
        offset.withLock { $0 = -3600 }  // an hour back (date -s, a bad NTP server)
        try await bench.tick()
        offset.withLock { $0 = 7200 }  // two hours forward
        try await bench.tick()
        try await bench.tick()
        let report = try await bench.sampler.end(id: bench.job.id, exitStatus: 0, caller: Bench.caller)
        // The job's whole life, however loaded the machine: from before its registration to
        // after its end's answer.
        let elapsed = Date().timeIntervalSince(started)
        #expect(bench.log.contains("the wall clock stepped"))
        #expect(report.durationSeconds > 0.1 && report.durationSeconds <= elapsed, "duration \(report.durationSeconds) s of \(elapsed) s measured")
        #expect(report.averagePowerWatts < 10_000, "no interval of hours or of minus an hour: \(report.averagePowerWatts) W")
        let now = Date().timeIntervalSince1970 + 7200
        #expect(abs((report.ended ?? 0) - now) < 5, "timestamps follow the new time")
        await bench.sampler.checkpoint()
        let samples = try JobStore(directory: bench.state).samples(job: bench.job.id)
        #expect(!samples.isEmpty && samples.allSatisfy { $0.end >= $0.start }, "\(samples.map { $0.end - $0.start })")
    }

    /// ergod killed before its first periodic checkpoint: the restarted one must find the
    /// start's counter readings and the job, or everything since start is lost (it was, until
    /// ergod checkpointed at start: found by the random-kill test).
    @Test func aKillBeforeTheFirstCheckpointLosesNothing() async throws {
        let bench = try await Bench()
        try await bench.tick(drawing: 2)
        try await bench.tick(drawing: 2)  // no periodic checkpoint: it is 600 s away
        let restarted = try Bench.sampler(bench.configuration, log: bench.log)
        await restarted.restore()
        for path in [bench.package, bench.dram] { try bench.write(try bench.counter(path) + 2_000_000, to: path) }
        usleep(50_000)
        await restarted.tick()
        let ledger = await restarted.ledger(for: Bench.caller)
        #expect(ledger.measuredMicrojoules == 12_000_000, "three ticks of 2 J in each of two zones, across the restart: \(ledger.measuredMicrojoules) µJ")
        let report = try await restarted.report(id: bench.job.id)
        #expect(report.ended == nil && report.energyJoules > 0, "the job runs on in the restarted sampler")
    }

    @Test func aDeletedStoreIsRebuiltFromTheOpenDatabase() async throws {
        let bench = try await Bench()
        try await bench.tick()
        await bench.sampler.checkpoint()
        // Someone removes the state directory, database, WAL and all.
        try FileManager.default.removeItem(atPath: bench.state)
        try await bench.tick()
        await bench.sampler.checkpoint()
        #expect(bench.log.contains("the job store was deleted while open; rebuilt it"))
        try await bench.tick()
        let report = try await bench.sampler.end(id: bench.job.id, exitStatus: 0, caller: Bench.caller)
        let reopened = try JobStore(directory: bench.state)
        let (stored, totals) = try #require(try reopened.job(id: bench.job.id))
        #expect(stored.ended != nil)
        #expect(Double(totals.energyMicrojoules) / 1e6 == report.energyJoules, "every joule, before and after the deletion, is in the new file")
        #expect(await bench.sampler.storeError == nil)
    }

    @Test(.enabled(if: getuid() == 0, "job cgroups need root (CI runs as root)"))
    func aJobWhoseCgroupVanishesIsClosed() async throws {
        let bench = try await Bench()
        #expect(try await bench.sampler.report(id: bench.job.id).tracking == .cgroup)
        try await bench.tick()
        kill(bench.busy.processIdentifier, SIGKILL)
        bench.busy.waitUntilExit()
        let mountinfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        let mount = try #require(mountinfo.split(separator: "\n").first { $0.contains(" - cgroup2 ") }?.split(separator: " ")[4])
        #expect(rmdir("\(mount)/\(bench.subtree)/job-\(bench.job.id)") == 0, "removed by someone else")
        for _ in 0..<12 { try await bench.tick() }
        let report = try await bench.sampler.report(id: bench.job.id)
        #expect(report.ended != nil, "closed once its cgroup was gone")
        #expect(report.exitStatus == nil)
        #expect(bench.log.contains("job's processes are gone without an end request"))
        #expect(await bench.ledgerAddsUp())
    }
}
