/// What ergod's `/metrics` shows: the state published at the end of a sampler tick. Energy is
/// already coarsened (`EnergyResolution`) when it gets here, so the listener can only hand out
/// what the side-channel rules allow.
public struct MetricsSnapshot: Sendable {
    /// One energy counter: a RAPL zone, or the power model's estimate for the host.
    public struct Zone: Sendable, Equatable {
        public var zone: String
        public var domain: String
        public var socket: Int?
        public var source: PowerSourceKind
        public var microjoules: UInt64
        public var watts: Double

        public init(zone: String, domain: String, socket: Int?, source: PowerSourceKind, microjoules: UInt64, watts: Double) {
            self.zone = zone
            self.domain = domain
            self.socket = socket
            self.source = source
            self.microjoules = microjoules
            self.watts = watts
        }
    }

    /// One energy domain (CPU packages, DRAM, a GPU, the platform meter, `rest`) and source.
    public struct Domain: Sendable, Equatable {
        public var domain: String
        public var kind: DomainKind
        public var source: EnergySource
        public var microjoules: UInt64
        public var watts: Double

        public init(domain: String, kind: DomainKind, source: EnergySource, microjoules: UInt64, watts: Double) {
            self.domain = domain
            self.kind = kind
            self.source = source
            self.microjoules = microjoules
            self.watts = watts
        }
    }

    /// One job, running or ended within the grace period.
    public struct Job: Sendable, Equatable {
        public var id: String
        public var name: String
        public var user: String
        public var microjoules: UInt64
        public var watts: Double
        public var cpuMicroseconds: UInt64
        public var co2Grams: Double
        /// The job's energy per domain kind (floored each), in `DomainKind.allCases` order; kinds
        /// the job never used are 0 and not exported.
        public var microjoulesByKind: [UInt64] = []

        public init(id: String, name: String, user: String, microjoules: UInt64, watts: Double, cpuMicroseconds: UInt64, co2Grams: Double) {
            self.id = id
            self.name = name
            self.user = user
            self.microjoules = microjoules
            self.watts = watts
            self.cpuMicroseconds = cpuMicroseconds
            self.co2Grams = co2Grams
        }
    }

    /// One NVIDIA GPU: its utilization at the last tick (nil: not readable), and whether it is lost.
    public struct GPU: Sendable, Equatable {
        public var uuid: String
        public var domain: String
        public var utilizationRatio: Double?
        public var lost: Bool

        public init(uuid: String, domain: String, utilizationRatio: Double?, lost: Bool) {
            self.uuid = uuid
            self.domain = domain
            self.utilizationRatio = utilizationRatio
            self.lost = lost
        }
    }

    public var version: String
    public var domains: [Domain] = []
    public var gpus: [GPU] = []
    public var zones: [Zone] = []
    public var temperatures: [TemperatureReading] = []
    /// Busy share of all CPUs over the last tick, 0 to 1; nil before the first tick.
    public var cpuBusyRatio: Double?
    public var jobs: [Job] = []
    public var idleMicrojoules: UInt64 = 0
    public var systemMicrojoules: UInt64 = 0
    public var tickSeconds = Histogram.tickSeconds()
    /// How late each tick started against its schedule: the sampler's jitter.
    public var tickLatenessSeconds = Histogram.tickSeconds()
    /// Failed reads per probe.
    public var probeErrors: [ProbeKind: UInt64] = [:]

    public init(version: String) {
        self.version = version
    }
}

/// What can fail on a tick, as `ergometer_probe_errors_total{probe}` names it.
public enum ProbeKind: String, CaseIterable, Sendable, Comparable {
    case rapl, hwmon, procstat, cgroup, temperature, store
    /// An NVIDIA GPU that could not be read this tick (lost, a failing call, a driver reload).
    case nvml
    /// A tick where the components drew more than the platform meter (`rest` clamped at 0).
    case platformBelowComponents = "platform_below_components"

    public static func < (lhs: ProbeKind, rhs: ProbeKind) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// How finely energy may leave the daemon over the network: counters are floored to a
/// multiple of `microjoules` (1 mJ at the finest), so PLATYPUS-style power analysis gets no
/// more than that resolution. Flooring keeps counters monotonic.
public struct EnergyResolution: Sendable, Equatable {
    /// The finest resolution ergod will export.
    public static let finestMicrojoules: UInt64 = 1000

    public let microjoules: UInt64

    public init(joules: Double) {
        let requested = (joules * 1e6).rounded()
        microjoules = requested.isFinite && requested > Double(Self.finestMicrojoules) ? UInt64(min(requested, 1e15)) : Self.finestMicrojoules
    }

    public func coarsen(_ value: UInt64) -> UInt64 {
        value - value % microjoules
    }
}
