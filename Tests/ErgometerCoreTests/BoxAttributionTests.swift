import ErgometerCore
import ErgometerTestSupport
import Testing

struct BoxAttributionTests {
    static let kinds: [DomainKind] = [.cpuPackage, .dram, .gpu, .gpu, .platform, .rest]

    /// 45 W package + 5 W DRAM by CPU time, a 100 W GPU used by job 1 alone, an idle 20 W GPU,
    /// a 250 W platform meter: rest = 250 − 170 = 80 W, by each job's share of the components.
    @Test func eachDomainFollowsItsOwnWeights() {
        let split = BoxAttribution.split(
            kinds: Self.kinds, energy: [45_000_000, 5_000_000, 100_000_000, 20_000_000, 250_000_000, 0], seconds: 1,
            jobCPUMicroseconds: [750_000, 250_000], busyCPUMicroseconds: 1_000_000, gpuUse: [nil, nil, GPUDomainUse(jobs: [0, 9_000_000]), nil, nil, nil],
            cpuIdleWatts: 0, idleWatts: [0, 0, 0, 20, 0, 40], policy: .separate)
        #expect(split.energy[5] == 80_000_000)
        #expect(split.componentsBeyondPlatform == 0)
        // CPU domains 3:1 by CPU time, each domain on its own.
        #expect([split.job(0, domain: 0), split.job(1, domain: 0)] == [33_750_000, 11_250_000])
        #expect([split.job(0, domain: 1), split.job(1, domain: 1)] == [3_750_000, 1_250_000])
        // The used GPU to job 1; the idle one to idle.
        #expect([split.job(0, domain: 2), split.job(1, domain: 2)] == [0, 100_000_000])
        #expect(split.idle[3] == 20_000_000 && split.system[3] == 0)
        // rest: 40 W idle (separate); the other 40 J by what each used of the components (job 0
        // 37.5 J, job 1 112.5 J; the idle GPU's 20 J belong to nobody): 10 J and 30 J.
        #expect(split.idle[5] == 40_000_000)
        #expect(split.system[5] == 0)
        #expect(split.job(0, domain: 5) == 10_000_000)
        #expect(split.job(1, domain: 5) == 30_000_000)
        #expect(split.system[4] == 0 && split.idle[4] == 0 && split.job(0, domain: 4) == 0, "the platform is measured, not attributed")
    }

    @Test func aGPUNobodyRunsOnIsSystemAboveIdle() {
        let split = BoxAttribution.split(
            kinds: [.cpuPackage, .dram, .gpu], energy: [1, 0, 70_000_000], seconds: 2, jobCPUMicroseconds: [5], busyCPUMicroseconds: 5,
            gpuUse: [], cpuIdleWatts: 0, idleWatts: [0, 0, 15], policy: .proportional)
        #expect(split.system[2] == 40_000_000 && split.idle[2] == 30_000_000 && split.job(0, domain: 2) == 0)
    }

    /// An NVML-seen GPU: 60 % and 30 % SM for two jobs and 10 % for a process outside every
    /// job split its 90 J above a 10 W idle 6:3:1; the same GPU with no process at all is idle.
    @Test func aGPUWhoseProcessesAreAllSeenSplitsByThemAndIsIdleWithoutThem() {
        let kinds: [DomainKind] = [.cpuPackage, .dram, .gpu]
        let used = BoxAttribution.split(
            kinds: kinds, energy: [0, 0, 100_000_000], seconds: 1, jobCPUMicroseconds: [0, 0], busyCPUMicroseconds: 0,
            gpuUse: [nil, nil, GPUDomainUse(jobs: [60, 30], outside: 10, seesEveryProcess: true)], cpuIdleWatts: 0,
            idleWatts: [0, 0, 10], policy: .separate)
        #expect([used.job(0, domain: 2), used.job(1, domain: 2), used.system[2], used.idle[2]] == [54_000_000, 27_000_000, 9_000_000, 10_000_000])
        let unused = BoxAttribution.split(
            kinds: kinds, energy: [0, 0, 100_000_000], seconds: 1, jobCPUMicroseconds: [0, 0], busyCPUMicroseconds: 0,
            gpuUse: [nil, nil, GPUDomainUse(jobs: [0, 0], seesEveryProcess: true)], cpuIdleWatts: 0, idleWatts: [0, 0, 10], policy: .separate)
        #expect(unused.idle[2] == 100_000_000 && unused.system[2] == 0)
    }

