import ErgometerStore
import Foundation

/// A job store holding `jobs` ended jobs with their totals, as a year of a busy box would.
final class StoreFixture {
    let directory: String
    let store: JobStore
    let count: Int

    init(jobs: Int) throws {
        directory = NSTemporaryDirectory() + "ergometer-bench-store-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try JobStore(directory: directory)
        count = jobs
        var records: [StoredJob] = []
        var totals: [JobTotals] = []
        for index in 1...jobs {
            records.append(StoredJob(
                id: String(index), jobID: "box-\(index)", name: "job \(index)", user: "user\(index % 20)", uid: 1000 + index % 20,
                labelsJSON: #"{"team":"vision"}"#, commandJSON: #"["./train","--epochs","3"]"#, started: Double(index) * 60,
                ended: Double(index) * 60 + 30, exitStatus: 0, tracking: .cgroup, cgroup: "/ergometer/job-\(index)", pid: 1000 + index,
                processors: nil, hardware: "bench", bootID: "bench"))
            var total = JobTotals(jobID: String(index))
            total.energyMicrojoules = Int64(index) * 1_000_000
            total.cpuMicroseconds = Int64(index) * 10_000
            total.temperaturesJSON = #"{"coretemp-isa-0000\tPackage id 0":[1200,20,65]}"#
            totals.append(total)
        }
        // One transaction, as ergod's checkpoints write them.
        try store.save(
            checkpoint: Checkpoint(
                bootID: "bench", wallTime: 0, ledgerSince: 0, monotonicNanoseconds: 0, zonesJSON: "{}", busyMicroseconds: 0, systemMicrojoules: 0,
                idleMicrojoules: 0, source: .rapl),
            newJobs: records, totals: totals, samples: [], endedJobs: [])
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
