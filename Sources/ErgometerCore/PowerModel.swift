/// The power estimate used when no RAPL counter can be read (VMs, most clouds):
///
///     P = P_idle + (P_max − P_idle) × utilization
///
/// where utilization is the busy ratio of the CPUs this machine sees. P_max is the TDP of the
/// CPUs visible here (see `CPUPowerTable`), P_idle a fraction of it unless configured.
public struct PowerModel: Equatable, Sendable, Codable {
    public var idleWatts: Double
    public var maxWatts: Double
    /// Where the two figures came from, printed next to every estimate.
    public var basis: String

    /// Fraction of TDP drawn when idle, when neither configured nor known. Measured server CPUs
    /// idle between roughly 15% and 35% of TDP; Cloud Carbon Footprint's per-vCPU averages
    /// (0.74 W idle, 3.5 W busy) give 21%.
    public static let defaultIdleFraction = 0.21

    public init(idleWatts: Double, maxWatts: Double, basis: String) {
        precondition(maxWatts >= idleWatts && idleWatts >= 0, "power model needs 0 <= idle <= max")
        self.idleWatts = idleWatts
        self.maxWatts = maxWatts
        self.basis = basis
    }

    /// Estimated power at a busy ratio; the ratio is clamped to [0, 1].
    public func watts(utilization: Double) -> Double {
        let clamped = min(max(utilization, 0), 1)
        return idleWatts + (maxWatts - idleWatts) * clamped
    }

    enum CodingKeys: String, CodingKey {
        case idleWatts = "idle_watts", maxWatts = "max_watts", basis
    }

    /// Chooses the model for a machine.
    ///
    /// - A configured TDP wins (`tdpWatts`, for all sockets together).
    /// - Else a known CPU model: TDP × sockets on bare metal; in a VM only this machine's share,
    ///   TDP × logical CPUs / hardware threads per socket.
    /// - Else Cloud Carbon Footprint's average coefficients per logical CPU.
    public static func forMachine(cpu: CPUInfo, tdpWatts: Double? = nil, idleWatts: Double? = nil) -> PowerModel {
        let maxWatts: Double
        var basis: String
        if let tdpWatts {
            maxWatts = tdpWatts
            basis = "configured TDP \(formatWatts(tdpWatts))"
        } else if let spec = CPUPowerTable.lookup(model: cpu.model) {
            if cpu.virtualized {
                let share = min(Double(cpu.logicalCPUs) / Double(spec.threadsPerSocket), Double(max(cpu.sockets, 1)))
                maxWatts = spec.tdpWatts * share
                basis = "TDP \(formatWatts(spec.tdpWatts)) of \(spec.pattern) × \(cpu.logicalCPUs)/\(spec.threadsPerSocket) threads (VM share)"
            } else {
                maxWatts = spec.tdpWatts * Double(max(cpu.sockets, 1))
                basis = "TDP \(formatWatts(spec.tdpWatts)) of \(spec.pattern) × \(max(cpu.sockets, 1)) socket(s)"
            }
        } else {
            let perCPU = CPUPowerTable.unknownModelWattsPerLogicalCPU
            let threads = Double(max(cpu.logicalCPUs, 1))
            let idle = idleWatts ?? perCPU.idle * threads
            return PowerModel(
                idleWatts: min(idle, perCPU.busy * threads),
                maxWatts: perCPU.busy * threads,
                basis: "CPU model \"\(cpu.model)\" not in the TDP table: \(perCPU.idle) W idle, \(perCPU.busy) W busy per logical CPU (Cloud Carbon Footprint averages) × \(cpu.logicalCPUs); set --tdp-watts for a better estimate"
            )
        }
        let idle = idleWatts ?? maxWatts * defaultIdleFraction
        if idleWatts == nil { basis += ", idle \(Int(defaultIdleFraction * 100))% of it" }
        return PowerModel(idleWatts: min(idle, maxWatts), maxWatts: maxWatts, basis: basis)
    }

    static func formatWatts(_ watts: Double) -> String {
        watts == watts.rounded() ? "\(Int(watts)) W" : "\(watts) W"
    }
}

/// Thermal design power of common training-box CPUs, keyed by a substring of `model name`.
///
/// Small on purpose: a wrong entry is worse than none, and `--tdp-watts` covers the rest.
/// Figures are the vendors' published TDP (default TDP for configurable parts).
public enum CPUPowerTable {
    public struct Entry: Sendable, Equatable {
        public var pattern: String
        public var tdpWatts: Double
        public var threadsPerSocket: Int
    }

    public static let entries: [Entry] = [
        Entry(pattern: "EPYC 9654", tdpWatts: 360, threadsPerSocket: 192),
        Entry(pattern: "EPYC 9554", tdpWatts: 360, threadsPerSocket: 128),
        Entry(pattern: "EPYC 7763", tdpWatts: 280, threadsPerSocket: 128),
        Entry(pattern: "EPYC 7742", tdpWatts: 225, threadsPerSocket: 128),
        Entry(pattern: "EPYC 7543", tdpWatts: 225, threadsPerSocket: 64),
        Entry(pattern: "EPYC 7R13", tdpWatts: 225, threadsPerSocket: 96),
        Entry(pattern: "Xeon(R) Platinum 8480", tdpWatts: 350, threadsPerSocket: 112),
        Entry(pattern: "Xeon(R) Platinum 8380", tdpWatts: 270, threadsPerSocket: 80),
        Entry(pattern: "Xeon(R) Platinum 8375C", tdpWatts: 300, threadsPerSocket: 64),
        Entry(pattern: "Xeon(R) Platinum 8259CL", tdpWatts: 210, threadsPerSocket: 48),
        Entry(pattern: "Xeon(R) Gold 6338", tdpWatts: 205, threadsPerSocket: 64),
        Entry(pattern: "Xeon(R) Gold 6248", tdpWatts: 150, threadsPerSocket: 40),
        Entry(pattern: "Xeon(R) CPU E5-2686 v4", tdpWatts: 145, threadsPerSocket: 36),
        Entry(pattern: "Threadripper PRO 5995WX", tdpWatts: 280, threadsPerSocket: 128),
        Entry(pattern: "Ryzen 9 7950X", tdpWatts: 170, threadsPerSocket: 32),
        Entry(pattern: "Ryzen 9 5950X", tdpWatts: 105, threadsPerSocket: 32),
        Entry(pattern: "Core(TM) i9-13900K", tdpWatts: 125, threadsPerSocket: 32),
        Entry(pattern: "Core(TM) i7-12700K", tdpWatts: 125, threadsPerSocket: 20),
        Entry(pattern: "Core(TM) i5-7400", tdpWatts: 65, threadsPerSocket: 4),
    ]

    /// Cloud Carbon Footprint's average coefficients for an unknown CPU, watts per logical CPU.
    public static let unknownModelWattsPerLogicalCPU = (idle: 0.74, busy: 3.5)

    /// The first entry whose pattern occurs in `model`.
    public static func lookup(model: String) -> Entry? {
        entries.first { model.contains($0.pattern) }
    }
}
