import ErgometerCore
import ErgometerStore
import ErgometerTestSupport
import Foundation
import Testing

/// Job lists from the store: every job with its own totals, across the 1000-id query chunks.
struct StoreQueryTests {
    /// A sample's per-domain column: names with the separators in them survive, equal pairs sum,
    /// and a damaged entry is skipped while the rest is read.
    @Test func theDomainsColumnRoundTripsAndSkipsWhatItCannotRead() {
        let entries = [
            SampleDomainsColumn.Entry(domain: "cpu-package", source: .rapl, microjoules: 8_123_456),
            SampleDomainsColumn.Entry(domain: "gpu-0000:03:00.0", source: .nvmlEnergy, microjoules: 250_000_000),
            SampleDomainsColumn.Entry(domain: "odd=name;50%", source: .hwmonPower, microjoules: 7),
            SampleDomainsColumn.Entry(domain: "cpu-package", source: .rapl, microjoules: 1),
            SampleDomainsColumn.Entry(domain: "cpu-package", source: .model, microjoules: 5),
        ]
        let text = SampleDomainsColumn.encode(entries)
        #expect(text == "p=R8123457;g0000:03:00.0=N250000000;~odd%3Dname%3B50%25=P7;p=M5")
        #expect(SampleDomainsColumn.decode(text).map(\.domain) == ["cpu-package", "gpu-0000:03:00.0", "odd=name;50%", "cpu-package"])
        let total: Int64 = 8_123_457 + 250_000_000 + 7 + 5
        #expect(SampleDomainsColumn.decode(text).map(\.microjoules).reduce(0, +) == total)
        let damaged = "p=R10;d=L3;g=R4;x=R2;~bad%4=M1;p=R-4;~=R2;r=P6;cpu-package=rapl=9"
        #expect(SampleDomainsColumn.decode(damaged) == [.init(domain: "cpu-package", source: .rapl, microjoules: 10), .init(domain: "rest", source: .hwmonPower, microjoules: 6)])
        #expect(SampleDomainsColumn.sum("d=R2", "d=R3;r=M1") == "d=R5;r=M1")
        // Every source and the named domains round-trip by their codes.
        let all = EnergySource.allCases.map { SampleDomainsColumn.Entry(domain: "rest", source: $0, microjoules: 3) }
            + ["cpu-package", "dram", "platform", "gpu-abc", "other thing"].map { SampleDomainsColumn.Entry(domain: $0, source: .rapl, microjoules: 4) }
        #expect(SampleDomainsColumn.decode(SampleDomainsColumn.encode(all)) == all)
        #expect(SampleDomainsColumn.decode("") == [])
    }

