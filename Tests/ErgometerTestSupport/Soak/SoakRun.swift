import CFreeMemory
import ErgometerDaemon
import ErgometerStore
import ErgometerWire
import Foundation
import Logging

/// What a soak simulates: a busy node's jobs over `days` at a 1 s tick.
public struct SoakPlan: Sendable {
    public var days: Int
    /// Short jobs a day (arriving at random), each 1 to 60 minutes; half `ergo run`, half Slurm's.
    public var jobsPerDay = 1000
    public var shortestJobSeconds = 60
    public var longestJobSeconds = 3600
    public var registeredShare = 0.5
    /// `ergo run` jobs whose process dies without an end request (ergod notices).
    public var killedShare = 0.1
    /// Jobs that run a week each, always this many (each replaced when it ends).
    public var longJobs = 10
    public var longJobSeconds = 7 * 86_400
    /// ergod is restarted (10 s down) this often.
    public var restartEveryDays = 10.0
    public var retention = StoreRetention.defaults
    public var checkpointSeconds = 5.0
    public var seed: UInt64 = 2026

    public init(days: Int) { self.days = days }
}

/// The figures of one simulated day, taken at its end.
public struct SoakDay: Sendable, Codable {
    public var day: Int
    /// Real seconds the day took to simulate.
    public var realSeconds: Double
    public var storeBytes: Int64
    public var jobsInStore: Int
    public var samplesFull: Int
    public var samplesRolledUp: Int
    /// Age of the oldest full-resolution row and of the oldest row, days.
    public var oldestFullAgeDays: Double?
    public var oldestSampleAgeDays: Double?
    public var residentBytes: Int
    /// Of it, private memory (heap, stacks: what a leak grows) and file-backed pages (the code
    /// of the program and its libraries, which grows only as code first runs).
    public var anonymousBytes: Int
    public var fileBytes: Int
    /// What the allocator counts in use (`ergo_heap_in_use_bytes`): what a leak grows, without
    /// the pages the heap keeps around it (private memory moves by ~1 MiB from one day to the
    /// next with where the day's last allocations happened to land).
    public var heapInUseBytes: Int
    /// The fastest of five (what the work costs; this VM's noise only adds, and read as a
    /// median it came out at either ~18 or ~30 ms from one day to the next): `ergo jobs --all`,
    /// `ergo report` of a recent job, a checkpoint of four ticks, a scrape of /metrics (render).
    public var jobsListSeconds: Double
    public var reportSeconds: Double
    public var checkpointSeconds: Double
    public var scrapeSeconds: Double
    public var metricsSeries: Int
    public var runningJobs: Int
}

/// The whole run: each day's figures and the checks made at its end.
public struct SoakOutcome: Sendable {
    public var plan: SoakPlan
    public var days: [SoakDay] = []
    /// The ledger at the end: what the meters measured, what the buckets hold, what the box drew.
    public var measuredMicrojoules: UInt64 = 0
    public var bucketsMicrojoules: UInt64 = 0
    public var drawnMicrojoules: UInt64 = 0
    /// Ended jobs whose totals were noted when they ended, and those the store no longer reports exactly.
    public var jobsChecked = 0
    public var totalsChanged: [String] = []
    public var jobsStarted = 0
    public var restarts = 0
    public var longestPruneTransactionSeconds = 0.0
    public var warnings: [String] = []
}

/// Runs a soak: ergod's sampler (the real one, its store on a real SQLite file) on a `SoakBox`,
/// in simulated time, with the plan's jobs coming and going, restarts, and the day's figures.
public final class SoakRun {
    public let plan: SoakPlan
    let box: SoakBox
    let clock: SimulatedClock
    var configuration = DaemonConfiguration()
    var sampler: Sampler
    let log = RecordedLog(keepingLast: 20)
    static let root = ControlCaller(uid: 0, gid: 0, pid: 1, user: "root", isAdmin: true)

    /// A running job: when it ends, how, and the box's key for it.
    struct Running {
        var key: String
        var endsAt: Int
        var killed: Bool
        var registeredID: String?
        var long: Bool
    }

    public init(plan: SoakPlan, fixtures: String) throws {
        self.plan = plan
        box = try SoakBox(fixtures: fixtures)
        clock = SimulatedClock(wall: 1_800_000_000)
        configuration = box.daemonConfiguration(checkpointSeconds: plan.checkpointSeconds)
        configuration.rootsChangeInPlace = true  // the box writes its counters through mappings
        configuration.idleWatts = 10
        configuration.maxActiveJobs = 10_000
        configuration.fullResolutionDays = plan.retention.fullResolutionDays
        configuration.seriesDays = plan.retention.seriesDays
        configuration.jobsDays = plan.retention.jobsDays
        configuration.storeMaxBytes = Double(plan.retention.maxBytes)
        sampler = try Self.sampler(configuration, clock: clock, log: log)
    }

