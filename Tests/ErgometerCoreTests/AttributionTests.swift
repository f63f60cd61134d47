import ErgometerCore
import ErgometerTestSupport
import Testing

struct AttributionTests {
    @Test func aJobAloneOnTheBoxPaysForTheBoxUnderProportional() {
        let split = Attribution.split(
            energyMicrojoules: 50_000_000, seconds: 1, jobCPUMicroseconds: ["a": 1_000_000], busyCPUMicroseconds: 1_000_000,
            idleWatts: 20, policy: .proportional)
        #expect(split == TickAttribution(jobs: ["a": 50_000_000], system: 0, idle: 0, jobIdleShares: ["a": 20_000_000]))
    }

    @Test func separatePolicyKeepsIdleApart() {
        let split = Attribution.split(
            energyMicrojoules: 50_000_000, seconds: 1, jobCPUMicroseconds: ["a": 1_000_000], busyCPUMicroseconds: 1_000_000,
            idleWatts: 20, policy: .separate)
        #expect(split == TickAttribution(jobs: ["a": 30_000_000], system: 0, idle: 20_000_000))
    }

    @Test func activeEnergyFollowsCPUShares() {
        // 3 s of job a, 1 s of job b, 1 s outside any job, in a 2 s tick on a many-core box.
        let split = Attribution.split(
            energyMicrojoules: 100_000_000, seconds: 2, jobCPUMicroseconds: ["a": 3_000_000, "b": 1_000_000],
            busyCPUMicroseconds: 5_000_000, idleWatts: 25, policy: .separate)
        #expect(split.idle == 50_000_000)
        #expect(split.jobs == ["a": 30_000_000, "b": 10_000_000])
        #expect(split.system == 10_000_000)
    }

    @Test func idleAboveTheMeasuredDeltaIsClamped() {
        let split = Attribution.split(
            energyMicrojoules: 5_000_000, seconds: 1, jobCPUMicroseconds: ["a": 10], busyCPUMicroseconds: 10,
            idleWatts: 40, policy: .separate)
        #expect(split == TickAttribution(jobs: ["a": 0], system: 0, idle: 5_000_000, jobIdleShares: [:]))
    }

    @Test func noBusyTimeIsAllIdle() {
        let split = Attribution.split(
            energyMicrojoules: 7, seconds: 1, jobCPUMicroseconds: ["a": 0], busyCPUMicroseconds: 0, idleWatts: 0,
            policy: .proportional)
        #expect(split == TickAttribution(jobs: ["a": 0], system: 0, idle: 7))
    }

    @Test func jobsAheadOfProcStatGetEverythingAndSystemNothing() {
        let split = Attribution.split(
            energyMicrojoules: 10, seconds: 1, jobCPUMicroseconds: ["a": 600, "b": 600], busyCPUMicroseconds: 1_000,
            idleWatts: 0, policy: .proportional)
        #expect(split.system == 0)
        #expect(split.jobs == ["a": 5, "b": 5])
    }

    @Test func largestRemainderIsExactAndDeterministic() {
        let shares = Attribution.largestRemainder(10, weights: ["a": 1, "b": 1, "c": 1])
        #expect(shares == ["a": 4, "b": 3, "c": 3])  // the leftover unit goes to the smallest key on a tie
        let huge = Attribution.largestRemainder(UInt64.max, weights: ["a": UInt64.max / 2, "b": UInt64.max / 2])
        #expect(huge.values.reduce(0, &+) == UInt64.max)
    }

    /// For random ticks (energies, CPU shares, idle power, policies), the buckets always sum
    /// exactly to the measured delta, and no job gets energy without CPU time.
    @Test func bucketsSumExactlyToTheDelta() {
        var random = SplitMix64(seed: 0x5EED_E6E0)
        for _ in 0..<20_000 {
            let energy = random.next() % (random.next() % 2 == 0 ? 1_000 : 10_000_000_000_000)
            let seconds = Double(random.next() % 60_000 + 1) / 1000
            var jobs: [String: UInt64] = [:]
            for index in 0..<Int(random.next() % 12) {
                jobs["job-\(index)"] = random.next() % 4 == 0 ? 0 : random.next() % 64_000_000
            }
            let jobTotal = jobs.values.reduce(0, +)
            let busy = random.next() % 3 == 0 ? jobTotal / 2 : jobTotal + random.next() % 8_000_000
            let idleWatts = Double(random.next() % 4000) / 10
            let policy: IdlePolicy = random.next() % 2 == 0 ? .proportional : .separate
            let split = Attribution.split(
                energyMicrojoules: energy, seconds: seconds, jobCPUMicroseconds: jobs, busyCPUMicroseconds: busy,
                idleWatts: idleWatts, policy: policy)
            #expect(split.totalMicrojoules == energy)
            #expect(Set(split.jobs.keys) == Set(jobs.keys))
            for (job, cpu) in jobs where cpu == 0 { #expect(split.jobs[job] == 0) }
            if policy == .proportional && max(busy, jobTotal) > 0 { #expect(split.idle == 0) }
        }
    }
}