    @Test func everyJobGetsItsOwnTotalsBeyondOneChunk() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try JobStore(directory: directory)
        let count = 2_345
        var jobs: [StoredJob] = []
        var totals: [JobTotals] = []
        for index in 1...count {
            jobs.append(StoredJob(
                id: String(index), jobID: "box-\(index)", name: "job \(index)", user: "u", uid: 1000, labelsJSON: "{}", commandJSON: "[]",
                started: Double(index), tracking: .cgroup, cgroup: nil, pid: index, processors: nil, hardware: "test", bootID: "b"))
            var total = JobTotals(jobID: String(index))
            total.energyMicrojoules = Int64(index) * 7
            totals.append(total)
        }
        try store.save(
            checkpoint: Checkpoint(
                bootID: "b", wallTime: 0, ledgerSince: 0, monotonicNanoseconds: 0, zonesJSON: "{}", busyMicroseconds: 0, systemMicrojoules: 0,
                idleMicrojoules: 0, source: .rapl),
            newJobs: jobs, totals: totals, samples: [], endedJobs: [])
        let listed = try store.jobs(includeEnded: true, limit: Int.max)
        #expect(listed.count == count)
        #expect(listed.first?.0.id == String(count), "newest first")
        #expect(listed.allSatisfy { $0.1.energyMicrojoules == Int64($0.0.id)! * 7 && $0.1.jobID == $0.0.id })
        #expect(try store.jobs(includeEnded: true).count == 1000, "the default page")
    }

    /// The checkpoint writes totals and samples with prepared statements: every column must
    /// come back as it went in, twice (insert, then update), and samples in order.
    @Test func aCheckpointRoundTripsEveryColumn() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try JobStore(directory: directory)
        let job = StoredJob(
            id: "7", jobID: "box-7", name: "seven", user: "u", uid: 1000, labelsJSON: "{}", commandJSON: "[]", started: 1,
            tracking: .cgroup, cgroup: nil, pid: 7, processors: 4, hardware: "test", bootID: "b")
        let checkpoint = Checkpoint(
            bootID: "b", wallTime: 2, ledgerSince: 1, monotonicNanoseconds: 3, zonesJSON: "{}", busyMicroseconds: 4, systemMicrojoules: 5,
            idleMicrojoules: 6, source: .rapl)
        var totals = JobTotals(jobID: "7")
        for round in 1...2 {
            let n = Int64(round)
            totals.energyMicrojoules = 11 * n
            totals.packageMicrojoules = 12 * n
            totals.dramMicrojoules = 13 * n
            totals.idleShareMicrojoules = 14 * n
            totals.raplMicrojoules = 15 * n
            totals.modelMicrojoules = 16 * n
            totals.cpuMicroseconds = 17 * n
            totals.co2Grams = 1.5 * Double(n)
            totals.cost = 2.5 * Double(n)
            totals.peakWatts = 3.5 * Double(n)
            totals.lastUsageMicroseconds = 18 * n
            totals.temperaturesJSON = "{\"coretemp\\tCore \(round)\":[1,2,3]}"
            totals.intensityGramsPerKWh = 475 + Double(n)
            totals.pue = 1.1 * Double(n)
            totals.currency = round == 1 ? "EUR" : nil
            totals.flops = 1e12 * Double(n)
            totals.steps = 19 * n
            totals.samples = round == 1 ? 20 : nil
            totals.metricsJSON = "{\"loss\":\(round)}"
            totals.progressSequence = 21 * n
            let samples = (0..<3).map { JobSample(jobID: "7", start: Double(round * 10 + $0), end: Double(round * 10 + $0 + 1), energyMicrojoules: n, cpuMicroseconds: 2 * n) }
            try store.save(checkpoint: checkpoint, newJobs: round == 1 ? [job] : [], totals: [totals], samples: samples, endedJobs: [])
            let (_, stored) = try #require(try store.job(id: "7"))
            #expect(stored == totals, "round \(round)")
        }
        let samples = try store.samples(job: "7")
        #expect(samples.map(\.start) == [11, 12, 13, 21, 22, 23].map { Double($0) - 1 }, "\(samples.map(\.start))")
        #expect(samples.allSatisfy { $0.end == $0.start + 1 })
    }

    /// What a restart gives the ledger: the jobs that ended last one by one, the period's
    /// earlier ended jobs summed per domain, nothing of running jobs or of an earlier period.
    @Test func theLedgersEndedJobsComeBackAsTheLatestAndASum() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try JobStore(directory: directory)
        var jobs: [StoredJob] = []
        var totals: [JobTotals] = []
        for index in 1...30 {
            // Jobs 1-2 started before the period; 29-30 still run; the others ended in reverse order of id.
            jobs.append(StoredJob(
                id: String(index), jobID: "box-\(index)", name: "j", user: "u", uid: 1000, labelsJSON: "{}", commandJSON: "[]",
                started: index <= 2 ? 50 : 100 + Double(index), ended: index >= 29 ? nil : 10_000 - Double(index), tracking: .cgroup, cgroup: nil,
                pid: index, processors: nil, hardware: "test", bootID: "b"))
            var total = JobTotals(jobID: String(index))
            total.energyMicrojoules = Int64(index) * 11
            total.domains = [
                DomainTotal(domain: "cpu-package", kind: .cpuPackage, source: .rapl, energyMicrojoules: Int64(index) * 10, idleShareMicrojoules: 0),
                DomainTotal(domain: "dram", kind: .dram, source: .rapl, energyMicrojoules: Int64(index), idleShareMicrojoules: 0),
            ]
            totals.append(total)
        }
        try store.save(
            checkpoint: Checkpoint(
                bootID: "b", wallTime: 0, ledgerSince: 100, monotonicNanoseconds: 0, zonesJSON: "{}", busyMicroseconds: 0, systemMicrojoules: 0,
                idleMicrojoules: 0, source: .rapl),
            newJobs: jobs, totals: totals, samples: [], endedJobs: [])
        let ended = try store.endedJobEnergy(startedSince: 100, keepingLatest: 10)
        // Ended in the period: jobs 3-28; the last to end are the lowest ids, 3-12.
        #expect(ended.latest.map(\.id) == (3...12).reversed().map(String.init), "oldest of the kept first")
        #expect(ended.latest.allSatisfy { $0.domains.count == 2 })
        let earlier = (13...28).reduce(Int64(0), +)
        #expect(ended.earlier == ["cpu-package": UInt64(earlier * 10), "dram": UInt64(earlier)])
    }
}
