import ErgometerCore

/// One key of ergod's configuration file, declared once: its `section.key` name, where its value
/// lives in `DaemonConfiguration`, and whether a SIGHUP can change it. The loader, the reload,
/// the list of known keys and the documentation test all read this table.
struct ConfigurationKey: Sendable {
    /// Where the value goes, by its TOML type.
    enum Value: @unchecked Sendable {
        case number(WritableKeyPath<DaemonConfiguration, Double>)
        case optionalNumber(WritableKeyPath<DaemonConfiguration, Double?>)
        case wholeNumber(WritableKeyPath<DaemonConfiguration, Int>)
        case string(WritableKeyPath<DaemonConfiguration, String>)
        case optionalString(WritableKeyPath<DaemonConfiguration, String?>)
        case idlePolicy(WritableKeyPath<DaemonConfiguration, IdlePolicy>)
        case flag(WritableKeyPath<DaemonConfiguration, Bool>)
        case strings(WritableKeyPath<DaemonConfiguration, [String]>)
    }

    let name: String
    let value: Value
    /// Whether a SIGHUP applies it; the others need a restart.
    let reloadable: Bool

    var kind: ConfigurationValueKind {
        switch value {
        case .number, .optionalNumber, .wholeNumber: .number
        case .string, .optionalString, .idlePolicy: .string
        case .flag: .boolean
        case .strings: .strings
        }
    }

    /// Sets a number; a problem to report when it does not fit the key.
    func assign(number: Double, to configuration: inout DaemonConfiguration) -> String? {
        switch value {
        case .number(let path): configuration[keyPath: path] = number
        case .optionalNumber(let path): configuration[keyPath: path] = number
        case .wholeNumber(let path):
            guard number.rounded() == number, abs(number) < 1e9 else { return "must be a whole number, found \(number)" }
            configuration[keyPath: path] = Int(number)
        case .string, .optionalString, .idlePolicy, .flag, .strings: preconditionFailure("\(name) takes no number")
        }
        return nil
    }

    /// Sets a string; a problem to report when it does not fit the key.
    func assign(string: String, to configuration: inout DaemonConfiguration) -> String? {
        switch value {
        case .string(let path): configuration[keyPath: path] = string
        case .optionalString(let path): configuration[keyPath: path] = string
        case .idlePolicy(let path):
            guard let policy = IdlePolicy(rawValue: string) else {
                return "\"\(string)\" is not a policy; use \"proportional\" or \"separate\""
            }
            configuration[keyPath: path] = policy
        case .number, .optionalNumber, .wholeNumber, .flag, .strings: preconditionFailure("\(name) takes no single string")
        }
        return nil
    }

    /// Sets a boolean or a list of strings.
    func assign(flag: Bool, to configuration: inout DaemonConfiguration) {
        guard case .flag(let path) = value else { preconditionFailure("\(name) takes no boolean") }
        configuration[keyPath: path] = flag
    }

    func assign(strings: [String], to configuration: inout DaemonConfiguration) {
        guard case .strings(let path) = value else { preconditionFailure("\(name) takes no list") }
        configuration[keyPath: path] = strings
    }

    /// Whether two configurations hold different values for this key.
    func differs(_ lhs: DaemonConfiguration, _ rhs: DaemonConfiguration) -> Bool {
        switch value {
        case .number(let path): lhs[keyPath: path] != rhs[keyPath: path]
        case .optionalNumber(let path): lhs[keyPath: path] != rhs[keyPath: path]
        case .wholeNumber(let path): lhs[keyPath: path] != rhs[keyPath: path]
        case .string(let path): lhs[keyPath: path] != rhs[keyPath: path]
        case .optionalString(let path): lhs[keyPath: path] != rhs[keyPath: path]
        case .idlePolicy(let path): lhs[keyPath: path] != rhs[keyPath: path]
        case .flag(let path): lhs[keyPath: path] != rhs[keyPath: path]
        case .strings(let path): lhs[keyPath: path] != rhs[keyPath: path]
        }
    }

