/// One line of `ergo jobs` (stable JSON keys: `id`, `name`, `user`, `started`, `ended`,
/// `energy_joules`).
public struct JobSummary: Codable, Sendable, Equatable {
    public var id: String
    public var jobID: String
    public var name: String
    public var user: String
    /// Unix seconds.
    public var started: Double
    public var ended: Double?
    public var exitStatus: Int32?
    public var energyJoules: Double
    public var source: String
    /// The scheduler that started it when ergod found it (`slurm`, `systemd`, `docker`, …); absent for `ergo run`.
    public var scheduler: String?

    public init(
        id: String, jobID: String, name: String, user: String, started: Double, ended: Double?, exitStatus: Int32?,
        energyJoules: Double, source: String, scheduler: String? = nil
    ) {
        self.scheduler = scheduler
        self.id = id
        self.jobID = jobID
        self.name = name
        self.user = user
        self.started = started
        self.ended = ended
        self.exitStatus = exitStatus
        self.energyJoules = energyJoules
        self.source = source
    }

    enum CodingKeys: String, CodingKey {
        case id, jobID = "job_id", name, user, started, ended, exitStatus = "exit_status",
            energyJoules = "energy_joules", source, scheduler
    }
}

/// `ergo report ID` (stable JSON keys: `id`, `name`, `duration_seconds`, `cpu_seconds`,
/// `energy_joules`, `co2_grams`, `source`, `exit_status`).
public struct JobReport: Codable, Sendable, Equatable {
    public var id: String
    public var jobID: String
    public var name: String
    public var user: String
    public var command: [String]
    public var labels: [String: String]
    public var started: Double
    public var ended: Double?
    public var exitStatus: Int32?
    public var durationSeconds: Double
    public var cpuSeconds: Double
    /// CPU-seconds / duration.
    public var averageBusyCores: Double
    public var energyJoules: Double
    public var energyKWh: Double
    /// The job's share of package energy and of DRAM energy, and of idle (proportional policy).
    public var energyByDomain: EnergyByDomain
    public var averagePowerWatts: Double
    public var peakPowerWatts: Double
    public var co2Grams: Double
    public var carbonIntensityGramsPerKWh: Double
    public var pue: Double
    public var cost: Double?
    public var currency: String?
    /// `rapl` (measured) or `model` (estimated); `mixed` when both were used during the job.
    public var source: String
    public var tracking: JobTracking
    /// The scheduler that started it when ergod found it (`slurm`, `docker`, …); absent for `ergo run`.
    public var scheduler: String?
    public var hardware: String
    public var temperatures: [TemperatureSummary]
    public var flops: Double?
    public var joulesPerFlop: Double?
    /// Processors the job declared (`ergo run --processors`); nil: effective busy cores apply.
    public var processors: Int?
    /// Reported by the workload (ErgometerClient): training steps, samples, latest metrics.
    public var steps: Int64?
    public var samples: Int64?
    public var metrics: [String: Double]
    /// The job's energy per domain and source (CPU packages, DRAM, each GPU, the rest).
    public var domains: [DomainEnergyReport] = []
    /// The GPUs the job's processes used (UUID, name, GPU-seconds, energy, source).
    public var gpus: [GPUUseReport] = []