    static func sampler(_ configuration: DaemonConfiguration, clock: SimulatedClock, log: RecordedLog) throws -> Sampler {
        try Sampler(
            configuration: configuration, store: try JobStore(directory: configuration.stateDirectory), logger: log.logger(label: "soak", level: .warning),
            clock: clock.samplerClock)
    }

    /// Simulates the plan; `progress` hears of each day as it ends.
    public func run(progress: (SoakDay) -> Void = { _ in }) async throws -> SoakOutcome {
        var outcome = SoakOutcome(plan: plan)
        var random = SplitMix64(seed: plan.seed)
        await sampler.restore()
        var running: [Running] = []
        var expected = [Double](repeating: .nan, count: plan.days * plan.jobsPerDay * 2 + 1000)
        var slurmNumber = 0
        var nextPid: Int32 = 1_000_000
        let meanGap = 86_400.0 / Double(plan.jobsPerDay)
        var nextArrival = 0.0
        let seconds = plan.days * 86_400
        var dayStarted = DispatchTime.now().uptimeNanoseconds
        var nextRestart = plan.restartEveryDays > 0 ? Int(plan.restartEveryDays * 86_400) : Int.max

        func start(lasting duration: Int, at second: Int, long: Bool) async throws {
            nextPid += 1
            let registered = Double.random(in: 0..<1, using: &random) < plan.registeredShare
            if registered {
                let id = await sampler.nextJobID
                try box.prepareRegisteredJob(id: id, pid: nextPid)
                let response = try await sampler.registerUnsaved(
                    RegisterJobRequest(name: "soak", jobID: nil, labels: [:], command: ["train"], pid: nextPid, processors: nil), caller: Self.root)
                guard response.id == id, response.tracking == .cgroup else { throw FixtureError("job \(response.id) registered as \(response.tracking)") }
                let killed = !long && Double.random(in: 0..<1, using: &random) < plan.killedShare / plan.registeredShare
                running.append(Running(key: "run-\(id)", endsAt: second + duration, killed: killed, registeredID: id, long: long))
            } else {
                slurmNumber += 1
                try box.startSlurmJob(number: slurmNumber, pid: nextPid)
                running.append(Running(key: "slurm-\(slurmNumber)", endsAt: second + duration, killed: false, registeredID: nil, long: long))
            }
            outcome.jobsStarted += 1
        }

        for index in 0..<plan.longJobs {
            try await start(lasting: plan.longJobSeconds - index * plan.longJobSeconds / max(plan.longJobs, 1), at: 0, long: true)
        }
        for second in 0..<seconds {
            while nextArrival <= Double(second) {
                let duration = Int.random(in: plan.shortestJobSeconds...plan.longestJobSeconds, using: &random)
                try await start(lasting: duration, at: second, long: false)
                nextArrival += -Foundation.log(1 - Double.random(in: 0..<1, using: &random)) * meanGap
            }
            var index = 0
            while index < running.count {
                let job = running[index]
                guard job.endsAt <= second else {
                    index += 1
                    continue
                }
                running.remove(at: index)
                box.removeJob(key: job.key)
                if let id = job.registeredID, !job.killed { _ = try await sampler.endUnsaved(id: id, exitStatus: 0, caller: Self.root) }
                if job.long { try await start(lasting: plan.longJobSeconds, at: second, long: true) }
            }
            clock.advance(seconds: 1)
            box.advance(seconds: 1)
            await sampler.tick()

            if second + 1 == nextRestart, second + 1 < seconds {  // none at the very end: the run stops there
                await sampler.stop()
                clock.advance(seconds: 10)  // ergod is down; the box draws on
                box.advance(seconds: 10)
                sampler = try Self.sampler(configuration, clock: clock, log: log)
                await sampler.restore()
                outcome.restarts += 1
                nextRestart += Int(plan.restartEveryDays * 86_400)
            }
            // The store's writer is kept within four simulated minutes of the ticks (at real
            // speed it is never one behind): in compressed time a slow write (a prune's roll-up)
            // would let thousands of ticks pile into one batch, whose memory (its rows' text)
            // fragments the heap as no real batch does. Four minutes of the soak's ~30 jobs stay
            // within the room pending samples keep (`PendingWrites.keptSamples`); one minute
            // made the writer's bursts stall the ticks (1.5 s a simulated day).
            if (second + 1) % 10 == 0 { await sampler.waitForBackgroundWrite(begunTicksAgo: 240) }
            if (second + 1) % 21_600 == 0 { await note(&expected) }
            if (second + 1) % 86_400 == 0 {
                let day = try await measure(day: (second + 1) / 86_400, running: running.count, began: dayStarted)
                outcome.days.append(day)
                progress(day)
                dayStarted = DispatchTime.now().uptimeNanoseconds
            }
        }
        await note(&expected)
        let ledger = await sampler.ledger(for: Self.root)
        outcome.measuredMicrojoules = ledger.measuredMicrojoules
        outcome.bucketsMicrojoules = ledger.buckets.totalMicrojoules
        outcome.drawnMicrojoules = box.drawnMicrojoules
        outcome.longestPruneTransactionSeconds = await sampler.longestPruneTransactionSeconds
        await sampler.stop()
        let store = try JobStore(directory: box.state)
        for (job, totals) in try store.jobs(includeEnded: true, limit: Int.max) where job.ended != nil {
            guard let number = Int(job.id), number < expected.count, !expected[number].isNaN else { continue }
            outcome.jobsChecked += 1
            if JobReportBuilder.summary(job: job, totals: totals).energyJoules != expected[number] { outcome.totalsChanged.append(job.id) }
        }
        outcome.warnings = log.recorded
        return outcome
    }

