import ErgometerCore
import ErgometerProbes
public import ErgometerStore
public import ErgometerWire
import Foundation
public import Logging
public import Synchronization

/// The sampler: each tick reads the energy counters (or the model), /proc/stat and every
/// active job's CPU counter over the same window, splits the host energy into job, system and
/// idle buckets that sum exactly to it, and keeps the running totals. Checkpoints save totals
/// and counter readings together, so a restart in the same boot attributes the gap as one tick.
///
/// An actor: ticks, registrations and queries never interleave, and its reads run on the
/// cooperative pool, never on the HTTP server's event loops.
public actor Sampler {
    public internal(set) var configuration: DaemonConfiguration
    var carbon: CarbonAccounting
    let logger: Logger
    let store: JobStore?
    let sysfs: SysFS
    let procfs: ProcFS
    /// `/proc/stat` kept open on the live /proc (one `pread` a tick); nil under a fixture root
    /// whose writers may replace the file (`KernelFileSystem`).
    lazy var procStatFile: KeptOpenFile? = KernelFileSystem.keptOpenIfSafe(procfs.path("stat"), treeChangesInPlace: procfs.changesInPlace)
    /// Reads temperatures on the tick (libsensors on the live /sys, hwmon files elsewhere).
    let probe: MachineProbe
    /// The probe's temperatures with the hwmon walk kept between reads.
    lazy var temperatureReader = RepeatedTemperatureReader(probe: probe)
    let cgroups: CgroupJobs?
    let cgroupUnavailable: String?
    /// The v1 cpuacct hierarchy, where Slurm keeps its jobs on v1 and hybrid hosts (nil: none).
    let cgroupsV1: CgroupV1Accounting?
    /// The scans discovery makes (v2 and v1), when it is on, and when it last looked.
    let discoveryScans: [SchedulerCgroupScan]
    var lastDiscoveryScan: UInt64 = 0
    /// Each scan's folders as it last saw them (one memo per scan, in the same order).
    var discoveryMemos: [SchedulerCgroupScan.Memo] = []
    /// Schedulers' jobs a limit kept out, said once each.
    var discoveryRefused: Set<String> = []
    /// Counts every job admitted, restored or finished: discovery compares its scans with the
    /// running jobs again only after a change of either.
    var runningJobsChanges: UInt64 = 0
    /// `runningJobsChanges` when the last comparison left nothing to try again; nil when it did.
    var discoverySettled: UInt64?
    /// Running jobs inside a scheduler's job (their CPU is taken out of it each tick).
    var nestedJobs = 0
    let hardware: String
    let model: PowerModel
    /// Every meter of the box and its domains.
    var meters: BoxMeters
    /// Every joule measured in this ledger period per domain, its system and idle buckets and
    /// those of the jobs that ended (running jobs keep theirs, `ActiveJob.ledgerByDomain`).
    var ledger: DomainLedger

    var bootID: String
    var lastMonotonic: UInt64
    var lastWall: Double
    var lastBusyMicroseconds: UInt64
    /// Busy share of all CPUs over the last tick (0 to 1), for /metrics.
    var lastBusyRatio: Double?
    /// The length of the last tick, seconds.
    var lastTickSeconds = 0.0
    /// When the components last exceeded the platform meter and that was said (monotonic ns).
    var lastPlatformWarning: UInt64 = 0
    /// Set once the sampler has stopped ticking: its final checkpoint is the last write, so no
    /// job is registered or ended after it (a request that slipped past the closed socket is
    /// refused, and `ergo run` retries against the next ergod).
    var stopping = false
    /// The hwmon meter's problem of the last tick, to say a change once.
    var lastHwmonProblem: String?
    /// When the jobs' DRM clients were last read (monotonic ns; 0: never).
    var lastGPUUseRead: UInt64 = 0
    /// The NVML meter's problem of the last tick, to say a change once.
    var lastNVMLProblem: String?
    /// Each process seen on an NVIDIA GPU and its job, looked up once.
    var gpuProcessJobs = GPUProcessJobs()
    /// Jobs given NVML use this tick (reset on the next), and each NVIDIA GPU's use outside every job.
    var nvmlUsingJobs: [String] = []
    var nvmlOutsideUse: [UInt64] = []
    /// Owner uid of each job registered by this process, for the per-user view of the ledger.
    var ledgerOwners: [String: Int] = [:]
    var lastSource: PowerSourceKind
    var active: [String: ActiveJob] = [:]
    /// Each job's CPU time of the tick being worked, in the order of `active` (kept for its capacity).
    var tickCPU: [UInt64] = []
    /// `chip\tsensor` of every temperature sensor seen, by the index jobs keep their statistics under.
    var sensorKeys: [TemperatureStatisticsJSON.Key] = []
    var sensorIndex: [String: Int] = [:]
    /// Temperatures are read at most every `temperatureSeconds` while jobs run (they change
    /// slowly, and libsensors costs ~250 µs), and on the first tick of a new job.
    var lastTemperatureRead: UInt64 = 0
    var temperaturesDue = true
    /// The last reading, shared by the tick and /metrics so the sensors are read once per period.
    var lastTemperatures: [TemperatureReading] = []
    static let temperatureSeconds = 5.0
    /// What the store has not taken yet: ended jobs, samples, registrations, changed rows.
    var pending = PendingWrites()
    /// Per domain and source slot, its key in `pending` (`seriesKey`); -1 until first used.
    var seriesKeySlots: [Int] = []
    /// This tick's key per domain (scratch, kept between ticks).
    var tickSeriesKeys: [Int] = []
    /// The clocks every interval and timestamp come from (the system's, or a test's).
    public nonisolated let clock: SamplerClock
    /// The wall clock, for timestamps only: every interval comes from the monotonic clock.
    var wallClock: @Sendable () -> Double
    /// A wall-clock jump larger than this (beyond the tick's own length) is a step, seconds.
    static let clockStepTolerance = 1.0
    var nextJobNumber: Int
    var lastCheckpoint: UInt64
    /// The tick's checkpoint being written on the store's queue (`checkpointInBackground`).
    var backgroundWrite: BackgroundWrite?
    /// The tick (`ticks`) at which it began.
    var backgroundWriteTick: UInt64 = 0
    /// Checkpoints begun (written at once or in the background, saved or not): what a request
    /// waiting for its job to be saved counts from (`pendingSaved`).
    var checkpointsBegun: UInt64 = 0
    /// The store's retention: the prune running beside the ticks, when the last began
    /// (monotonic ns), and what the last one that changed anything did.
    var pruneTask: Task<Void, Never>?
    var lastPruneStart: UInt64 = 0
    public internal(set) var lastPrune: StorePrune?
    /// Whether the last prune stopped at its budget with more due (the next does more of it).
    public internal(set) var pruneBehind = false
    /// The longest transaction of every prune so far, seconds (what a checkpoint may wait).
    public internal(set) var longestPruneTransactionSeconds = 0.0
    /// Whether being over `store.max_bytes` with nothing left to drop was said; time-series rows
    /// dropped for size since that was last said, and when (monotonic ns).
    var saidOverBound = false
    var droppedForSizeUnsaid: (rows: Int, through: Double?) = (0, nil)
    var lastSizeDropSaid: UInt64 = 0
    public internal(set) var storeError: String?
    public internal(set) var ticks: UInt64 = 0
    /// What /metrics serves; published from the sampler's state, read without the actor.
    public nonisolated let board = MetricsBoard()
    /// `control.admin_group`, readable without the actor: the control API resolves callers
    /// (a user-database lookup) off the sampler.
    public nonisolated let adminGroup: Mutex<String>
    var exported: MetricsExportState

    /// Where every tick reads /proc/stat and the jobs' cpu.stat: allocated once, so a tick's
    /// reads allocate nothing.
    let reads = ReadBuffer(byteCount: 64 * 1024)
    var readBuffer: UnsafeMutableRawBufferPointer { reads.bytes }


    public init(
        configuration: DaemonConfiguration, store: JobStore?, logger: Logger, storeProblem: String? = nil, clock: SamplerClock = .system
    ) throws(ConfigurationError) {
        self.clock = clock
        wallClock = clock.wallSeconds
        storeError = storeProblem
        adminGroup = Mutex(configuration.adminGroup)
        self.configuration = configuration
        self.carbon = try ConfigurationLoader.carbonAccounting(configuration)
        self.logger = logger
        self.store = store
        sysfs = SysFS(root: configuration.sysfsRoot, changesInPlace: configuration.rootsChangeInPlace)
        procfs = ProcFS(root: configuration.procfsRoot, changesInPlace: configuration.rootsChangeInPlace)
        probe = MachineProbe(sysfs: sysfs, procfs: procfs)
        let snapshot = probe.snapshot()
        let cpu = snapshot.cpuInfo ?? CPUInfo(model: "unknown", logicalCPUs: max(snapshot.cpuStat?.perCPU.count ?? 1, 1), sockets: 1, virtualized: false)
        model = PowerModel.forMachine(cpu: cpu, tdpWatts: configuration.tdpWatts, idleWatts: configuration.idleWatts)
        hardware = Self.fingerprint(cpu: cpu, memory: snapshot.memoryTotalBytes, pci: snapshot.pci)
        let rapl = RaplMeter(sysfs: sysfs, model: model)
        let (power, powerIssues) = probe.powerSensors(raplCoversCPU: rapl.hasRapl)
        let nvml = configuration.nvmlLibrary == "off"
            ? NVMLMeter(unavailable: "no NVIDIA GPU read: gpu.nvml_library is off")
            : NVMLMeter(libraryPath: configuration.nvmlLibrary)
        meters = BoxMeters(rapl: rapl, hwmon: HwmonMeter(counting: power), nvml: nvml)
        ledger = DomainLedger(domains: meters.domains, since: 0)
        lastSource = rapl.hasRapl ? .rapl : .model
        let interval = configuration.intervalSeconds
        if let wrap = rapl.shortestWrapSeconds, interval > wrap / 2 {
            throw ConfigurationError(file: "interval", problems: [
                "daemon.interval_seconds = \(interval): a RAPL counter here can wrap in \(Int(wrap)) s at \(Int(RaplMeter.plausibleZoneWatts)) W; sample at least every \(Int(wrap / 2)) s so no wrap goes unseen",
            ])
        }
        switch CgroupV2.locate(procfs: procfs) {
        case .success(let hierarchy):
            cgroups = CgroupJobs(hierarchy: hierarchy, subtree: configuration.cgroupSubtree)
            cgroupUnavailable = nil
        case .failure(let error):
            cgroups = nil
            cgroupUnavailable = "no cgroup v2 hierarchy (\(error)); jobs are tracked by process tree"
        }
        cgroupsV1 = try? CgroupV1Accounting.locate(procfs: procfs).get()
        let rules = configuration.discoveryRules
        discoveryScans = !rules.isEnabled ? [] : [
            cgroups.map { SchedulerCgroupScan(hierarchy: .unified, mountPoint: $0.hierarchy.mountPoint, rules: rules) },
            cgroupsV1.map { SchedulerCgroupScan(hierarchy: .cpuacct, mountPoint: $0.mountPoint, rules: rules) },
        ].compactMap { $0 }
        bootID = snapshot.bootID ?? "unknown"
        lastMonotonic = clock.monotonicNanoseconds()
        lastWall = wallClock()
        lastBusyMicroseconds = Self.busyMicroseconds(snapshot.cpuStat)
        ledger.since = lastWall
        lastCheckpoint = lastMonotonic
        nextJobNumber = (try? store?.nextJobNumber()) ?? 1
        meters.prime(bootID: bootID)
        exported = MetricsExportState(resolution: EnergyResolution(joules: configuration.energyResolutionJoules))
        board.setMinimumAge(nanoseconds: UInt64(configuration.metricsPublishSeconds * 1e9))
        for issue in powerIssues {
            logger.warning("an hwmon power sensor cannot be read; it is not counted", metadata: ["ergometer.path": "\(issue.path)", "ergometer.reason": "\(issue.message)"])
        }
        if let reason = nvml.unavailable { logger.info("\(reason)") }
        for note in nvml.notes { logger.warning("NVML: \(note)") }
        for domain in meters.domains {
            logger.info("energy domain", metadata: ["ergometer.domain": "\(domain.name)", "ergometer.kind": "\(domain.kind.rawValue)", "ergometer.reads": "\(domain.detail)"])
        }
    }

    static func busyMicroseconds(_ stat: CPUStat?) -> UInt64 {
        (stat?.total.busyTicks ?? 0) * 1_000_000 / UInt64(ProcessTreeUsage.clockTicksPerSecond)
    }

    static func fingerprint(cpu: CPUInfo, memory: UInt64?, pci: [PCIDevice]) -> String {
        var parts = ["\(cpu.model) × \(cpu.logicalCPUs) logical CPUs, \(cpu.sockets) socket(s)\(cpu.virtualized ? " (VM)" : "")"]
        if let memory { parts.append("\(memory / 1_073_741_824) GiB") }
        let accelerators = pci.filter(\.accelerator)
        if !accelerators.isEmpty { parts.append(accelerators.map { "\($0.vendor) \($0.device)" }.joined(separator: ", ")) }
        return parts.joined(separator: "; ")
    }

    /// Samples every `intervalSeconds` until cancelled (graceful shutdown), then checkpoints.
    /// Tells systemd (when it started ergod) about readiness, status and liveness as it goes.
    public func run(notifier: SystemdNotifier? = nil) async {
        var notifier = notifier
        let interval = Duration.nanoseconds(Int64(configuration.intervalSeconds * 1e9))
        let clock = ContinuousClock()
        var deadline = clock.now + interval
        while !Task.isCancelled {
            do { try await clock.sleep(until: deadline) } catch { break }
            let late = clock.now - deadline
            exported.tickLateness.observe(Double(late.components.seconds) + Double(late.components.attoseconds) / 1e18)
            tick()
            notifier?.tickCompleted(ticks: ticks, jobs: active.count, source: lastSource, storeError: storeError)
            deadline = deadline + interval
            if clock.now > deadline { deadline = clock.now + interval }  // fell behind: do not burst
        }
        notifier?.stopping()
        await stop()
    }

    /// Takes no more jobs, lets a running prune finish, and saves everything: the last write.
    public func stop() async {
        stopping = true
        await waitForPrune()
        checkpoint()
    }
}