    @Test func componentsAbovePlatformClampRestAtZero() {
        let split = BoxAttribution.split(
            kinds: Self.kinds, energy: [100, 100, 100, 100, 300, 0], seconds: 1, jobCPUMicroseconds: [1], busyCPUMicroseconds: 1,
            gpuUse: [], cpuIdleWatts: 0, idleWatts: [0, 0, 0, 0, 0, 0], policy: .separate)
        #expect(split.energy[5] == 0)
        #expect(split.componentsBeyondPlatform == 100)
    }

    /// 20,000 random ticks: every domain's buckets sum to its energy exactly (rest worked out
    /// here, independently), every job's CPU-domain total equals the single host split of the
    /// CPU energy, and no bucket is larger than its domain.
    @Test func bucketsSumToEachDomainExactly() {
        var random = SplitMix64(seed: 20_261_202)
        for _ in 0..<20_000 {
            let jobs = Int.random(in: 0...6, using: &random)
            var energy = Self.kinds.map { _ in UInt64.random(in: 0...400_000_000, using: &random) }
            energy[5] = 0
            let cpu = (0..<jobs).map { _ in UInt64.random(in: 0...2_000_000, using: &random) }
            let busy = cpu.reduce(0, +) + UInt64.random(in: 0...1_000_000, using: &random)
            // A DRM-seen GPU (jobs only) and an NVML-seen one (jobs, processes outside, or none).
            let drm = GPUDomainUse(jobs: (0..<jobs).map { _ in UInt64.random(in: 0...3, using: &random) })
            let nvml = GPUDomainUse(
                jobs: (0..<jobs).map { _ in UInt64.random(in: 0...3, using: &random) }, outside: UInt64.random(in: 0...2, using: &random),
                seesEveryProcess: true)
            let gpu: [GPUDomainUse?] = [nil, nil, drm, Bool.random(using: &random) ? nvml : nil, nil, nil]
            let idle = Self.kinds.map { _ in Double.random(in: 0...60, using: &random) }
            let policy: IdlePolicy = Bool.random(using: &random) ? .separate : .proportional
            let cpuIdle = Double.random(in: 0...60, using: &random)
            let split = BoxAttribution.split(
                kinds: Self.kinds, energy: energy, seconds: 1, jobCPUMicroseconds: cpu, busyCPUMicroseconds: busy, gpuUse: gpu,
                cpuIdleWatts: cpuIdle, idleWatts: idle, policy: policy)
            let components = energy[0] + energy[1] + energy[2] + energy[3]
            let rest = energy[4] > components ? energy[4] - components : 0
            for domain in [0, 1, 2, 3, 5] {
                let expected = domain == 5 ? rest : energy[domain]
                let jobsSum = (0..<jobs).reduce(UInt64(0)) { $0 + split.job($1, domain: domain) }
                #expect(jobsSum + split.system[domain] + split.idle[domain] == expected, "domain \(domain)")
                for job in 0..<jobs { #expect(split.jobIdleShares[job * 6 + domain] <= split.job(job, domain: domain)) }
            }
            let host = Attribution.split(
                energyMicrojoules: energy[0] + energy[1], seconds: 1, jobCPUMicroseconds: cpu, busyCPUMicroseconds: busy, idleWatts: cpuIdle,
                policy: policy)
            for job in 0..<jobs { #expect(split.job(job, domain: 0) + split.job(job, domain: 1) == host.jobs[job]) }
            #expect(split.system[0] + split.system[1] == host.system && split.idle[0] + split.idle[1] == host.idle)
        }
    }
}
