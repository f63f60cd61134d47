/// One tick of the whole box split per domain (DESIGN.md, "Attribution, per domain, per tick").
///
/// - CPU domains (`cpu-package`, `dram`) share one weight, CPU time: their summed energy is split
///   by `Attribution.split` exactly as a single host figure was, and each bucket is then cut
///   into the domains (largest remainder on each bucket's size, so every domain's buckets sum
///   to its own energy and every bucket to its share: exact on both axes).
/// - Each GPU domain is split by its own weights (`GPUDomainUse`: the jobs' SM utilization or
///   engine time on it, and that of processes outside every job, which is `system`'s) and its
///   own idle power. With no use at all: where every process is seen (NVML) it is all `idle`;
///   where only the jobs' processes are (DRM), energy above idle goes to `system`, the rest idle.
/// - `rest` = platform − Σ components (clamped at zero, the excess reported), split by each
///   job's share of the components' energy this tick, with the rest domain's own idle power.
/// - `platform` and `other` domains are measured, never attributed.
///
/// Buckets are flat arrays, job-major (`jobs[job * domainCount + domain]`), so a tick of 100
/// jobs allocates a handful of arrays and hashes nothing.
public struct BoxAttribution: Equatable, Sendable {
    public var domainCount: Int
    public var jobs: [UInt64]
    /// The idle-power part of each job's energy (proportional policy), same layout as `jobs`.
    public var jobIdleShares: [UInt64]
    public var system: [UInt64]
    public var idle: [UInt64]
    /// The energy of each domain this tick (with `rest` filled in): the figure the buckets sum to.
    public var energy: [UInt64]
    /// How far the components exceeded the platform meter this tick (0 when they did not).
    public var componentsBeyondPlatform: UInt64

    public func job(_ job: Int, domain: Int) -> UInt64 { jobs[job * domainCount + domain] }

    /// The job's energy over every attributed domain this tick.
    public func jobTotal(_ job: Int) -> UInt64 {
        var sum: UInt64 = 0
        for domain in 0..<domainCount { sum += jobs[job * domainCount + domain] }
        return sum
    }

    /// - Parameters:
    ///   - kinds: each domain's kind, in the order of `energy`; at most one `rest`, computed here.
    ///   - energy: each domain's energy this tick, µJ (the value at a `rest` position is ignored).
    ///   - jobCPUMicroseconds / busyCPUMicroseconds: the CPU weights, as `Attribution.split`.
    ///   - gpuUse: for each domain, who used it (nil: not a GPU, or no use seen by DRM).
    ///   - idleWatts: each domain's idle power; the CPU domains use `cpuIdleWatts` together.
    public static func split(
        kinds: [DomainKind], energy inputEnergy: [UInt64], seconds: Double, jobCPUMicroseconds: [UInt64],
        busyCPUMicroseconds: UInt64, gpuUse: [GPUDomainUse?], cpuIdleWatts: Double, idleWatts: [Double], policy: IdlePolicy
    ) -> BoxAttribution {
        let domainCount = kinds.count
        let jobCount = jobCPUMicroseconds.count
        var result = BoxAttribution(
            domainCount: domainCount, jobs: [UInt64](repeating: 0, count: jobCount * domainCount),
            jobIdleShares: [UInt64](repeating: 0, count: jobCount * domainCount),
            system: [UInt64](repeating: 0, count: domainCount), idle: [UInt64](repeating: 0, count: domainCount),
            energy: inputEnergy, componentsBeyondPlatform: 0)

        // CPU domains: one split of their sum, then cut per domain.
        var cpuDomains: [Int] = []
        var cpuEnergy: UInt64 = 0
        for (index, kind) in kinds.enumerated() where kind == .cpuPackage || kind == .dram {
            cpuDomains.append(index)
            cpuEnergy += inputEnergy[index]
        }
        if !cpuDomains.isEmpty {
            let tick = Attribution.split(
                energyMicrojoules: cpuEnergy, seconds: seconds, jobCPUMicroseconds: jobCPUMicroseconds,
                busyCPUMicroseconds: busyCPUMicroseconds, idleWatts: cpuIdleWatts, policy: policy)
            result.cut(tick, into: cpuDomains, energy: inputEnergy)
        }

        // GPUs, each by its own weights.
        for (index, kind) in kinds.enumerated() where kind == .gpu {
            let use = gpuUse.indices.contains(index) ? gpuUse[index] : nil
            let used = use.map { $0.jobs.reduce($0.outside, +) } ?? 0
            if let use, used > 0 {
                let tick = Attribution.split(
                    energyMicrojoules: inputEnergy[index], seconds: seconds, jobCPUMicroseconds: use.jobs, busyCPUMicroseconds: used,
                    idleWatts: idleWatts[index], policy: policy)
                result.cut(tick, into: [index], energy: inputEnergy)
            } else if use?.seesEveryProcess == true {
                result.idle[index] = inputEnergy[index]  // no process on it: idle
            } else {
                // No job seen on it by DRM: the energy above its idle power is system's
                // (something outside every job used it), the rest idle.
                let budget = max(0, idleWatts[index] * seconds * 1e6)
                let idleEnergy = budget >= Double(inputEnergy[index]) ? inputEnergy[index] : UInt64(budget.rounded())
                result.system[index] = inputEnergy[index] - idleEnergy
                result.idle[index] = idleEnergy
            }
        }

        // rest = platform − components, split by each job's share of the components.
        if let restIndex = kinds.firstIndex(of: .rest) {
            var platform: UInt64 = 0
            var components: UInt64 = 0
            for (index, kind) in kinds.enumerated() {
                switch kind {
                case .platform: platform += inputEnergy[index]
                case .cpuPackage, .dram, .gpu: components += inputEnergy[index]
                case .rest, .other: break
                }
            }
            let rest = platform >= components ? platform - components : 0
            result.componentsBeyondPlatform = components > platform ? components - platform : 0
            result.energy[restIndex] = rest
            var jobShares = [UInt64](repeating: 0, count: jobCount)
            var attributed: UInt64 = 0  // jobs + system over the components
            for job in 0..<jobCount {
                jobShares[job] = result.jobTotal(job)
                attributed += jobShares[job]
            }
            for (index, kind) in kinds.enumerated() where kind == .cpuPackage || kind == .dram || kind == .gpu {
                attributed += result.system[index]
            }
            let tick = Attribution.split(
                energyMicrojoules: rest, seconds: seconds, jobCPUMicroseconds: jobShares, busyCPUMicroseconds: attributed,
                idleWatts: idleWatts[restIndex], policy: policy)
            result.cut(tick, into: [restIndex], energy: result.energy)
        }
        return result
    }