    public init(
        id: String, jobID: String, name: String, user: String, command: [String], labels: [String: String], started: Double,
        ended: Double?, exitStatus: Int32?, durationSeconds: Double, cpuSeconds: Double, averageBusyCores: Double,
        energyJoules: Double, energyKWh: Double, energyByDomain: EnergyByDomain, averagePowerWatts: Double,
        peakPowerWatts: Double, co2Grams: Double, carbonIntensityGramsPerKWh: Double, pue: Double, cost: Double?,
        currency: String?, source: String, tracking: JobTracking, hardware: String, temperatures: [TemperatureSummary],
        flops: Double?, joulesPerFlop: Double?, processors: Int? = nil, steps: Int64? = nil, samples: Int64? = nil,
        metrics: [String: Double] = [:], domains: [DomainEnergyReport] = [], gpus: [GPUUseReport] = []
    ) {
        self.domains = domains
        self.gpus = gpus
        self.id = id
        self.jobID = jobID
        self.name = name
        self.user = user
        self.command = command
        self.labels = labels
        self.started = started
        self.ended = ended
        self.exitStatus = exitStatus
        self.durationSeconds = durationSeconds
        self.cpuSeconds = cpuSeconds
        self.averageBusyCores = averageBusyCores
        self.energyJoules = energyJoules
        self.energyKWh = energyKWh
        self.energyByDomain = energyByDomain
        self.averagePowerWatts = averagePowerWatts
        self.peakPowerWatts = peakPowerWatts
        self.co2Grams = co2Grams
        self.carbonIntensityGramsPerKWh = carbonIntensityGramsPerKWh
        self.pue = pue
        self.cost = cost
        self.currency = currency
        self.source = source
        self.tracking = tracking
        self.hardware = hardware
        self.temperatures = temperatures
        self.flops = flops
        self.joulesPerFlop = joulesPerFlop
        self.processors = processors
        self.steps = steps
        self.samples = samples
        self.metrics = metrics
    }

    enum CodingKeys: String, CodingKey {
        case id, jobID = "job_id", name, user, command, labels, started, ended, exitStatus = "exit_status",
            durationSeconds = "duration_seconds", cpuSeconds = "cpu_seconds", averageBusyCores = "average_busy_cores",
            energyJoules = "energy_joules", energyKWh = "energy_kwh", energyByDomain = "energy_by_domain",
            averagePowerWatts = "average_power_watts", peakPowerWatts = "peak_power_watts", co2Grams = "co2_grams",
            carbonIntensityGramsPerKWh = "carbon_intensity_g_per_kwh", pue, cost, currency, source, tracking, hardware,
            temperatures, flops, joulesPerFlop = "joules_per_flop", processors, steps, samples, metrics, domains, gpus, scheduler
    }
}

/// One GPU a job used: who it is, how long the job's processes were on it, and the job's energy
/// on it with the source that measured it. `board_level`: the GPU was in MIG mode, where power
/// is the whole board's, split among its jobs by their processes' use.
public struct GPUUseReport: Codable, Sendable, Equatable {
    public var uuid: String?
    public var name: String?
    public var pciSlot: String?
    public var gpuSeconds: Double
    public var energyJoules: Double
    /// `nvml-energy`, `nvml-power`, `hwmon-energy`, `hwmon-power`; joined with `+` when several.
    public var source: String
    public var boardLevel: Bool
    /// The energy domain (`gpu-0000:3b:00.0`).
    public var domain: String

    public init(uuid: String?, name: String?, pciSlot: String?, gpuSeconds: Double, energyJoules: Double, source: String, boardLevel: Bool, domain: String) {
        self.uuid = uuid
        self.name = name
        self.pciSlot = pciSlot
        self.gpuSeconds = gpuSeconds
        self.energyJoules = energyJoules
        self.source = source
        self.boardLevel = boardLevel
        self.domain = domain
    }

    enum CodingKeys: String, CodingKey {
        case uuid, name, pciSlot = "pci_slot", gpuSeconds = "gpu_seconds", energyJoules = "energy_joules", source,
            boardLevel = "board_level", domain
    }
}

/// One line of a report's `domains`: energy of one domain from one source.
public struct DomainEnergyReport: Codable, Sendable, Equatable {
    /// `cpu-package`, `dram`, `gpu-0000:03:00.0`, `rest`.
    public var domain: String
    /// `cpu-package`, `dram`, `gpu`, `rest` (the domain kinds of DESIGN.md).
    public var kind: String
    /// `rapl`, `hwmon-energy`, `hwmon-power`, `nvml-energy`, `nvml-power` or `model`.
    public var source: String
    public var joules: Double
    public var idleShareJoules: Double

