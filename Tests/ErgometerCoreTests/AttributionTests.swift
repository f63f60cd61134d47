import ErgometerCore
import ErgometerTestSupport
import Testing

struct AttributionTests {
    @Test func aJobAloneOnTheBoxPaysForTheBoxUnderProportional() {
        let split = Attribution.split(
            energyMicrojoules: 50_000_000, seconds: 1, jobCPUMicroseconds: [1_000_000], busyCPUMicroseconds: 1_000_000,
            idleWatts: 20, policy: .proportional)
        #expect(split == TickAttribution(jobs: [50_000_000], system: 0, idle: 0, jobIdleShares: [20_000_000]))
    }

    @Test func separatePolicyKeepsIdleApart() {
        let split = Attribution.split(
            energyMicrojoules: 50_000_000, seconds: 1, jobCPUMicroseconds: [1_000_000], busyCPUMicroseconds: 1_000_000,
            idleWatts: 20, policy: .separate)
        #expect(split == TickAttribution(jobs: [30_000_000], system: 0, idle: 20_000_000))
    }

    @Test func activeEnergyFollowsCPUShares() {
        // 3 s of job a, 1 s of job b, 1 s outside any job, in a 2 s tick on a many-core box.
        let split = Attribution.split(
            energyMicrojoules: 100_000_000, seconds: 2, jobCPUMicroseconds: [3_000_000, 1_000_000],
            busyCPUMicroseconds: 5_000_000, idleWatts: 25, policy: .separate)
        #expect(split.idle == 50_000_000)
        #expect(split.jobs == [30_000_000, 10_000_000])
        #expect(split.system == 10_000_000)
    }

    @Test func idleAboveTheMeasuredDeltaIsClamped() {
        let split = Attribution.split(
            energyMicrojoules: 5_000_000, seconds: 1, jobCPUMicroseconds: [10], busyCPUMicroseconds: 10,
            idleWatts: 40, policy: .separate)
        #expect(split == TickAttribution(jobs: [0], system: 0, idle: 5_000_000, jobIdleShares: [0]))
    }

    @Test func noBusyTimeIsAllIdle() {
        let split = Attribution.split(
            energyMicrojoules: 7, seconds: 1, jobCPUMicroseconds: [0], busyCPUMicroseconds: 0, idleWatts: 0,
            policy: .proportional)
        #expect(split == TickAttribution(jobs: [0], system: 0, idle: 7))
    }

    @Test func jobsAheadOfProcStatGetEverythingAndSystemNothing() {
        let split = Attribution.split(
            energyMicrojoules: 10, seconds: 1, jobCPUMicroseconds: [600, 600], busyCPUMicroseconds: 1_000,
            idleWatts: 0, policy: .proportional)
        #expect(split.system == 0)
        #expect(split.jobs == [5, 5])
    }

    @Test func largestRemainderIsExactAndDeterministic() {
        #expect(Attribution.largestRemainder(10, weights: [1, 1, 1]) == [4, 3, 3])  // a tie: the lower position first
        #expect(Attribution.largestRemainder(10, weights: [1, 2, 3, 0]) == [2, 3, 5, 0])  // 1.67, 3.33, 5: the largest remainder
        #expect(Attribution.largestRemainder(5, weights: [0, 0]) == [0, 0])
        let huge = Attribution.largestRemainder(UInt64.max, weights: [UInt64.max / 2, UInt64.max / 2])
        #expect(huge.reduce(0, &+) == UInt64.max)
    }

    /// For random ticks (energies, CPU shares, idle power, policies), the buckets always sum
    /// exactly to the measured delta, and no job gets energy without CPU time.
    @Test func bucketsSumExactlyToTheDelta() {
        var random = SplitMix64(seed: 0x5EED_E6E0)
        for _ in 0..<20_000 {
            let energy = random.next() % (random.next() % 2 == 0 ? 1_000 : 10_000_000_000_000)
            let seconds = Double(random.next() % 60_000 + 1) / 1000
            let jobs = (0..<Int(random.next() % 12)).map { _ in random.next() % 4 == 0 ? 0 : random.next() % 64_000_000 }
            let jobTotal = jobs.reduce(0, +)
            let busy = random.next() % 3 == 0 ? jobTotal / 2 : jobTotal + random.next() % 8_000_000
            let idleWatts = Double(random.next() % 4000) / 10
            let policy: IdlePolicy = random.next() % 2 == 0 ? .proportional : .separate
            let split = Attribution.split(
                energyMicrojoules: energy, seconds: seconds, jobCPUMicroseconds: jobs, busyCPUMicroseconds: busy,
                idleWatts: idleWatts, policy: policy)
            #expect(split.totalMicrojoules == energy)
            #expect(split.jobs.count == jobs.count && split.jobIdleShares.count == jobs.count)
            for (index, cpu) in jobs.enumerated() where cpu == 0 { #expect(split.jobs[index] == 0) }
            for (share, idle) in zip(split.jobs, split.jobIdleShares) { #expect(idle <= share) }
            if policy == .proportional && max(busy, jobTotal) > 0 { #expect(split.idle == 0) }
        }
    }
}
