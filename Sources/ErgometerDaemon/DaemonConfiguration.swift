public import ErgometerCore
public import ErgometerWire

/// Everything ergod (and `ergo run` without a daemon) can be told. Each key's default is next to
/// its declaration and in Config/ergometer.toml; flags override the file.
public struct DaemonConfiguration: Sendable, Equatable {
    // [daemon]
    /// Sampling interval, seconds: 0.05 to 60, and short enough to see every counter wrap.
    public var intervalSeconds = 1.0
    /// How often totals, samples and counter readings are saved, seconds.
    public var checkpointSeconds = 5.0
    public var stateDirectory = "/var/lib/ergometer"
    public var socketPath = "/run/ergometer/ergod.sock"
    public var sysfsRoot = "/sys"
    public var procfsRoot = "/proc"
    /// Whether the writers of the trees at those roots change files in place (see the key).
    public var rootsChangeInPlace = false
    // [power]
    public var idlePolicy = IdlePolicy.proportional
    /// Idle power in watts; nil: learned as the 5th percentile of observed host power.
    public var idleWatts: Double?
    /// TDP of all CPUs for the power model; nil: from the CPU model table.
    public var tdpWatts: Double?
    // [gpu]
    /// NVML, loaded at run time: a soname, a path, or "off".
    public var nvmlLibrary = "libnvidia-ml.so.1"
    // [carbon]
    public var intensityGramsPerKWh = CarbonAccounting.defaultIntensityGramsPerKWh
    /// CSV of `timestamp,grams_per_kwh`; when set it replaces the static intensity.
    public var intensityCSV: String?
    public var pue = 1.0
    public var pricePerKWh: Double?
    public var priceCSV: String?
    public var currency = "USD"
    // [jobs]
    /// The cgroup (under the cgroup2 mount) that holds one child cgroup per job.
    public var cgroupSubtree = "ergometer"
    // [discovery]
    /// Slurm jobs (cgroup v2 and v1), containers and pods, and systemd units matching these
    /// patterns, found by their cgroups and measured as jobs.
    public var discoverSlurm = true
    public var discoverContainers = true
    public var discoverSystemdUnits: [String] = []
    /// How often the cgroups are looked through for new and ended jobs, seconds.
    public var discoveryScanSeconds = 2.0
    // [store]
    /// Time series at full resolution this many days, then per minute until `seriesDays`, then
    /// dropped; ended jobs dropped after `jobsDays` (0: kept forever); past `storeMaxBytes` the
    /// oldest time series go first.
    public var fullResolutionDays = StoreRetention.defaults.fullResolutionDays
    public var seriesDays = StoreRetention.defaults.seriesDays
    public var jobsDays = StoreRetention.defaults.jobsDays
    public var storeMaxBytes = Double(StoreRetention.defaults.maxBytes)
    // [metrics]
    /// `host:port` of the /metrics listener, or `off`.
    public var metricsListen = "127.0.0.1:9477"
    /// Exported energy is floored to this many joules (0.001 at the finest: the side-channel rule).
    public var energyResolutionJoules = 0.001
    /// Exported values change at most this often, seconds; 0: every sampling tick.
    public var metricsUpdateSeconds = 0.0
    /// Ended jobs stay in /metrics this long, seconds, then leave (their totals stay in the store).
    public var endedJobGraceSeconds = 300.0
    // [control]
    /// Members of this group (and root) list, report and end every user's jobs; "": root only.
    public var adminGroup = ""
    /// Jobs running at once, in all and per user (root counts toward the total only).
    public var maxActiveJobs = 1000
    public var maxActiveJobsPerUser = 100
    /// A control connection that sends nothing for this long is closed, seconds.
    public var idleTimeoutSeconds = 10.0
    /// Control connections one user may hold open at once (root is not limited), and in all.
    public var maxConnectionsPerUser = 64
    public var maxConnections = 1024

    public init() {}

    /// What discovery looks for.
    public var discoveryRules: SchedulerCgroupRules {
        SchedulerCgroupRules(slurm: discoverSlurm, containers: discoverContainers, systemdUnits: discoverSystemdUnits, ownSubtree: cgroupSubtree)
    }

    /// The retention in force.
    public var retention: StoreRetention {
        StoreRetention(fullResolutionDays: fullResolutionDays, seriesDays: seriesDays, jobsDays: jobsDays, maxBytes: Int64(storeMaxBytes))
    }

    /// The listener's address; nil when `off`.
    public var metricsAddress: ListenAddress? { try? ListenAddress.parse(metricsListen) }

