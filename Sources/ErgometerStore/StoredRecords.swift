public import ErgometerCore
public import ErgometerWire
public import GRDB
import Foundation

/// A job as registered: who, what, how it is measured. Row of `jobs`.
public struct StoredJob: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "jobs"

    /// Sequential id, as text (`ergo report 12`).
    public var id: String
    /// The cross-box label (`job_id` in Prometheus).
    public var jobID: String
    public var name: String
    public var user: String
    public var uid: Int
    public var labelsJSON: String
    public var commandJSON: String
    /// Unix seconds.
    public var started: Double
    public var ended: Double?
    public var exitStatus: Int?
    public var tracking: JobTracking
    /// The job's cgroup path inside the hierarchy, or nil when tracked by process tree.
    public var cgroup: String?
    /// The process whose tree is the job.
    public var pid: Int
    /// The cgroup that process came from, to return it there when the job ends.
    public var ownerCgroup: String?
    public var processors: Int?
    /// CPU model, logical CPUs, sockets and accelerators of the machine it ran on.
    public var hardware: String
    /// The boot it ran in; a job still open from another boot is closed on startup.
    public var bootID: String
    /// The scheduler that started it, when ergod found it by its cgroup (nil: `ergo run`).
    public var scheduler: JobScheduler?

    public init(
        id: String, jobID: String, name: String, user: String, uid: Int, labelsJSON: String, commandJSON: String,
        started: Double, ended: Double? = nil, exitStatus: Int? = nil, tracking: JobTracking, cgroup: String?, pid: Int,
        ownerCgroup: String? = nil, processors: Int?, hardware: String, bootID: String, scheduler: JobScheduler? = nil
    ) {
        self.scheduler = scheduler
        self.ownerCgroup = ownerCgroup
        self.id = id
        self.jobID = jobID
        self.name = name
        self.user = user
        self.uid = uid
        self.labelsJSON = labelsJSON
        self.commandJSON = commandJSON
        self.started = started
        self.ended = ended
        self.exitStatus = exitStatus
        self.tracking = tracking
        self.cgroup = cgroup
        self.pid = pid
        self.processors = processors
        self.hardware = hardware
        self.bootID = bootID
    }

    enum CodingKeys: String, CodingKey {
        case id, jobID = "job_label", name, user, uid, labelsJSON = "labels", commandJSON = "command", started, ended,
            exitStatus = "exit_status", tracking, cgroup, pid, ownerCgroup = "owner_cgroup", processors, hardware,
            bootID = "boot_id", scheduler
    }
}

/// What a job has used so far. Row of `job_totals`, rewritten at every checkpoint.
public struct JobTotals: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "job_totals"

    public var jobID: String
    public var energyMicrojoules: Int64
    public var packageMicrojoules: Int64
    public var dramMicrojoules: Int64
    public var idleShareMicrojoules: Int64
    /// Energy measured by RAPL and estimated by the model; both non-zero means `mixed`.
    public var raplMicrojoules: Int64
    public var modelMicrojoules: Int64
    public var cpuMicroseconds: Int64
    public var co2Grams: Double
    public var cost: Double
    public var peakWatts: Double
    /// The cumulative CPU counter (cgroup usage_usec or process-tree total) at the checkpoint.
    public var lastUsageMicroseconds: Int64
    /// Per sensor: `chip\tsensor` → [sum, count, max] of readings during the job, as JSON.
    public var temperaturesJSON: String
    /// Intensity (g/kWh, time-weighted over the job), PUE and price used.
    public var intensityGramsPerKWh: Double
    public var pue: Double
    public var currency: String?
    public var flops: Double?
    /// Reported by the workload: steps and samples so far, latest metrics as a JSON object.
    public var steps: Int64?
    public var samples: Int64?
    public var metricsJSON: String
    /// The sequence number of the last progress report applied (reports are applied once).
    public var progressSequence: Int64?
    /// The job's energy per domain and source (rows of `job_domain_energy`); their energies sum
    /// to `energyMicrojoules`.
    public var domains: [DomainTotal] = []
    /// The GPUs the job used (`[JobGPUUse]` as JSON).
    public var gpusJSON: String = "[]"

    /// The GPUs the job used, decoded from `gpusJSON`.
    public var gpus: [JobGPUUse] {
        get { (try? JSONDecoder().decode([JobGPUUse].self, from: Data(gpusJSON.utf8))) ?? [] }
        set { gpusJSON = (try? JSONEncoder().encode(newValue)).map { String(decoding: $0, as: UTF8.self) } ?? "[]" }
    }

    public init(jobID: String) {
        self.jobID = jobID
        energyMicrojoules = 0
        packageMicrojoules = 0
        dramMicrojoules = 0
        idleShareMicrojoules = 0
        raplMicrojoules = 0
        modelMicrojoules = 0
        cpuMicroseconds = 0
        co2Grams = 0
        cost = 0
        peakWatts = 0
        lastUsageMicroseconds = 0
        temperaturesJSON = "{}"
        intensityGramsPerKWh = 0
        pue = 1
        currency = nil
        flops = nil
        steps = nil
        samples = nil
        metricsJSON = "{}"
        progressSequence = nil
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job", energyMicrojoules = "energy_uj", packageMicrojoules = "package_uj", dramMicrojoules = "dram_uj",
            idleShareMicrojoules = "idle_share_uj", raplMicrojoules = "rapl_uj", modelMicrojoules = "model_uj",
            cpuMicroseconds = "cpu_usec", co2Grams = "co2_grams", cost, peakWatts = "peak_watts",
            lastUsageMicroseconds = "last_usage_usec", temperaturesJSON = "temperatures",
            intensityGramsPerKWh = "intensity_g_per_kwh", pue, currency, flops, steps, samples, metricsJSON = "metrics",
            progressSequence = "progress_sequence", gpusJSON = "gpus"
    }
}

