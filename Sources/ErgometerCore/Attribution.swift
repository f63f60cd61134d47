/// How idle power is charged (DESIGN.md, "Attribution").
public enum IdlePolicy: String, Codable, Sendable, CaseIterable {
    /// Idle energy is split by CPU-time share like active energy: a job alone on the box pays
    /// for the box.
    case proportional
    /// Idle energy stays in the `idle` bucket; jobs pay only for the power above idle.
    case separate
}

/// The energy of one tick split into integer microjoule buckets: one per active job (in the
/// order the jobs' CPU times were given), `system` (busy CPU time outside every job) and `idle`.
/// The buckets always sum to the measured delta.
public struct TickAttribution: Equatable, Sendable {
    public var jobs: [UInt64]
    public var system: UInt64
    public var idle: UInt64
    /// The part of each job's energy that was idle power (proportional policy; all zero under
    /// separate); included in `jobs`, same order.
    public var jobIdleShares: [UInt64]

    public init(jobs: [UInt64] = [], system: UInt64 = 0, idle: UInt64 = 0, jobIdleShares: [UInt64]? = nil) {
        self.jobs = jobs
        self.system = system
        self.idle = idle
        self.jobIdleShares = jobIdleShares ?? Array(repeating: 0, count: jobs.count)
    }

    /// Sum of every bucket; equals the tick's measured energy.
    public var totalMicrojoules: UInt64 { jobs.reduce(system + idle, +) }
}

/// Splits one tick's host energy among jobs, system and idle (DESIGN.md):
///
///     E_idle   = clamp(P_idle × Δt, 0, ΔE)
///     E_active = ΔE − E_idle
///     job share   = job CPU time / all busy CPU time
///     system share = (busy CPU time − Σ job CPU time) / all busy CPU time
///
/// Each split uses largest-remainder rounding on exact integer arithmetic, so the buckets sum to
/// ΔE exactly. When no CPU was busy, the whole delta is idle. When the jobs' cgroup counters add
/// up to more than /proc/stat's busy time (the two are read microseconds apart), the jobs'
/// own total is the denominator and system gets nothing.
///
/// Jobs are positions, not names: the sampler's tick walks its jobs in one order, and a split
/// of 100 jobs hashes no string (it runs on every tick).
public enum Attribution {
    public static func split(
        energyMicrojoules: UInt64,
        seconds: Double,
        jobCPUMicroseconds: [UInt64],
        busyCPUMicroseconds: UInt64,
        idleWatts: Double,
        policy: IdlePolicy
    ) -> TickAttribution {
        let jobTotal = jobCPUMicroseconds.reduce(0, +)
        let busy = max(busyCPUMicroseconds, jobTotal)
        let zeros = [UInt64](repeating: 0, count: jobCPUMicroseconds.count)
        guard busy > 0 else { return TickAttribution(jobs: zeros, idle: energyMicrojoules, jobIdleShares: zeros) }

        let idleBudget = max(0, idleWatts * seconds * 1e6)
        let idleEnergy = idleBudget >= Double(energyMicrojoules) ? energyMicrojoules : UInt64(idleBudget.rounded())
        let activeEnergy = energyMicrojoules - idleEnergy

        // Weights: system's busy time outside the jobs first (it wins ties), then each job's.
        var weights = [UInt64]()
        weights.reserveCapacity(jobCPUMicroseconds.count + 1)
        weights.append(busy - jobTotal)
        weights.append(contentsOf: jobCPUMicroseconds)
        var shares = largestRemainder(activeEnergy, weights: weights)
        var idleBucket: UInt64 = 0
        var idleShares = zeros
        switch policy {
        case .separate:
            idleBucket = idleEnergy
        case .proportional:
            let idleSplit = largestRemainder(idleEnergy, weights: weights)
            for index in shares.indices { shares[index] += idleSplit[index] }
            for index in idleShares.indices { idleShares[index] = idleSplit[index + 1] }
        }
        let system = shares.removeFirst()
        return TickAttribution(jobs: shares, system: system, idle: idleBucket, jobIdleShares: idleShares)
    }

    /// Splits `amount` in proportion to `weights`: each position gets ⌊amount × w / W⌋ and the
    /// units left over go one each to the largest remainders (ties: the lower position first,
    /// so the result is deterministic). Σ result = amount exactly.
    public static func largestRemainder(_ amount: UInt64, weights: [UInt64]) -> [UInt64] {
        let total = weights.reduce(0, +)
        var result = [UInt64](repeating: 0, count: weights.count)
        guard total > 0 else { return result }
        var remainders: [(remainder: UInt64, index: Int)] = []
        remainders.reserveCapacity(weights.count)
        var assigned: UInt64 = 0
        for (index, weight) in weights.enumerated() {
            // amount × weight can exceed 64 bits: divide the 128-bit product.
            let (quotient, remainder) = total.dividingFullWidth(amount.multipliedFullWidth(by: weight))
            result[index] = quotient
            assigned += quotient
            if remainder > 0 { remainders.append((remainder, index)) }
        }
        var leftover = amount - assigned
        guard leftover > 0 else { return result }
        // Fewer units are left than positions with a remainder: only those need ordering.
        remainders.sort { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.index < $1.index }
        var next = 0
        while leftover > 0 {
            result[remainders[next].index] += 1
            leftover -= 1
            next += 1
        }
        return result
    }
}