    public init(domain: String, kind: String, source: String, joules: Double, idleShareJoules: Double) {
        self.domain = domain
        self.kind = kind
        self.source = source
        self.joules = joules
        self.idleShareJoules = idleShareJoules
    }

    enum CodingKeys: String, CodingKey {
        case domain, kind, source, joules, idleShareJoules = "idle_share_joules"
    }
}

/// A job's energy split by where it was measured: CPU packages, DRAM, GPUs, and the `rest`
/// the box's own meter saw beyond its components.
public struct EnergyByDomain: Codable, Sendable, Equatable {
    public var packageJoules: Double
    public var dramJoules: Double
    /// The part of the job's energy that was the box's idle power (proportional policy).
    public var idleShareJoules: Double
    public var gpuJoules: Double
    public var restJoules: Double

    public init(packageJoules: Double, dramJoules: Double, idleShareJoules: Double, gpuJoules: Double = 0, restJoules: Double = 0) {
        self.packageJoules = packageJoules
        self.dramJoules = dramJoules
        self.idleShareJoules = idleShareJoules
        self.gpuJoules = gpuJoules
        self.restJoules = restJoules
    }

    enum CodingKeys: String, CodingKey {
        case packageJoules = "package_joules", dramJoules = "dram_joules", idleShareJoules = "idle_share_joules",
            gpuJoules = "gpu_joules", restJoules = "rest_joules"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        packageJoules = try container.decode(Double.self, forKey: .packageJoules)
        dramJoules = try container.decode(Double.self, forKey: .dramJoules)
        idleShareJoules = try container.decode(Double.self, forKey: .idleShareJoules)
        gpuJoules = try container.decodeIfPresent(Double.self, forKey: .gpuJoules) ?? 0  // older ergod
        restJoules = try container.decodeIfPresent(Double.self, forKey: .restJoules) ?? 0
    }
}

/// Mean and maximum of one temperature sensor over a job.
public struct TemperatureSummary: Codable, Sendable, Equatable {
    public var chip: String
    public var sensor: String
    public var meanCelsius: Double
    public var maxCelsius: Double

    public init(chip: String, sensor: String, meanCelsius: Double, maxCelsius: Double) {
        self.chip = chip
        self.sensor = sensor
        self.meanCelsius = meanCelsius
        self.maxCelsius = maxCelsius
    }

    enum CodingKeys: String, CodingKey {
        case chip, sensor, meanCelsius = "mean_celsius", maxCelsius = "max_celsius"
    }
}

/// `ergo ledger`: every joule measured since ergod started (or in the standalone run), and
/// where it went. `measured_microjoules` is what the meters read (Σ of the attributed domains'
/// deltas, kept apart from the attribution); the buckets, what the attribution gave out; the
/// two agree exactly when the accounting is right (checked by the tests, not assumed here).
public struct Ledger: Codable, Sendable, Equatable {
    public var since: Double
    public var measuredJoules: Double
    public var measuredMicrojoules: UInt64
    public var buckets: Buckets
    public var source: String
    /// The same per domain (CPU packages, DRAM, each GPU, `rest`, and the platform meter,
    /// measured only).
    public var domains: [Domain] = []

    /// One domain of the ledger.
    public struct Domain: Codable, Sendable, Equatable {
        public var domain: String
        public var kind: String
        /// The source of its last tick.
        public var source: String
        public var measuredMicrojoules: UInt64
        /// nil for a domain that is measured, never attributed (the platform meter: its energy
        /// is the components' plus `rest`).
        public var buckets: Buckets?
        /// For `rest`: how much the components drew beyond the platform meter on the ticks where
        /// they exceeded it (`rest` was 0 then), so rest = platform − components + this.
        public var componentsBeyondPlatformMicrojoules: UInt64?

