import ErgometerCore
import ErgometerDaemon
import ErgometerStore
import ErgometerTestSupport
import ErgometerWire
import Foundation
import Logging
import Testing

/// Retention on real SQLite files: full-resolution rows roll up to minutes with every µJ kept,
/// old series and expired jobs go, and a store filled past `max_bytes` shrinks back under it
/// with no job total lost. Each figure is checked against what the test wrote, not against
/// what the store reports of itself.
@Suite(.serialized)
struct StoreRetentionTests {
    static let day = 86_400.0
    static let now = 1_800_000_000.0

    /// A store with `jobs` ended jobs, job k started `ages[k]` days before `now` with
    /// `seconds` one-second samples of (k+1) J each (¾ package, ¼ DRAM; a temperature every
    /// 5 s, the second's number modulo 97 in °C) and totals equal to their sum, saved as the
    /// sampler does: `checkpointSeconds` of every job's ticks a checkpoint (nil: all in one).
    static func store(in directory: String, ages: [Double], seconds: Int, checkpointSeconds: Int? = nil) throws -> (JobStore, [Int64]) {
        let store = try JobStore(directory: directory)
        var jobs: [StoredJob] = []
        var totals: [JobTotals] = []
        var samples: [JobSample] = []
        var energies: [Int64] = []
        for (index, age) in ages.enumerated() {
            let started = now - age * day
            let id = String(index + 1)
            jobs.append(StoredJob(
                id: id, jobID: "box-\(id)", name: "job \(id)", user: "u", uid: 1000, labelsJSON: "{}", commandJSON: "[]", started: started,
                ended: started + Double(seconds), exitStatus: 0, tracking: .cgroup, cgroup: nil, pid: index + 1, processors: nil, hardware: "test",
                bootID: "b"))
            let joules = Int64(index + 1) * 1_000_000
            for second in 0..<seconds {
                samples.append(JobSample(
                    jobID: id, start: started + Double(second), end: started + Double(second + 1), energyMicrojoules: joules, cpuMicroseconds: 1000,
                    domains: SampleDomainsColumn.encode([
                        .init(domain: "cpu-package", source: .rapl, microjoules: joules / 4 * 3), .init(domain: "dram", source: .rapl, microjoules: joules / 4),
                    ]), maxCelsius: second % 5 == 0 ? Double(second % 97) : nil))
            }
            var total = JobTotals(jobID: id)
            total.energyMicrojoules = joules * Int64(seconds)
            total.domains = [DomainTotal(domain: "cpu-package", kind: .cpuPackage, source: .rapl, energyMicrojoules: total.energyMicrojoules, idleShareMicrojoules: 0)]
            totals.append(total)
            energies.append(total.energyMicrojoules)
        }
        let checkpoint = Checkpoint(
            bootID: "b", wallTime: now, ledgerSince: now - 400 * day, monotonicNanoseconds: 0, zonesJSON: "{}", busyMicroseconds: 0,
            systemMicrojoules: 0, idleMicrojoules: 0, source: .rapl)
        try store.save(checkpoint: checkpoint, newJobs: jobs, totals: totals, samples: [], endedJobs: [])
        let step = checkpointSeconds ?? seconds
        for from in stride(from: 0, to: seconds, by: step) {
            let batch = (0..<ages.count).flatMap { job in samples[(job * seconds + from)..<(job * seconds + min(from + step, seconds))] }
            try store.save(checkpoint: checkpoint, totals: [], samples: batch, endedJobs: [])
        }
        return (store, energies)
    }

    /// Prunes until nothing is left to do (each prune does a bounded amount).
    static func pruneFully(_ store: JobStore, _ retention: StoreRetention, ledgerSince: Double = now - 400 * day) throws -> [StorePrune] {
        var prunes: [StorePrune] = []
        repeat { prunes.append(try store.prune(retention: retention, now: now, ledgerSince: ledgerSince)) } while prunes.last!.moreToDo
        return prunes
    }

