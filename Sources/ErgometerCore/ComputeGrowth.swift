import Foundation

/// How a job's compute figures were obtained, as `ergo compare` reports them.
public enum ComputeBasis: String, Codable, Sendable {
    /// Reported by the workload itself while it ran (ErgometerClient).
    case reported
    /// Given by a person: `ergo run --processors`, or a spec file's `flops`.
    case declared
    /// Seen by ergod: the GPUs a job's processes used.
    case observed
    /// Derived: effective busy cores from measured CPU time, or FLOPs from a peak throughput.
    case estimated
}

/// One side of a comparison: compute F, processors N, wall time T, and energy when known.
public struct ComputeProfile: Sendable, Equatable {
    public var name: String
    public var flops: Double
    public var processors: Double
    public var seconds: Double
    public var energyJoules: Double?
    public var flopsBasis: ComputeBasis
    public var processorsBasis: ComputeBasis
    /// What the energy figure is: `rapl`, `model`, `mixed`, `declared` or `estimated`.
    public var energySource: String?

    public init(
        name: String, flops: Double, processors: Double, seconds: Double, energyJoules: Double?, flopsBasis: ComputeBasis,
        processorsBasis: ComputeBasis, energySource: String? = nil
    ) {
        self.name = name
        self.flops = flops
        self.processors = processors
        self.seconds = seconds
        self.energyJoules = energyJoules
        self.flopsBasis = flopsBasis
        self.processorsBasis = processorsBasis
        self.energySource = energySource
    }

    /// Per-processor throughput h = F / (N·T), FLOP/s.
    public var throughput: Double { flops / (processors * seconds) }
}

/// The compute-cost decomposition of DESIGN.md: F_B/F_A = (h_B/h_A) × (N_B/N_A) × (T_B/T_A),
/// "better hardware" × "more processors" × "running longer", each with its share of the growth
/// in log terms; and E_B/E_A = (e_B/e_A) × (F_B/F_A) when both energies are known.
public struct ComputeGrowth: Sendable, Equatable {
    /// The three factors (or their shares), keyed as the JSON output keys them.
    public struct Factors: Sendable, Equatable, Codable {
        public var hardware: Double
        public var processors: Double
        public var duration: Double

        public init(hardware: Double, processors: Double, duration: Double) {
            self.hardware = hardware
            self.processors = processors
            self.duration = duration
        }
    }

    public var computeRatio: Double
    public var factors: Factors
    /// log(factor) / log(compute ratio); nil when compute did not change (no growth to share).
    public var shares: Factors?
    public var energyRatio: Double?
    /// (E_B/F_B) / (E_A/F_A): below 1, B spent fewer joules per FLOP.
    public var energyPerFlopRatio: Double?

    /// Why two profiles cannot be compared.
    public struct InvalidProfile: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func between(_ a: ComputeProfile, _ b: ComputeProfile) throws(InvalidProfile) -> ComputeGrowth {
        for profile in [a, b] {
            for (what, value) in [("FLOPs", profile.flops), ("processors", profile.processors), ("duration", profile.seconds)]
            where !(value > 0 && value.isFinite) {
                throw InvalidProfile(description: "\(profile.name): \(what) is \(value); a comparison needs a positive figure")
            }
        }
        let processors = b.processors / a.processors
        let duration = b.seconds / a.seconds
        let computeRatio = b.flops / a.flops
        // Hardware is what is left once processors and duration are divided out, so the three
        // multiply back to the compute ratio (to the last rounding of one division).
        let hardware = computeRatio / (processors * duration)
        let factors = Factors(hardware: hardware, processors: processors, duration: duration)
        let total = log(computeRatio)
        let shares: Factors? = abs(total) < 1e-12 ? nil : Factors(
            hardware: log(hardware) / total, processors: log(processors) / total, duration: log(duration) / total)
        var energyRatio: Double?
        var perFlop: Double?
        if let ea = a.energyJoules, let eb = b.energyJoules, ea > 0, eb > 0 {
            energyRatio = eb / ea
            perFlop = eb / ea / computeRatio
        }
        return ComputeGrowth(computeRatio: computeRatio, factors: factors, shares: shares, energyRatio: energyRatio, energyPerFlopRatio: perFlop)
    }

    /// "compute grew 40x: 2.0x from better hardware, 10x from more processors, 2.0x from running longer".
    public var sentence: String {
        let verb = computeRatio >= 1 ? "grew \(Self.times(computeRatio))" : "fell to \(Self.times(computeRatio))"
        let parts = [
            part(factors.hardware, grew: "from better hardware", shrank: "slower hardware"),
            part(factors.processors, grew: "from more processors", shrank: "fewer processors"),
            part(factors.duration, grew: "from running longer", shrank: "a shorter run"),
        ]
        var sentence = "compute \(verb): " + parts.joined(separator: ", ")
        if let energyRatio, let energyPerFlopRatio {
            sentence += "; energy \(energyRatio >= 1 ? "grew" : "fell to") \(Self.times(energyRatio)), at \(Self.times(energyPerFlopRatio)) the joules per FLOP"
        }
        return sentence
    }

    private func part(_ factor: Double, grew: String, shrank: String) -> String {
        factor >= 1 ? "\(Self.times(factor)) \(grew)" : "\(Self.times(factor)) (\(shrank))"
    }

    /// A multiplier as people write it: 40x, 2.0x, 1.3x, 0.50x.
    public static func times(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)x" }
        if value >= 9.95 { return "\(Int(value.rounded()))x" }
        if value >= 0.995 { return fixed(value, 1) + "x" }
        return fixed(value, 2) + "x"
    }

    static func fixed(_ value: Double, _ digits: Int) -> String { FixedDecimal.string(value, digits) }
}
