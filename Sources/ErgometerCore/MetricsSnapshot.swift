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

    /// One job, running or ended within the grace period.
    public struct Job: Sendable, Equatable {
        public var id: String
        public var name: String
        public var user: String
        public var microjoules: UInt64
        public var watts: Double
        public var cpuMicroseconds: UInt64
        public var co2Grams: Double

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

    public var version: String
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
    /// Failed reads per probe (`rapl`, `procstat`, `cgroup`, `temperature`, `store`).
    public var probeErrors: [String: UInt64] = [:]

    public init(version: String) {
        self.version = version
    }
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