    /// Writes one split's buckets into `domains`, cutting each bucket per domain by largest
    /// remainder on the bucket sizes: domain d's buckets sum to energy[d], and a bucket's parts
    /// to the bucket (each part is at most what is left of its bucket, so none goes negative).
    private mutating func cut(_ tick: TickAttribution, into domains: [Int], energy: [UInt64]) {
        let jobCount = tick.jobs.count
        // Buckets in one array: system, idle, then the jobs.
        var left = [tick.system, tick.idle] + tick.jobs
        var idleLeft = tick.jobIdleShares
        for (position, domain) in domains.enumerated() {
            let parts = position == domains.count - 1 ? left : Attribution.largestRemainder(energy[domain], weights: left)
            system[domain] = parts[0]
            idle[domain] = parts[1]
            for job in 0..<jobCount {
                let part = parts[job + 2]
                jobs[job * domainCount + domain] = part
                // The idle share goes with the energy, in the same proportion.
                let bucket = left[job + 2]
                let idlePart = bucket == 0 ? 0 : UInt64((Double(idleLeft[job]) * Double(part) / Double(bucket)).rounded())
                let idleTaken = min(idlePart, idleLeft[job], part)
                jobIdleShares[job * domainCount + domain] = position == domains.count - 1 ? min(idleLeft[job], part) : idleTaken
                idleLeft[job] -= jobIdleShares[job * domainCount + domain]
            }
            for index in left.indices { left[index] -= parts[index] }
        }
    }
}

/// Who used one GPU domain over a tick: the attribution's weights for it.
public struct GPUDomainUse: Equatable, Sendable {
    /// Each job's use (SM utilization, or DRM engine ns), in the order of the jobs.
    public var jobs: [UInt64]
    /// Use by processes outside every job: `system`'s.
    public var outside: UInt64
    /// Whether every process on the GPU is seen (NVML lists them): then no use is `idle`.
    public var seesEveryProcess: Bool

    public init(jobs: [UInt64], outside: UInt64 = 0, seesEveryProcess: Bool = false) {
        self.jobs = jobs
        self.outside = outside
        self.seesEveryProcess = seesEveryProcess
    }
}