/// One GPU a job used: the domain that measured it, who it is, and for how long the job's
/// processes were on it. An entry of `job_totals.gpus`.
public struct JobGPUUse: Codable, Sendable, Equatable {
    public var domain: String
    public var uuid: String?
    public var name: String?
    public var pciSlot: String?
    public var gpuSeconds: Double
    /// MIG mode: the board's power split among its jobs.
    public var boardLevel: Bool

    public init(domain: String, uuid: String?, name: String?, pciSlot: String?, gpuSeconds: Double, boardLevel: Bool) {
        self.domain = domain
        self.uuid = uuid
        self.name = name
        self.pciSlot = pciSlot
        self.gpuSeconds = gpuSeconds
        self.boardLevel = boardLevel
    }

    enum CodingKeys: String, CodingKey {
        case domain, uuid, name, pciSlot = "pci_slot", gpuSeconds = "gpu_seconds", boardLevel = "board_level"
    }
}

/// A job's energy in one domain from one source. Row of `job_domain_energy`.
public struct DomainTotal: Codable, Sendable, Equatable {
    /// The domain's name (`cpu-package`, `gpu-0000:03:00.0`, `rest`).
    public var domain: String
    public var kind: DomainKind
    public var source: EnergySource
    public var energyMicrojoules: Int64
    /// The part of it that was the domain's idle power (proportional policy).
    public var idleShareMicrojoules: Int64

    public init(domain: String, kind: DomainKind, source: EnergySource, energyMicrojoules: Int64, idleShareMicrojoules: Int64) {
        self.domain = domain
        self.kind = kind
        self.source = source
        self.energyMicrojoules = energyMicrojoules
        self.idleShareMicrojoules = idleShareMicrojoules
    }
}

/// One domain of the ledger at a checkpoint: what its meter measured, and its system and idle
/// buckets (the jobs' buckets are their `DomainTotal`s).
public struct CheckpointDomain: Codable, Sendable, Equatable {
    public var domain: String
    public var kind: DomainKind
    public var source: EnergySource
    public var measuredMicrojoules: UInt64
    public var systemMicrojoules: UInt64
    public var idleMicrojoules: UInt64
    /// For `rest`: the energy by which the components exceeded the platform meter (ticks where
    /// `rest` was clamped at 0).
    public var componentsBeyondPlatformMicrojoules: UInt64?

    public init(
        domain: String, kind: DomainKind, source: EnergySource, measuredMicrojoules: UInt64, systemMicrojoules: UInt64, idleMicrojoules: UInt64,
        componentsBeyondPlatformMicrojoules: UInt64? = nil
    ) {
        self.domain = domain
        self.kind = kind
        self.source = source
        self.measuredMicrojoules = measuredMicrojoules
        self.systemMicrojoules = systemMicrojoules
        self.idleMicrojoules = idleMicrojoules
        self.componentsBeyondPlatformMicrojoules = componentsBeyondPlatformMicrojoules
    }

    enum CodingKeys: String, CodingKey {
        case domain, kind, source, measuredMicrojoules = "measured_uj", systemMicrojoules = "system_uj", idleMicrojoules = "idle_uj",
            componentsBeyondPlatformMicrojoules = "beyond_platform_uj"
    }
}