    @Test func oldFullResolutionRowsBecomeOneRowPerMinuteWithEveryMicrojouleKept() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Job 1 ten days old (past full resolution), job 2 one day old; 4,200 s each, saved 7 s
        // a checkpoint: 600 rows each, more than one transaction takes, rows (packs of 7 ticks)
        // that straddle minutes and minutes that straddle batches.
        let (store, energies) = try Self.store(in: directory, ages: [10, 1], seconds: 4_200, checkpointSeconds: 7)
        #expect(try store.status(retention: .defaults).samplesFull == 1_200, "one row per job and checkpoint")
        let prunes = try Self.pruneFully(store, .defaults)
        let old = try store.samples(job: "1")
        let recent = try store.samples(job: "2")
        #expect(old.count == 70 && old.allSatisfy(\.perMinute), "4,200 s are 70 minutes: \(old.count) rows")
        #expect(Set(old.map { Int(($0.start / 60).rounded(.down)) }).count == old.count, "one row per minute")
        #expect(old.map(\.energyMicrojoules).reduce(0, +) == energies[0], "every µJ of the series is kept")
        #expect(old.map(\.cpuMicroseconds).reduce(0, +) == 4_200 * 1000)
        // Per domain too, and each minute's hottest reading is the hottest of its seconds.
        var perDomain: [String: Int64] = [:]
        for row in old { for entry in SampleDomainsColumn.decode(row.domains) { perDomain[entry.domain, default: 0] += entry.microjoules } }
        #expect(perDomain == ["cpu-package": energies[0] / 4 * 3, "dram": energies[0] / 4], "\(perDomain)")
        let hottest = (0..<70).map { minute in stride(from: minute * 60, to: minute * 60 + 60, by: 5).map { Double($0 % 97) }.max() }
        #expect(old.map(\.maxCelsius) == hottest)
        #expect(old.first?.start == Self.now - 10 * Self.day && old.last?.end == Self.now - 10 * Self.day + 4_200)
        for (index, minute) in old.enumerated() {
            #expect(minute.start == Self.now - 10 * Self.day + Double(index * 60) && minute.end == minute.start + 60, "minute \(index) covers its own 60 s")
        }
        // The day-old job's ticks come back as they were saved, each second on its own.
        #expect(recent.count == 4_200 && !recent.contains(where: \.perMinute), "a day-old job keeps full resolution")
        #expect(recent.map(\.start) == (0..<4_200).map { Self.now - Self.day + Double($0) })
        #expect(recent.allSatisfy { $0.energyMicrojoules == 2_000_000 && $0.end == $0.start + 1 })
        let readings: [Double?] = (0..<4_200).map { second in second % 5 == 0 ? Double(second % 97) : nil }
        #expect(recent.map(\.maxCelsius) == readings)
        #expect(prunes.map(\.rolledUpRows).reduce(0, +) == 600 && prunes.map(\.minuteRows).reduce(0, +) == 70)
        #expect(prunes.allSatisfy { $0.transactions > 0 })
        let status = try store.status(retention: .defaults)
        #expect(status.samplesFull == 600 && status.samplesRolledUp == 70 && status.jobs == 2)
        #expect(status.lastPrune?.rolledUpRows ?? 0 > 0)
    }

    @Test func seriesPastTheirDaysGoAndJobsPastTheirsTooWithTheirEnergyKeptForTheLedger() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, energies) = try Self.store(in: directory, ages: [120, 60, 2], seconds: 120)
        let retention = StoreRetention(fullResolutionDays: 7, seriesDays: 90, jobsDays: 100, maxBytes: 1 << 30)
        let prunes = try Self.pruneFully(store, retention)
        #expect(prunes.map(\.expiredJobs).reduce(0, +) == 1)
        #expect(try store.job(id: "1") == nil, "job 1 ended 120 days ago, past jobs_days = 100")
        #expect(try store.samples(job: "2").isEmpty == false, "job 2's series is 60 days old: rolled up, kept")
        #expect(try store.samples(job: "2").allSatisfy(\.perMinute))
        #expect(try store.job(id: "2")?.1.energyMicrojoules == energies[1], "totals outlive the series")
        #expect(try store.samples(job: "3").count == 120)
        #expect(try store.expiredJobEnergy(ledgerSince: Self.now - 400 * Self.day) == ["cpu-package": UInt64(energies[0])])
        #expect(try store.expiredJobEnergy(ledgerSince: Self.now).isEmpty, "another ledger period's expired energy is not this one's")

        // Past series_days: job 2's series goes, its totals stay.
        let later = StoreRetention(fullResolutionDays: 7, seriesDays: 30, jobsDays: 0, maxBytes: 1 << 30)
        _ = try Self.pruneFully(store, later)
        #expect(try store.samples(job: "2").isEmpty)
        #expect(try store.job(id: "2")?.1.energyMicrojoules == energies[1])
    }

    @Test func aStoreFilledPastItsBoundShrinksUnderItLoggedAndNoTotalLost() async throws {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let state = root + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        // 40 jobs of an hour each, the oldest first: ~144,000 rows, several MiB.
        let ages = (0..<40).map { 3.0 - Double($0) * 0.05 }
        var (store, energies) = try Self.store(in: state, ages: ages, seconds: 3_600)
        let filled = store.bytes
        let bound: Int64 = 3 << 20
        #expect(filled > 2 * bound, "the store was filled past its bound: \(filled) bytes")
        store = try JobStore(directory: state)

        var configuration = DaemonConfiguration()
        configuration.sysfsRoot = root + "/sys"
        configuration.stateDirectory = state
        configuration.metricsListen = "off"
        configuration.nvmlLibrary = "off"
        configuration.storeMaxBytes = Double(bound)
        let log = RecordedLog()
        let logger = Logger(label: "retention-test") { _ in RecordedLog.Handler(log: log) }
        let clock = SimulatedClock(wall: Self.now)
        let sampler = try Sampler(configuration: configuration, store: store, logger: logger, clock: clock.samplerClock)
        var prunes: [StorePrune] = []
        repeat {
            guard let prune = await sampler.pruneNow() else { break }
            prunes.append(prune)
        } while prunes.last!.moreToDo && prunes.count < 20
        #expect(store.bytes <= bound - bound / 20 + 64 * 1024, "the store shrank to 95 % of its bound: \(store.bytes) bytes of \(bound)")
        let dropped = prunes.map(\.droppedForSizeRows).reduce(0, +)
        #expect(dropped > 0 && prunes.allSatisfy { !$0.overBound })
        #expect(log.contains("passed store.max_bytes") && log.contains("ergometer.store.rows_dropped="), "the log says what was dropped")
        for (index, energy) in energies.enumerated() {
            #expect(try store.job(id: String(index + 1))?.1.energyMicrojoules == energy, "job \(index + 1)'s totals are intact")
        }
        // The oldest went first: what is left all began after what was dropped.
        let through = try #require(prunes.compactMap(\.droppedForSizeThrough).max())
        let status = try store.status(retention: configuration.retention)
        #expect(status.oldestSample.map { $0 >= through } ?? true, "kept rows are younger than the dropped ones")
        #expect(status.samplesFull > 0, "the newest series are kept")
        let ledger = await sampler.ledger(for: ControlCaller(uid: 0, gid: 0, pid: 1, user: "root", isAdmin: true))
        #expect(ledger.lastPrune?.droppedForSizeRows ?? 0 > 0, "ergo ledger shows what was dropped")
    }
}
