/// How idle power is charged (DESIGN.md, "Attribution").
public enum IdlePolicy: String, Codable, Sendable, CaseIterable {
    /// Idle energy is split by CPU-time share like active energy: a job alone on the box pays
    /// for the box.
    case proportional
    /// Idle energy stays in the `idle` bucket; jobs pay only for the power above idle.
    case separate
}

/// The energy of one tick split into integer microjoule buckets: one per active job, `system`
/// (busy CPU time outside every job) and `idle`. The buckets always sum to the measured delta.
public struct TickAttribution: Equatable, Sendable {
    public var jobs: [String: UInt64]
    public var system: UInt64
    public var idle: UInt64
    /// The part of each job's energy that was idle power (proportional policy); included in `jobs`.
    public var jobIdleShares: [String: UInt64]

    public init(jobs: [String: UInt64] = [:], system: UInt64 = 0, idle: UInt64 = 0, jobIdleShares: [String: UInt64] = [:]) {
        self.jobs = jobs
        self.system = system
        self.idle = idle
        self.jobIdleShares = jobIdleShares
    }

    /// Sum of every bucket; equals the tick's measured energy.
    public var totalMicrojoules: UInt64 { jobs.values.reduce(system + idle, +) }
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
public enum Attribution {
    public static func split(
        energyMicrojoules: UInt64,
        seconds: Double,
        jobCPUMicroseconds: [String: UInt64],
        busyCPUMicroseconds: UInt64,
        idleWatts: Double,
        policy: IdlePolicy
    ) -> TickAttribution {
        let jobTotal = jobCPUMicroseconds.values.reduce(0, +)
        let busy = max(busyCPUMicroseconds, jobTotal)
        guard busy > 0 else { return TickAttribution(jobs: jobCPUMicroseconds.mapValues { _ in 0 }, idle: energyMicrojoules) }

        let idleBudget = max(0, idleWatts * seconds * 1e6)
        let idleEnergy = idleBudget >= Double(energyMicrojoules) ? energyMicrojoules : UInt64(idleBudget.rounded())
        let activeEnergy = energyMicrojoules - idleEnergy

        // Weights: each job's CPU time, and system's busy time outside the jobs. "" keys system.
        var weights = jobCPUMicroseconds
        weights[systemKey] = busy - jobTotal
        var shares = largestRemainder(activeEnergy, weights: weights)
        var idleBucket: UInt64 = 0
        var idleShares: [String: UInt64] = [:]
        switch policy {
        case .separate:
            idleBucket = idleEnergy
        case .proportional:
            idleShares = largestRemainder(idleEnergy, weights: weights)
            for (key, amount) in idleShares { shares[key, default: 0] += amount }
            idleShares.removeValue(forKey: systemKey)
        }
        let system = shares.removeValue(forKey: systemKey) ?? 0
        return TickAttribution(jobs: shares, system: system, idle: idleBucket, jobIdleShares: idleShares)
    }

    /// The key under which system time travels with the jobs' during a split.
    static let systemKey = ""

    /// Splits `amount` in proportion to `weights`: each key gets ⌊amount × w / W⌋ and the units
    /// left over go one each to the largest remainders (ties: the smaller key first, so the
    /// result does not depend on dictionary order). Σ result = amount exactly.
    public static func largestRemainder(_ amount: UInt64, weights: [String: UInt64]) -> [String: UInt64] {
        let total = weights.values.reduce(0, +)
        guard total > 0 else { return weights.mapValues { _ in 0 } }
        var result: [String: UInt64] = [:]
        var remainders: [(key: String, remainder: UInt64)] = []
        var assigned: UInt64 = 0
        for (key, weight) in weights {
            // amount × weight can exceed 64 bits: divide the 128-bit product.
            let product = amount.multipliedFullWidth(by: weight)
            let (quotient, remainder) = total.dividingFullWidth(product)
            result[key] = quotient
            assigned += quotient
            remainders.append((key, remainder))
        }
        remainders.sort { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.key < $1.key }
        var leftover = amount - assigned
        var index = 0
        while leftover > 0 {
            result[remainders[index].key, default: 0] += 1
            leftover -= 1
            index += 1
        }
        return result
    }
}