        public init(
            domain: String, kind: String, source: String, measuredMicrojoules: UInt64, buckets: Buckets?,
            componentsBeyondPlatformMicrojoules: UInt64? = nil
        ) {
            self.domain = domain
            self.kind = kind
            self.source = source
            self.measuredMicrojoules = measuredMicrojoules
            self.buckets = buckets
            self.componentsBeyondPlatformMicrojoules = componentsBeyondPlatformMicrojoules
        }

        enum CodingKeys: String, CodingKey {
            case domain, kind, source, measuredMicrojoules = "measured_microjoules", buckets,
                componentsBeyondPlatformMicrojoules = "components_beyond_platform_microjoules"
        }
    }
    /// Set while the store cannot be written: samples are kept in memory meanwhile.
    public var storeError: String?
    /// What the store's retention last removed (rows rolled up, dropped by age or for size);
    /// absent before the first prune that changed anything.
    public var lastPrune: StorePrune?

    public struct Buckets: Codable, Sendable, Equatable {
        /// Job id → joules.
        public var jobs: [String: Double]
        public var system: Double
        public var idle: Double
        public var jobsMicrojoules: [String: UInt64]
        public var systemMicrojoules: UInt64
        public var idleMicrojoules: UInt64
        /// Other users' jobs, summed: set for a caller who may not see them one by one.
        public var otherUsers: Double?
        public var otherUsersMicrojoules: UInt64?
        /// Jobs of the period that ended before the last thousand (every user's), summed: ergod
        /// keeps only that many one by one; `ergo jobs --all` lists them all. Absent when none.
        public var earlierJobs: Double?
        public var earlierJobsMicrojoules: UInt64?

        public init(
            jobsMicrojoules: [String: UInt64], systemMicrojoules: UInt64, idleMicrojoules: UInt64, otherUsersMicrojoules: UInt64? = nil,
            earlierJobsMicrojoules: UInt64? = nil
        ) {
            self.jobsMicrojoules = jobsMicrojoules
            self.systemMicrojoules = systemMicrojoules
            self.idleMicrojoules = idleMicrojoules
            self.otherUsersMicrojoules = otherUsersMicrojoules
            self.earlierJobsMicrojoules = earlierJobsMicrojoules
            jobs = jobsMicrojoules.mapValues { Double($0) / 1e6 }
            system = Double(systemMicrojoules) / 1e6
            idle = Double(idleMicrojoules) / 1e6
            otherUsers = otherUsersMicrojoules.map { Double($0) / 1e6 }
            earlierJobs = earlierJobsMicrojoules.map { Double($0) / 1e6 }
        }

        /// Every bucket added up: what was attributed.
        public var totalMicrojoules: UInt64 {
            jobsMicrojoules.values.reduce(systemMicrojoules + idleMicrojoules + (otherUsersMicrojoules ?? 0) + (earlierJobsMicrojoules ?? 0), +)
        }

        enum CodingKeys: String, CodingKey {
            case jobs, system, idle, jobsMicrojoules = "jobs_microjoules", systemMicrojoules = "system_microjoules",
                idleMicrojoules = "idle_microjoules", otherUsers = "other_users", otherUsersMicrojoules = "other_users_microjoules",
                earlierJobs = "earlier_jobs", earlierJobsMicrojoules = "earlier_jobs_microjoules"
        }
    }

    public init(since: Double, measuredMicrojoules: UInt64, buckets: Buckets, source: String, storeError: String?, domains: [Domain] = []) {
        self.since = since
        self.buckets = buckets
        self.source = source
        self.storeError = storeError
        self.measuredMicrojoules = measuredMicrojoules
        measuredJoules = Double(measuredMicrojoules) / 1e6
        self.domains = domains
    }

    enum CodingKeys: String, CodingKey {
        case since, measuredJoules = "measured_joules", measuredMicrojoules = "measured_microjoules", buckets, source,
            storeError = "store_error", domains, lastPrune = "last_prune"
    }
}
