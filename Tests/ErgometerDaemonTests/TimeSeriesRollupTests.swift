import ErgometerStore
import Testing

@testable import ErgometerDaemon

/// A job's time series: one sample per tick for its first hour, then one per minute, with
/// nothing lost at the change or at the end.
struct TimeSeriesRollupTests {
    func job(startedAt start: Double) -> ActiveJob {
        ActiveJob(
            stored: StoredJob(
                id: "1", jobID: "box-1", name: "train", user: "root", uid: 0, labelsJSON: "{}", commandJSON: "[]",
                started: start, tracking: .cgroup, cgroup: "/ergometer/job-1", pid: 1, processors: nil, hardware: "", bootID: "b"),
            totals: JobTotals(jobID: "1"), tracking: .cgroup("/ergometer/job-1"), lastUsage: 0, owner: nil, temperatures: [:])
    }

    @Test func firstHourIsFullResolutionThenPerMinute() {
        var active = job(startedAt: 0)
        var samples: [JobSample] = []
        var tick = 0.0
        while tick < 3600 + 180 {  // one hour and three minutes of 1 s ticks, 10 J each
            if let sample = active.sample(start: tick, end: tick + 1, microjoules: 10_000_000, cpuMicroseconds: 1_000_000) {
                samples.append(sample)
            }
            tick += 1
        }
        if let last = active.flushMinute() { samples.append(last) }
        let fine = samples.filter { $0.end - $0.start <= 1 }
        let coarse = samples.filter { $0.end - $0.start > 1 }
        #expect(fine.count == 3600)
        #expect(coarse.count == 3)
        #expect(coarse.allSatisfy { $0.end - $0.start <= 60 })
        #expect(samples.map(\.energyMicrojoules).reduce(0, +) == 3780 * 10_000_000, "every tick's energy is in exactly one sample")
        #expect(samples.map(\.cpuMicroseconds).reduce(0, +) == 3780 * 1_000_000)
    }
}
