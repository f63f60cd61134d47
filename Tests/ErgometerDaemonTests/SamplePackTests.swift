import ErgometerStore
import ErgometerTestSupport
import Foundation
import GRDB
import Testing

/// `SamplePack`: a checkpoint's ticks of one job in one row come back bit for bit, through a
/// real SQLite file too, and a blob that is not one it wrote is refused, never misread.
struct SamplePackTests {
    /// `count` ticks of job 7 as a sampler makes them: mostly back to back, sometimes after a
    /// gap (a restart, a clock step), times with fractions, a reading now and then, domains of
    /// any name.
    static func ticks(_ count: Int, seed: UInt64) -> [JobSample] {
        var random = SplitMix64(seed: seed)
        var time = 1_800_000_000.123_456_7
        return (0..<count).map { _ in
            if Int.random(in: 0..<5, using: &random) == 0 { time += Double.random(in: 0.5..<30, using: &random) }
            let start = time
            time += Double.random(in: 0.9..<1.1, using: &random)
            let energy = Int64.random(in: 0...9_000_000_000, using: &random)
            let domains = SampleDomainsColumn.encode([
                .init(domain: "cpu-package", source: .rapl, microjoules: energy / 3),
                .init(domain: "gpu-0 ünïcode;=%", source: .nvmlEnergy, microjoules: energy - energy / 3),
            ])
            return JobSample(
                jobID: "7", start: start, end: time, energyMicrojoules: energy, cpuMicroseconds: Int64.random(in: 0...2_000_000, using: &random),
                domains: domains, maxCelsius: Bool.random(using: &random) ? Double.random(in: -40..<120, using: &random) : nil)
        }
    }

    @Test(arguments: [1, 5, 60])
    func ticksComeBackBitForBit(count: Int) throws {
        let ticks = Self.ticks(count, seed: UInt64(count))
        let (row, blob) = SamplePack.pack(ticks[...])
        let back = try #require(SamplePack.unpack(row, blob: blob))
        #expect(back == ticks)
        #expect(back.map(\.start.bitPattern) == ticks.map(\.start.bitPattern))
        // The row's own figures are the ticks' span, sums and hottest reading, independently summed here.
        #expect(row.start == ticks[0].start && row.end == ticks[count - 1].end && !row.perMinute)
        #expect(row.energyMicrojoules == ticks.reduce(0) { $0 + $1.energyMicrojoules })
        #expect(row.cpuMicroseconds == ticks.reduce(0) { $0 + $1.cpuMicroseconds })
        #expect(row.maxCelsius == ticks.compactMap(\.maxCelsius).max())
    }

    @Test func backToBackTicksTakeAboutHalfTheBytesOfARowEach() {
        var ticks: [JobSample] = []
        for second in 0..<5 {
            ticks.append(JobSample(
                jobID: "1", start: 1_800_000_000 + Double(second), end: 1_800_000_001 + Double(second), energyMicrojoules: 45_000_000,
                cpuMicroseconds: 1_000_000, domains: "p=R40000000;d=R5000000"))
        }
        let (_, blob) = SamplePack.pack(ticks[...])
        // flags 1 + end 8 + energy 4 + cpu 3 + length 1 + text 22 = 39 a tick, after the format byte.
        #expect(blob.count == 1 + 5 * 39, "\(blob.count) bytes")
    }

    @Test func aBlobItDidNotWriteIsRefused() throws {
        let ticks = Self.ticks(5, seed: 9)
        let (row, blob) = SamplePack.pack(ticks[...])
        for length in 0..<blob.count {
            let cut = blob.prefix(length)
            let read = SamplePack.unpack(row, blob: Data(cut))
            // A cut at a tick's boundary is a shorter pack, never a misread tick.
            if let read { #expect(Array(ticks.prefix(read.count)) == read, "cut at \(length)") }
        }
        var otherFormat = blob
        otherFormat[otherFormat.startIndex] = 2
        #expect(SamplePack.unpack(row, blob: otherFormat) == nil)
        #expect(SamplePack.unpack(row, blob: Data([1, 0x80, 0x80])) == nil)
        var badText = Data([1, 0])
        badText.append(contentsOf: withUnsafeBytes(of: (1.0).bitPattern.littleEndian, Array.init))
        badText.append(contentsOf: [0, 0, 2, 0xff, 0xfe])
        #expect(SamplePack.unpack(row, blob: badText) == nil, "text that is not UTF-8")
    }

    /// Through a real store: three checkpoints' ticks of two jobs come back as ticks, in order,
    /// one row per job and checkpoint; a pack whose blob was damaged on disk keeps its sums.
    @Test func aStoreSavesOneRowPerJobAndCheckpointAndReadsTheTicksBack() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try JobStore(directory: directory)
        let checkpoint = Checkpoint(
            bootID: "b", wallTime: 1_800_000_000, ledgerSince: 1_700_000_000, monotonicNanoseconds: 0, zonesJSON: "{}", busyMicroseconds: 0,
            systemMicrojoules: 0, idleMicrojoules: 0, source: .rapl)
        var jobs: [StoredJob] = []
        for id in ["7", "8"] {
            jobs.append(StoredJob(
                id: id, jobID: "box-\(id)", name: id, user: "u", uid: 1, labelsJSON: "{}", commandJSON: "[]", started: 1_700_000_000, ended: nil,
                exitStatus: nil, tracking: .cgroup, cgroup: nil, pid: 1, processors: nil, hardware: "test", bootID: "b"))
        }
        try store.save(checkpoint: checkpoint, newJobs: jobs, totals: [], samples: [], endedJobs: [])
        let seven = Self.ticks(15, seed: 1)
        let eight = Self.ticks(15, seed: 2).map { tick in
            var other = tick
            other.jobID = "8"
            return other
        }
        for from in stride(from: 0, to: 15, by: 5) {
            try store.save(checkpoint: checkpoint, totals: [], samples: Array(zip(seven[from..<from + 5], eight[from..<from + 5]).flatMap { [$0, $1] }), endedJobs: [])
        }
        #expect(try store.samples(job: "7") == seven.sorted { $0.start < $1.start })
        #expect(try store.samples(job: "8") == eight.sorted { $0.start < $1.start })
        #expect(try store.status(retention: .defaults).samplesFull == 6)

        // Another writer damages one pack on disk (SQLite beside ergod's pool, as `sqlite3` would).
        try DatabaseQueue(path: directory + "/" + JobStore.fileName).write { db in
            try db.execute(sql: "UPDATE job_samples SET ticks = x'01ff' WHERE job = '8' AND start = (SELECT MIN(start) FROM job_samples WHERE job = '8')")
        }
        let damaged = try store.samples(job: "8")
        #expect(damaged.count == 11, "the damaged pack is one sample, the others their ticks")
        #expect(damaged.reduce(0) { $0 + $1.energyMicrojoules } == eight.reduce(0) { $0 + $1.energyMicrojoules }, "no µJ lost")
    }
}
