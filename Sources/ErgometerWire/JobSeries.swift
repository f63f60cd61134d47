/// A job's stored time series (`GET /v1/jobs/{id}/series`, `ergo report ID --svg`): one sample
/// per tick for its first hour and per minute after, or per minute where retention rolled them
/// up, each with its energy per series (a domain and the source that measured it) and the
/// hottest sensor read during it.
public struct JobSeries: Codable, Sendable, Equatable {
    /// One series: a domain of the box and the source its energy came from.
    public struct Series: Codable, Sendable, Equatable {
        /// The domain's name (`cpu-package`, `gpu-0000:03:00.0`, `rest`; `all` for samples
        /// stored before per-domain series).
        public var domain: String
        /// The domain's kind (`cpu-package`, `dram`, `gpu`, `rest`, `other`).
        public var kind: String
        /// `rapl`, `hwmon-energy`, `hwmon-power`, `nvml-energy`, `nvml-power` or `model`.
        public var source: String

        public init(domain: String, kind: String, source: String) {
            self.domain = domain
            self.kind = kind
            self.source = source
        }
    }

    /// One point of the series over [start, end] (Unix seconds).
    public struct Sample: Codable, Sendable, Equatable {
        public var start: Double
        public var end: Double
        /// The job's energy in the sample, all series together, µJ.
        public var energyMicrojoules: Int64
        public var cpuMicroseconds: Int64
        /// One sample for a whole minute, not one tick.
        public var perMinute: Bool
        /// Energy per series, in the order of `JobSeries.series`, µJ.
        public var seriesMicrojoules: [Int64]
        /// The hottest sensor read during the sample, °C; nil when none was read in it.
        public var maxCelsius: Double?

        public init(
            start: Double, end: Double, energyMicrojoules: Int64, cpuMicroseconds: Int64, perMinute: Bool, seriesMicrojoules: [Int64],
            maxCelsius: Double?
        ) {
            self.start = start
            self.end = end
            self.energyMicrojoules = energyMicrojoules
            self.cpuMicroseconds = cpuMicroseconds
            self.perMinute = perMinute
            self.seriesMicrojoules = seriesMicrojoules
            self.maxCelsius = maxCelsius
        }

        /// The job's average power over the sample, watts.
        public var watts: Double { end > start ? Double(energyMicrojoules) / 1e6 / (end - start) : 0 }

        enum CodingKeys: String, CodingKey {
            case start, end, energyMicrojoules = "energy_uj", cpuMicroseconds = "cpu_usec", perMinute = "per_minute",
                seriesMicrojoules = "series_uj", maxCelsius = "max_celsius"
        }
    }

    public var id: String
    public var name: String
    /// Unix seconds; `ended` is nil while the job runs.
    public var started: Double
    public var ended: Double?
    public var series: [Series]
    /// Oldest first.
    public var samples: [Sample]

    public init(id: String, name: String, started: Double, ended: Double?, series: [Series], samples: [Sample]) {
        self.id = id
        self.name = name
        self.started = started
        self.ended = ended
        self.series = series
        self.samples = samples
    }
}
