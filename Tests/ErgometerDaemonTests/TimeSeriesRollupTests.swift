import ErgometerCore
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

    /// One tick of a box whose only job used all the CPU: `package` and `dram` µJ are all its.
    func tick(package: UInt64, dram: UInt64) -> (BoxAttribution, [DomainEnergy]) {
        let split = BoxAttribution.split(
            kinds: [.cpuPackage, .dram], energy: [package, dram], seconds: 1, jobCPUMicroseconds: [1_000_000], busyCPUMicroseconds: 1_000_000,
            gpuUse: [nil, nil], cpuIdleWatts: 0, idleWatts: [0, 0], policy: .proportional)
        return (split, [DomainEnergy(microjoules: package, source: .rapl), DomainEnergy(microjoules: dram, source: .model)])
    }

    @Test func firstHourIsFullResolutionThenPerMinute() {
        var active = job(startedAt: 0)
        active.adopt(domains: [EnergyDomain(name: "cpu-package", kind: .cpuPackage), EnergyDomain(name: "dram", kind: .dram)])
        active.tickDelta = 1_000_000
        var samples: [JobSample] = []
        var tick = 0.0
        let (split, readings) = self.tick(package: 8_000_000, dram: 2_000_000)
        while tick < 3600 + 180 {  // one hour and three minutes of 1 s ticks, 10 J each
            let hottest: Double? = Int(tick) % 5 == 0 ? 40 + tick / 100 : nil
            if let sample = active.sample(split, job: 0, readings: readings, start: tick, end: tick + 1, microjoules: 10_000_000, hottest: hottest) {
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
        // Per domain and source, beside the totals above: the first hour's through the pending
        // writes' entries (as the sampler adds them), the minutes' from the job itself.
        var pending = PendingWrites()
        let keys = [pending.seriesKey(domain: "cpu-package", source: .rapl), pending.seriesKey(domain: "dram", source: .model)]
        for sample in samples {
            if !sample.perMinute { for domain in 0..<2 { pending.addEntry(key: keys[domain], microjoules: split.job(0, domain: domain)) } }
            _ = pending.append(sample)
        }
        var perDomain: [String: Int64] = [:]
        for sample in pending.encodedSamples() {
            for entry in SampleDomainsColumn.decode(sample.domains) { perDomain[entry.domain + " " + entry.source.rawValue, default: 0] += entry.microjoules }
        }
        #expect(perDomain == ["cpu-package rapl": 3780 * 8_000_000, "dram model": 3780 * 2_000_000])
        // The hottest reading of each minute, and none where no sensor was read.
        let expected = [3655.0, 3715, 3775].map { 40 + $0 / 100 }
        #expect(zip(coarse.compactMap(\.maxCelsius), expected).allSatisfy { $0 == $1 } && coarse.allSatisfy { $0.maxCelsius != nil })
        #expect(fine[1].maxCelsius == nil && fine[5].maxCelsius == 40.05)
    }

    @Test func aMinuteBeingFilledKeepsItsEnergyWhenTheDomainsChange() {
        var active = job(startedAt: 0)
        let cpu = [EnergyDomain(name: "cpu-package", kind: .cpuPackage), EnergyDomain(name: "dram", kind: .dram)]
        active.adopt(domains: cpu)
        let (split, readings) = tick(package: 3_000_000, dram: 1_000_000)
        for second in 0..<10 {
            let start = 3600 + Double(second)
            _ = active.sample(split, job: 0, readings: readings, start: start, end: start + 1, microjoules: 4_000_000, hottest: nil)
        }
        // A restart re-sizes the accumulators mid-minute (the same domains, in another order).
        active.adopt(domains: cpu.reversed())
        let minute = active.flushMinute()
        #expect(minute?.energyMicrojoules == 40_000_000)
        let entries = SampleDomainsColumn.decode(minute?.domains ?? "")
        #expect(entries.map(\.microjoules).reduce(0, +) == 40_000_000, "\(entries)")
        #expect(entries.first { $0.domain == "dram" }?.microjoules == 10_000_000)
    }
}
