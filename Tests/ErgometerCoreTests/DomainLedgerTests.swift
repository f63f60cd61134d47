import ErgometerCore
import Testing

/// The ledger's memory stays flat however many jobs end: the last `endedJobsKept` one by one,
/// the earlier ones summed per domain, not one µJ lost in the move.
struct DomainLedgerTests {
    @Test func endedJobsBeyondTheKeptOnesAreSummedPerDomainWithNothingLost() {
        var ledger = DomainLedger(domains: [EnergyDomain(name: "cpu-package", kind: .cpuPackage), EnergyDomain(name: "dram", kind: .dram)], since: 0)
        let count = DomainLedger.endedJobsKept + 537
        var folded: [String] = []
        for job in 1...count {
            folded += ledger.jobEnded(String(job), byDomain: [UInt64(job) * 1_000, UInt64(job)])
        }
        #expect(ledger.endedJobs.count == DomainLedger.endedJobsKept)
        #expect(folded == (1...537).map(String.init), "the oldest go first, each once")
        #expect(ledger.endedJobs["537"] == nil && ledger.endedJobs["538"] == [538_000, 538])
        let foldedSum = (1...537).reduce(UInt64(0)) { $0 + UInt64($1) }
        #expect(ledger.earlierJobs == [foldedSum * 1_000, foldedSum])
        let all = (1...count).reduce(UInt64(0)) { $0 + UInt64($1) }
        let kept = ledger.endedJobs.values.reduce(UInt64(0)) { $0 + $1[1] }
        #expect(kept + ledger.earlierJobs[1] == all, "every job's energy is in one place or the other")
    }

    @Test func aResumedJobLeavesTheKeptOnesAndIsNeverSummedTwice() {
        var ledger = DomainLedger(domains: [EnergyDomain(name: "cpu-package", kind: .cpuPackage)], since: 0)
        ledger.jobEnded("1", byDomain: [5])
        #expect(ledger.resume("1") == [5])
        for job in 2...(DomainLedger.endedJobsKept + 2) { ledger.jobEnded(String(job), byDomain: [1]) }
        #expect(ledger.earlierJobs == [1], "only job 2 was summed; the resumed job 1 is its own again")
        ledger.jobEnded("1", byDomain: [7])
        #expect(ledger.endedJobs["1"] == [7] && ledger.endedJobs.count == DomainLedger.endedJobsKept)
        #expect(ledger.earlierJobs == [2])
    }
}
