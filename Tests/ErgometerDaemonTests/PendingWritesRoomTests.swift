import ErgometerStore
import Testing

@testable import ErgometerDaemon

/// The room pending writes keep between checkpoints: enough for a batch like the last one, never
/// the largest there ever was (kept, that room ratcheted up over a soak's days: ~1 MiB of
/// heap in use that no job needed).
@Suite struct PendingWritesRoomTests {
    private func fill(_ pending: inout PendingWrites, samples count: Int) {
        let key = pending.seriesKey(domain: "cpu-package", source: .rapl)
        for index in 0..<count {
            pending.addEntry(key: key, microjoules: 1_000)
            _ = pending.append(JobSample(
                jobID: "7", start: Double(index), end: Double(index + 1), energyMicrojoules: 1_000, cpuMicroseconds: 500, perMinute: false,
                domains: "", maxCelsius: nil))
        }
    }

    @Test func aSmallBatchAfterALargeOneLetsTheLargeRoomGo() {
        var pending = PendingWrites()
        fill(&pending, samples: 6_000)
        pending.saved()
        #expect(pending.samples.isEmpty && pending.samples.capacity >= 6_000, "a batch like the last one grows nothing")
        fill(&pending, samples: 100)
        pending.saved()
        #expect(pending.samples.capacity < 1_000, "room for 100 samples, not 6,000: \(pending.samples.capacity)")
        fill(&pending, samples: 110)  // a little larger than the last batch: within the room kept
        #expect(pending.samples.capacity < 1_000)
    }

    @Test func aBacklogLargerThanTheKeptRoomIsLetGoOnceSaved() {
        var pending = PendingWrites()
        fill(&pending, samples: PendingWrites.keptSamples + 1)
        pending.saved()
        #expect(pending.samples.capacity == 0)
    }

    @Test func aHandedOverBatchKeepsItsSamplesWhilePendingStartsAgain() {
        var pending = PendingWrites()
        fill(&pending, samples: 300)
        let handed = pending.raw
        pending.handOver(samples: handed)
        #expect(pending.samples.isEmpty && pending.samples.capacity >= 300)
        fill(&pending, samples: 5)
        // The writer's batch is intact (its buffers were not reused) and encodes every sample.
        let written = handed.encoded(job: nil)
        #expect(written.count == 300)
        let energy = written.flatMap { SampleDomainsColumn.decode($0.domains) }.filter { $0.domain == "cpu-package" && $0.source == .rapl }
        #expect(energy.count == 300 && energy.allSatisfy { $0.microjoules == 1_000 })
        pending.handedOverFailed()
        #expect(pending.samples.count == 305 && pending.samples.first?.start == 0 && pending.samples.last?.start == 4)
    }
}