    /// Problems with the values themselves, all at once.
    public func validationProblems() -> [String] {
        var problems: [String] = []
        if !(0.05...60).contains(intervalSeconds) {
            problems.append("daemon.interval_seconds = \(intervalSeconds): must be between 0.05 and 60 seconds")
        }
        if !(checkpointSeconds >= intervalSeconds && checkpointSeconds <= 600) {
            problems.append("daemon.checkpoint_seconds = \(checkpointSeconds): must be at least the interval and at most 600")
        }
        if let idleWatts, !(idleWatts >= 0 && idleWatts.isFinite) {
            problems.append("power.idle_watts = \(idleWatts): must be zero or more watts")
        }
        if let tdpWatts, !(tdpWatts > 0 && tdpWatts.isFinite) {
            problems.append("power.tdp_watts = \(tdpWatts): must be a positive number of watts")
        }
        if nvmlLibrary.isEmpty {
            problems.append("gpu.nvml_library = \"\": name the library (libnvidia-ml.so.1), a path to it, or \"off\"")
        }
        if !(intensityGramsPerKWh >= 0 && intensityGramsPerKWh.isFinite) {
            problems.append("carbon.intensity_g_per_kwh = \(intensityGramsPerKWh): must be zero or more")
        }
        if !(pue >= 1 && pue <= 5) {
            problems.append("carbon.pue = \(pue): a power usage effectiveness is between 1.0 and 5.0")
        }
        if let pricePerKWh, !(pricePerKWh >= 0 && pricePerKWh.isFinite) {
            problems.append("carbon.price_per_kwh = \(pricePerKWh): must be zero or more")
        }
        if cgroupSubtree.isEmpty || cgroupSubtree.hasPrefix("/") || cgroupSubtree.contains("..") {
            problems.append("jobs.cgroup_subtree = \"\(cgroupSubtree)\": must be a relative cgroup path without ..")
        }
        if !(discoveryScanSeconds >= intervalSeconds && discoveryScanSeconds <= 600) {
            problems.append("discovery.scan_interval_seconds = \(discoveryScanSeconds): must be from the sampling interval up to 600 seconds")
        }
        for pattern in discoverSystemdUnits where pattern.isEmpty || pattern.filter({ $0 == "/" }).count > 1
            || !(pattern.hasSuffix(".service") || pattern.hasSuffix(".scope") || pattern.hasSuffix("*"))
        {
            problems.append("discovery.systemd_units: \"\(pattern)\" is not a unit pattern; write one like \"train-*.service\" or \"user.slice/*.scope\"")
        }
        if !(fullResolutionDays > 0 && fullResolutionDays <= 36_500) {
            problems.append("store.full_resolution_days = \(fullResolutionDays): must be more than 0 days (at most 36500)")
        }
        if !(seriesDays >= fullResolutionDays && seriesDays <= 36_500) {
            problems.append("store.series_days = \(seriesDays): must be at least store.full_resolution_days (\(fullResolutionDays)) and at most 36500")
        }
        if !(jobsDays == 0 || (jobsDays > 0 && jobsDays <= 36_500)) {
            problems.append("store.jobs_days = \(jobsDays): 0 keeps jobs forever; else a number of days up to 36500")
        }
        if !(storeMaxBytes >= 1_048_576 && storeMaxBytes <= 1e15 && storeMaxBytes.rounded() == storeMaxBytes) {
            problems.append("store.max_bytes = \(storeMaxBytes): a whole number of bytes, at least 1048576 (1 MiB); the default is 1073741824 (1 GiB)")
        }
        do {
            _ = try ListenAddress.parse(metricsListen)
        } catch {
            problems.append("metrics.listen = \"\(metricsListen)\": \(error.reason)")
        }
        if !(energyResolutionJoules >= 0.001 && energyResolutionJoules <= 1_000_000) {
            problems.append("metrics.energy_resolution_joules = \(energyResolutionJoules): must be between 0.001 (1 mJ, the finest ergod exports) and 1000000")
        }
        if !(metricsUpdateSeconds == 0 || (metricsUpdateSeconds >= intervalSeconds && metricsUpdateSeconds <= 3600)) {
            problems.append("metrics.update_interval_seconds = \(metricsUpdateSeconds): 0 (every tick) or from the sampling interval up to 3600")
        }
        if !(endedJobGraceSeconds >= 0 && endedJobGraceSeconds <= 86_400) {
            problems.append("metrics.ended_job_grace_seconds = \(endedJobGraceSeconds): must be between 0 and 86400")
        }
        for (key, value, ceiling) in [
            ("control.max_active_jobs", maxActiveJobs, 100_000), ("control.max_active_jobs_per_user", maxActiveJobsPerUser, 100_000),
            ("control.max_connections_per_user", maxConnectionsPerUser, 65_536), ("control.max_connections", maxConnections, 65_536),
        ] where !(1...ceiling).contains(value) {
            problems.append("\(key) = \(value): must be a whole number from 1 to \(ceiling)")
        }
        if !(idleTimeoutSeconds >= 0.1 && idleTimeoutSeconds <= 3600) {
            problems.append("control.idle_timeout_seconds = \(idleTimeoutSeconds): must be between 0.1 and 3600 seconds")
        }
        if !adminGroup.isEmpty && UserDatabase.groupID(named: adminGroup) == nil {
            problems.append("control.admin_group = \"\(adminGroup)\": no such group (getent group \(adminGroup)); create it or leave \"\" for root only")
        }
        return problems
    }

    /// The seconds between two publications of /metrics values: never shorter than a tick.
    var metricsPublishSeconds: Double { max(metricsUpdateSeconds, intervalSeconds) }

    /// The keys whose values differ from `other`'s and need a restart to take effect (the keys
    /// are declared once, in `ConfigurationKey.all`).
    func restartOnlyDifferences(from other: DaemonConfiguration) -> [String] {
        ConfigurationKey.all.filter { !$0.reloadable && $0.differs(self, other) }.map(\.name)
    }
}

enum ConfigurationValueKind: String, Sendable {
    case number, string, boolean, strings
}

/// A configuration that cannot be used, with every problem found (file, line, key, why).
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var problems: [String]

    public init(file: String, problems: [String]) {
        self.file = file
        self.problems = problems
    }

    public var description: String {
        "invalid configuration \(file):\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
            + "\nEvery key and its default is documented in Config/ergometer.toml."
    }
}