    /// Every key of the file, in the order Config/ergometer.toml documents them.
    static let all: [ConfigurationKey] = [
        .init(name: "daemon.interval_seconds", value: .number(\.intervalSeconds), reloadable: false),
        .init(name: "daemon.checkpoint_seconds", value: .number(\.checkpointSeconds), reloadable: true),
        .init(name: "daemon.state_dir", value: .string(\.stateDirectory), reloadable: false),
        .init(name: "daemon.socket", value: .string(\.socketPath), reloadable: false),
        .init(name: "daemon.sysfs_root", value: .string(\.sysfsRoot), reloadable: false),
        .init(name: "daemon.procfs_root", value: .string(\.procfsRoot), reloadable: false),
        .init(name: "daemon.roots_change_in_place", value: .flag(\.rootsChangeInPlace), reloadable: false),
        .init(name: "power.idle_policy", value: .idlePolicy(\.idlePolicy), reloadable: true),
        .init(name: "power.idle_watts", value: .optionalNumber(\.idleWatts), reloadable: true),
        .init(name: "power.tdp_watts", value: .optionalNumber(\.tdpWatts), reloadable: false),
        .init(name: "gpu.nvml_library", value: .string(\.nvmlLibrary), reloadable: false),
        .init(name: "carbon.intensity_g_per_kwh", value: .number(\.intensityGramsPerKWh), reloadable: true),
        .init(name: "carbon.intensity_csv", value: .optionalString(\.intensityCSV), reloadable: true),
        .init(name: "carbon.pue", value: .number(\.pue), reloadable: true),
        .init(name: "carbon.price_per_kwh", value: .optionalNumber(\.pricePerKWh), reloadable: true),
        .init(name: "carbon.price_csv", value: .optionalString(\.priceCSV), reloadable: true),
        .init(name: "carbon.currency", value: .string(\.currency), reloadable: true),
        .init(name: "jobs.cgroup_subtree", value: .string(\.cgroupSubtree), reloadable: false),
        .init(name: "discovery.slurm", value: .flag(\.discoverSlurm), reloadable: false),
        .init(name: "discovery.containers", value: .flag(\.discoverContainers), reloadable: false),
        .init(name: "discovery.systemd_units", value: .strings(\.discoverSystemdUnits), reloadable: false),
        .init(name: "discovery.scan_interval_seconds", value: .number(\.discoveryScanSeconds), reloadable: false),
        .init(name: "store.full_resolution_days", value: .number(\.fullResolutionDays), reloadable: true),
        .init(name: "store.series_days", value: .number(\.seriesDays), reloadable: true),
        .init(name: "store.jobs_days", value: .number(\.jobsDays), reloadable: true),
        .init(name: "store.max_bytes", value: .number(\.storeMaxBytes), reloadable: true),
        .init(name: "metrics.listen", value: .string(\.metricsListen), reloadable: false),
        .init(name: "metrics.energy_resolution_joules", value: .number(\.energyResolutionJoules), reloadable: true),
        .init(name: "metrics.update_interval_seconds", value: .number(\.metricsUpdateSeconds), reloadable: true),
        .init(name: "metrics.ended_job_grace_seconds", value: .number(\.endedJobGraceSeconds), reloadable: true),
        .init(name: "control.admin_group", value: .string(\.adminGroup), reloadable: true),
        .init(name: "control.max_active_jobs", value: .wholeNumber(\.maxActiveJobs), reloadable: true),
        .init(name: "control.max_active_jobs_per_user", value: .wholeNumber(\.maxActiveJobsPerUser), reloadable: true),
        .init(name: "control.idle_timeout_seconds", value: .number(\.idleTimeoutSeconds), reloadable: false),
        .init(name: "control.max_connections_per_user", value: .wholeNumber(\.maxConnectionsPerUser), reloadable: false),
        .init(name: "control.max_connections", value: .wholeNumber(\.maxConnections), reloadable: false),
    ]

    /// The keys by name.
    static let byName: [String: ConfigurationKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}