    /// Notes the totals of jobs that ended since the last look, as ergod reported them then.
    private func note(_ expected: inout [Double]) async {
        for summary in await sampler.jobs(all: true, caller: Self.root) where summary.ended != nil {
            guard let number = Int(summary.id), number < expected.count, expected[number].isNaN else { continue }
            expected[number] = summary.energyJoules
        }
    }

    /// The day's figures: the store's size and rows, memory, and the queries' times.
    private func measure(day: Int, running: Int, began: UInt64) async throws -> SoakDay {
        // Simulated, a day of ticks takes seconds of real time: the store's writer, which prunes
        // at most a minute's budget behind each minute of ticks at real speed, is left behind;
        // it catches up here, counted in the day's time. The checkpoint first takes in the last
        // background write (whose batch, in compressed time, can hold thousands of ticks that at
        // real speed would be a few). Memory is then as ergod holds it after a checkpoint and a
        // prune (which hands freed memory back to the system, as it does once a minute), before
        // the queries below allocate.
        await sampler.checkpoint()
        repeat { _ = await sampler.pruneNow() } while await sampler.pruneBehind
        let realSeconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
        let (resident, anonymous, file) = (Self.memory("VmRSS:"), Self.memory("RssAnon:"), Self.memory("RssFile:"))
        let heapInUse = Int(ergo_heap_in_use_bytes())
        // What `ergo store` asks, of ergod's own store (a second connection would be the test's memory).
        guard let status = try await sampler.storeStatus(), let store = sampler.jobStore else { throw FixtureError("the soak's ergod has no store") }
        let now = clock.wallSeconds
        func fastest(_ body: () async -> Void) async -> Double {
            var times: [Double] = []
            for _ in 0..<5 {
                let start = DispatchTime.now().uptimeNanoseconds
                await body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return times.min()!
        }
        let jobs = await fastest { _ = await self.sampler.jobs(all: true, caller: Self.root) }
        let recent = await sampler.jobs(all: true, caller: Self.root).first { $0.ended != nil }?.id ?? "1"
        let report = await fastest { _ = try? await self.sampler.report(id: recent) }
        // A checkpoint of four ticks (at checkpoint_seconds 5), written while the caller waits:
        // the one before it saves what was pending (and waits for a background write), so that
        // the ticks start none of their own and the figure is one write.
        var checkpoints: [Double] = []
        for _ in 0..<5 {
            await sampler.checkpoint()
            for _ in 0..<max(Int(plan.checkpointSeconds.rounded(.up)) - 1, 1) {
                clock.advance(seconds: 1)
                box.advance(seconds: 1)
                await sampler.tick()
            }
            let start = DispatchTime.now().uptimeNanoseconds
            await sampler.checkpoint()
            checkpoints.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        var page = ""
        let scrape = await fastest { page = await self.sampler.metricsText() }
        let series = page.split(separator: "\n").filter { !$0.hasPrefix("#") }.count
        return SoakDay(
            day: day, realSeconds: realSeconds, storeBytes: status.bytes, jobsInStore: status.jobs, samplesFull: status.samplesFull,
            samplesRolledUp: status.samplesRolledUp,
            oldestFullAgeDays: try store.oldestSample(perMinute: false).map { (now - $0) / 86_400 },
            oldestSampleAgeDays: status.oldestSample.map { (now - $0) / 86_400 }, residentBytes: resident,
            anonymousBytes: anonymous, fileBytes: file, heapInUseBytes: heapInUse, jobsListSeconds: jobs,
            reportSeconds: report, checkpointSeconds: checkpoints.min()!, scrapeSeconds: scrape, metricsSeries: series, runningJobs: running)
    }

    /// A line of this process's memory in /proc/self/status (`VmRSS:`, `RssAnon:`, `RssFile:`), bytes.
    static func memory(_ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) })
        else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }
}
