/// `GET /v1/live`: the box and its running jobs at the last tick, for `ergo top`. Keys: `time`,
/// `tick_seconds`, `domains` (`name`, `kind`, `source`, `watts`), `host_watts`,
/// `cpu_busy_ratio`, `temperature_max_celsius`, `jobs` (`id`, `job_id`, `name`, `user`,
/// `scheduler`, `started`, `watts`, `energy_joules`, `co2_grams`, `busy_cores`, `gpus`, `source`).
/// The jobs are the caller's own unless they are an admin.
public struct LiveView: Codable, Sendable, Equatable {
    /// One energy domain's power over the last tick, with where it came from.
    public struct Domain: Codable, Sendable, Equatable {
        public var name: String
        /// `cpu-package`, `dram`, `gpu`, `platform`, `rest`.
        public var kind: String
        /// `rapl`, `hwmon-energy`, `hwmon-power`, `nvml-energy`, `nvml-power`, `model`.
        public var source: String
        public var watts: Double

        public init(name: String, kind: String, source: String, watts: Double) {
            self.name = name
            self.kind = kind
            self.source = source
            self.watts = watts
        }
    }

    /// One running job: its power over the last tick and its totals so far.
    public struct Job: Codable, Sendable, Equatable {
        public var id: String
        public var jobID: String
        public var name: String
        public var user: String
        public var scheduler: String?
        /// Unix seconds.
        public var started: Double
        public var watts: Double
        public var energyJoules: Double
        public var co2Grams: Double
        /// CPU-seconds per second over the last tick.
        public var busyCores: Double
        /// The GPU domains its processes used over the last window.
        public var gpus: [String]
        /// `rapl`, `model`, `mixed`...: where its energy came from.
        public var source: String

        public init(
            id: String, jobID: String, name: String, user: String, scheduler: String?, started: Double, watts: Double, energyJoules: Double,
            co2Grams: Double, busyCores: Double, gpus: [String], source: String
        ) {
            self.id = id
            self.jobID = jobID
            self.name = name
            self.user = user
            self.scheduler = scheduler
            self.started = started
            self.watts = watts
            self.energyJoules = energyJoules
            self.co2Grams = co2Grams
            self.busyCores = busyCores
            self.gpus = gpus
            self.source = source
        }

        enum CodingKeys: String, CodingKey {
            case id, jobID = "job_id", name, user, scheduler, started, watts, energyJoules = "energy_joules", co2Grams = "co2_grams",
                busyCores = "busy_cores", gpus, source
        }
    }

    /// Unix seconds at the end of the last tick.
    public var time: Double
    public var tickSeconds: Double
    public var domains: [Domain]
    /// The box: the sum of the domains.
    public var hostWatts: Double
    public var cpuBusyRatio: Double?
    public var temperatureMaxCelsius: Double?
    public var jobs: [Job]

    public init(
        time: Double, tickSeconds: Double, domains: [Domain], hostWatts: Double, cpuBusyRatio: Double?, temperatureMaxCelsius: Double?,
        jobs: [Job]
    ) {
        self.time = time
        self.tickSeconds = tickSeconds
        self.domains = domains
        self.hostWatts = hostWatts
        self.cpuBusyRatio = cpuBusyRatio
        self.temperatureMaxCelsius = temperatureMaxCelsius
        self.jobs = jobs
    }

    enum CodingKeys: String, CodingKey {
        case time, tickSeconds = "tick_seconds", domains, hostWatts = "host_watts", cpuBusyRatio = "cpu_busy_ratio",
            temperatureMaxCelsius = "temperature_max_celsius", jobs
    }
}
