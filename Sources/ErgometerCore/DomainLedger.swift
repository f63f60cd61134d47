/// Every joule measured since the ledger began, per domain, and where it went (DESIGN.md,
/// "the ledger"): `measured` is the sum of the meters' deltas, recorded from the readings;
/// `system` and `idle`, and the buckets of the jobs that ended, from the attribution (a running
/// job keeps its own, updated in place on the tick). The two are kept apart so a test can
/// compare them: neither is derived from the other.
public struct DomainLedger: Equatable, Sendable {
    /// When this ledger period began (Unix seconds): ergod's first start in this boot.
    public var since: Double
    public private(set) var domains: [EnergyDomain]
    public private(set) var measured: [UInt64]
    public private(set) var system: [UInt64]
    public private(set) var idle: [UInt64]
    /// Ticks where the components drew more than the platform meter, and by how much in all.
    public private(set) var componentsBeyondPlatformTicks: UInt64 = 0
    public private(set) var componentsBeyondPlatformMicrojoules: UInt64 = 0

    /// Per domain, the energy of each job of this period that has ended, by job id: the most
    /// recent `endedJobsKept`; those that ended before them are summed in `earlierJobs`, so the
    /// ledger's memory stays flat however many jobs a box runs in a period.
    public private(set) var endedJobs: [String: [UInt64]] = [:]
    /// Per domain, the energy of the period's jobs that ended before the kept ones (and of those
    /// whose rows the store's retention dropped).
    public private(set) var earlierJobs: [UInt64]
    /// The kept ended jobs, oldest first (ids of jobs resumed since may linger; they are skipped).
    private var endedOrder: [String] = []
    public static let endedJobsKept = 1000

    public init(domains: [EnergyDomain], since: Double) {
        self.domains = domains
        self.since = since
        measured = [UInt64](repeating: 0, count: domains.count)
        system = measured
        idle = measured
        earlierJobs = measured
    }

    /// A tick's readings, in domain order. `rest` is worked out here from the platform and
    /// component readings (clamped at zero), not taken from the attribution.
    public mutating func recordMeasured(_ energy: [DomainEnergy]) {
        var platform: UInt64 = 0
        var components: UInt64 = 0
        var restIndex: Int?
        for (index, domain) in domains.enumerated() {
            switch domain.kind {
            case .rest:
                restIndex = index
                continue
            case .platform: platform += energy[index].microjoules
            case .cpuPackage, .dram, .gpu: components += energy[index].microjoules
            case .other: break
            }
            measured[index] += energy[index].microjoules
        }
        if let restIndex {
            if components > platform {
                componentsBeyondPlatformTicks += 1
                componentsBeyondPlatformMicrojoules += components - platform
            } else {
                measured[restIndex] += platform - components
            }
        }
    }

    /// A tick's `system` and `idle` buckets.
    public mutating func recordBuckets(_ tick: BoxAttribution) {
        for index in domains.indices {
            system[index] += tick.system[index]
            idle[index] += tick.idle[index]
        }
    }

    /// A job's buckets, per domain, once it has ended (or as the store had them at a restart).
    /// Returns the jobs that went from one by one into `earlierJobs` to make room.
    @discardableResult
    public mutating func jobEnded(_ id: String, byDomain energy: [UInt64]) -> [String] {
        if endedJobs.updateValue(energy, forKey: id) == nil { endedOrder.append(id) }
        var folded: [String] = []
        var position = 0
        while endedJobs.count > Self.endedJobsKept, position < endedOrder.count {
            let oldest = endedOrder[position]
            position += 1
            guard let energy = endedJobs.removeValue(forKey: oldest) else { continue }
            addEarlierJobs(energy)
            folded.append(oldest)
        }
        if position > 0 { endedOrder.removeFirst(position) }
        if endedOrder.count > 2 * Self.endedJobsKept { endedOrder.removeAll { endedJobs[$0] == nil } }
        return folded
    }

    /// Energy of the period's jobs known only as a sum per domain (folded, or dropped by the
    /// store's retention), in domain order.
    public mutating func addEarlierJobs(_ energy: [UInt64]) {
        for index in energy.indices where index < earlierJobs.count { earlierJobs[index] += energy[index] }
    }

    /// Takes back the buckets of a job that runs again after a restart (it keeps them itself).
    public mutating func resume(_ id: String) -> [UInt64]? {
        endedJobs.removeValue(forKey: id)
    }

    /// Σ of the `system` buckets over the attributed domains.
    public var systemTotal: UInt64 { domains.indices.reduce(0) { isAttributed($1) ? $0 + system[$1] : $0 } }
    /// Σ of the `idle` buckets over the attributed domains.
    public var idleTotal: UInt64 { domains.indices.reduce(0) { isAttributed($1) ? $0 + idle[$1] : $0 } }

    /// Continues a ledger saved at a checkpoint: figures of domains of the same name.
    public mutating func restore(
        measured savedMeasured: [String: UInt64], system savedSystem: [String: UInt64], idle savedIdle: [String: UInt64],
        componentsBeyondPlatformMicrojoules beyond: UInt64 = 0
    ) {
        for (index, domain) in domains.enumerated() {
            measured[index] = savedMeasured[domain.name] ?? 0
            system[index] = savedSystem[domain.name] ?? 0
            idle[index] = savedIdle[domain.name] ?? 0
            earlierJobs[index] = 0
        }
        endedJobs.removeAll()
        endedOrder.removeAll()
        componentsBeyondPlatformMicrojoules = beyond
    }

    /// The domains whose buckets make up the box's energy: components and `rest`.
    public func isAttributed(_ index: Int) -> Bool {
        switch domains[index].kind {
        case .cpuPackage, .dram, .gpu, .rest: true
        case .platform, .other: false
        }
    }

    /// Σ measured over the attributed domains: with a platform meter, the platform's energy plus
    /// `componentsBeyondPlatformMicrojoules` (ticks where the components drew more than it).
    public var measuredTotal: UInt64 {
        domains.indices.reduce(0) { isAttributed($1) ? $0 + measured[$1] : $0 }
    }
}
