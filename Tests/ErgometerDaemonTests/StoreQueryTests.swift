import ErgometerStore
import ErgometerTestSupport
import Foundation
import Testing

/// Job lists from the store: every job with its own totals, across the 1000-id query chunks.
struct StoreQueryTests {
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
                started: Double(index), tracking: "cgroup", cgroup: nil, pid: index, processors: nil, hardware: "test", bootID: "b"))
            var total = JobTotals(jobID: String(index))
            total.energyMicrojoules = Int64(index) * 7
            totals.append(total)
        }
        try store.save(
            checkpoint: Checkpoint(
                bootID: "b", wallTime: 0, ledgerSince: 0, monotonicNanoseconds: 0, zonesJSON: "{}", busyMicroseconds: 0, systemMicrojoules: 0,
                idleMicrojoules: 0, source: "rapl"),
            newJobs: jobs, totals: totals, samples: [], endedJobs: [])
        let listed = try store.jobs(includeEnded: true, limit: Int.max)
        #expect(listed.count == count)
        #expect(listed.first?.0.id == String(count), "newest first")
        #expect(listed.allSatisfy { $0.1.energyMicrojoules == Int64($0.0.id)! * 7 && $0.1.jobID == $0.0.id })
        #expect(try store.jobs(includeEnded: true).count == 1000, "the default page")
    }
}