/// One point of a job's time series: energy and CPU over [start, end]. Full resolution (one per
/// tick) for a job's first hour, then one per minute; retention rolls full-resolution rows up
/// to minutes after `store.full_resolution_days` and drops them after `store.series_days`.
public struct JobSample: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "job_samples"

    public var jobID: String
    public var start: Double
    public var end: Double
    public var energyMicrojoules: Int64
    public var cpuMicroseconds: Int64
    /// One row for a whole minute (after a job's first hour, or rolled up by retention), not one tick.
    public var perMinute: Bool
    /// The energy per domain and source (`SampleDomainsColumn`); summing to `energyMicrojoules`.
    public var domains: String
    /// The hottest sensor read during the sample, °C; nil when none was read in it.
    public var maxCelsius: Double?

    public init(
        jobID: String, start: Double, end: Double, energyMicrojoules: Int64, cpuMicroseconds: Int64, perMinute: Bool = false,
        domains: String = "", maxCelsius: Double? = nil
    ) {
        self.domains = domains
        self.maxCelsius = maxCelsius
        self.jobID = jobID
        self.start = start
        self.end = end
        self.energyMicrojoules = energyMicrojoules
        self.cpuMicroseconds = cpuMicroseconds
        self.perMinute = perMinute
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job", start, end, energyMicrojoules = "energy_uj", cpuMicroseconds = "cpu_usec", perMinute = "per_minute", domains,
            maxCelsius = "max_celsius"
    }
}

/// What one checkpoint writes, in one transaction: the counter readings and ledger, jobs whose
/// registration is not saved yet, running and ended jobs' totals, new samples, changed job rows.
public struct CheckpointBatch: Sendable {
    public var checkpoint: Checkpoint
    public var newJobs: [StoredJob]
    public var totals: [JobTotals]
    public var samples: [JobSample]
    public var endedJobs: [StoredJob]

    public init(checkpoint: Checkpoint, newJobs: [StoredJob], totals: [JobTotals], samples: [JobSample], endedJobs: [StoredJob]) {
        self.checkpoint = checkpoint
        self.newJobs = newJobs
        self.totals = totals
        self.samples = samples
        self.endedJobs = endedJobs
    }
}

/// The host's ledger and the sampler's last counter readings, saved together every few seconds
/// so that a restart in the same boot continues from them. Single row of `checkpoint`.
public struct Checkpoint: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "checkpoint"

    public var bootID: String
    /// Unix seconds of the reading, and of the ledger's start.
    public var wallTime: Double
    public var ledgerSince: Double
    /// CLOCK_MONOTONIC of the reading (same boot only).
    public var monotonicNanoseconds: Int64
    /// Zone id (`intel-rapl:0`) → energy_uj.
    public var zonesJSON: String
    /// /proc/stat busy CPU time, microseconds.
    public var busyMicroseconds: Int64
    public var systemMicrojoules: Int64
    public var idleMicrojoules: Int64
    /// The CPU domains' source at the checkpoint.
    public var source: EnergySource
    /// The ledger per domain (`[CheckpointDomain]` as JSON; `{}` in checkpoints from before domains).
    public var domainsJSON: String

    /// The ledger per domain; empty for a checkpoint from before domains.
    public var domains: [CheckpointDomain] {
        (try? JSONDecoder().decode([CheckpointDomain].self, from: Data(domainsJSON.utf8))) ?? []
    }

    public init(
        bootID: String, wallTime: Double, ledgerSince: Double, monotonicNanoseconds: Int64, zonesJSON: String,
        busyMicroseconds: Int64, systemMicrojoules: Int64, idleMicrojoules: Int64, source: EnergySource, domainsJSON: String = "{}"
    ) {
        self.domainsJSON = domainsJSON
        self.bootID = bootID
        self.wallTime = wallTime
        self.ledgerSince = ledgerSince
        self.monotonicNanoseconds = monotonicNanoseconds
        self.zonesJSON = zonesJSON
        self.busyMicroseconds = busyMicroseconds
        self.systemMicrojoules = systemMicrojoules
        self.idleMicrojoules = idleMicrojoules
        self.source = source
    }

    enum CodingKeys: String, CodingKey {
        case bootID = "boot_id", wallTime = "wall_time", ledgerSince = "ledger_since",
            monotonicNanoseconds = "monotonic_ns", zonesJSON = "zones", busyMicroseconds = "busy_usec",
            systemMicrojoules = "system_uj", idleMicrojoules = "idle_uj", source, domainsJSON = "domains"
    }
}

// Stored as their raw strings, as the columns always held them.
extension JobTracking: DatabaseValueConvertible {}
extension JobScheduler: DatabaseValueConvertible {}
extension EnergySource: DatabaseValueConvertible {}
