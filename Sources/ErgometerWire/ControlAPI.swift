/// The control API between `ergod`, `ergo` and training programs: HTTP/1.1 with JSON bodies
/// on ergod's Unix socket. Paths carry the version; a breaking change gets a new one.
public enum ControlAPI {
    public static let version = "v1"
    /// `ergod`'s socket unless `--socket` or `$ERGOMETER_SOCKET` says otherwise.
    public static let defaultSocketPath = "/run/ergometer/ergod.sock"
    /// Set by `ergo run` in the command's environment.
    public static let jobIDEnvironment = "ERGOMETER_JOB_ID"
    public static let socketEnvironment = "ERGOMETER_SOCKET"

    public static let jobsPath = "/v1/jobs"
    public static let ledgerPath = "/v1/ledger"
    /// The job store: size, rows, retention, last prune (`ergo store`).
    public static let storePath = "/v1/store"
    public static let livePath = "/v1/live"
    public static let healthPath = "/v1/health"
    public static func jobPath(_ id: String) -> String { "/v1/jobs/\(id)" }
    public static func endJobPath(_ id: String) -> String { "/v1/jobs/\(id)/end" }
    public static func seriesPath(_ id: String) -> String { "/v1/jobs/\(id)/series" }
    public static func progressPath(_ id: String) -> String { "/v1/jobs/\(id)/progress" }
}

/// `POST /v1/jobs/{id}/progress`: what a training program did since its last report (FLOPs,
/// steps, samples, as increments) and its latest named metrics (loss, error rate). Sent in
/// batches by `TrainingReporter`.
public struct JobProgress: Codable, Sendable, Equatable {
    public var flops: Double
    public var steps: Int64
    public var samples: Int64
    public var metrics: [String: Double]
    /// Increases with every report of a job; a report sent again after a lost answer carries
    /// the same number and is applied once.
    public var sequence: Int64?

    public init(flops: Double = 0, steps: Int64 = 0, samples: Int64 = 0, metrics: [String: Double] = [:], sequence: Int64? = nil) {
        self.flops = flops
        self.steps = steps
        self.samples = samples
        self.metrics = metrics
        self.sequence = sequence
    }

    /// Nothing to report.
    public var isEmpty: Bool { flops == 0 && steps == 0 && samples == 0 && metrics.isEmpty }

    /// At most this many metric names per job, each at most `maximumMetricNameLength` bytes.
    public static let maximumMetrics = 64
    public static let maximumMetricNameLength = 64

    /// Why ergod refuses a report, or nil when it takes it.
    public var problem: String? {
        if !(flops >= 0 && flops.isFinite) { return "flops \(flops): an increment is zero or more" }
        if steps < 0 || samples < 0 { return "steps and samples are increments: zero or more" }
        if metrics.count > Self.maximumMetrics { return "\(metrics.count) metrics: at most \(Self.maximumMetrics)" }
        if let long = metrics.keys.first(where: { $0.utf8.count > Self.maximumMetricNameLength || $0.isEmpty }) {
            return "metric name \"\(long.prefix(80))\": 1 to \(Self.maximumMetricNameLength) bytes"
        }
        if let bad = metrics.first(where: { !$0.value.isFinite }) { return "metric \(bad.key) = \(bad.value): must be finite" }
        return nil
    }
}

/// `POST /v1/jobs`: start measuring a job. The caller's process (`pid`) is moved into the job's
/// cgroup, so the command it then starts, and everything that command starts, is measured.
public struct RegisterJobRequest: Codable, Sendable, Equatable {
    public var name: String
    /// A label that spans boxes (`job_id` in Prometheus); generated when absent.
    public var jobID: String?
    public var labels: [String: String]
    public var command: [String]
    /// The process to measure (with its descendants); must be the caller itself or its child.
    public var pid: Int32
    /// Processors the job declares (e.g. GPUs); nil means effective busy cores.
    public var processors: Int?

    public init(name: String, jobID: String?, labels: [String: String], command: [String], pid: Int32, processors: Int?) {
        self.name = name
        self.jobID = jobID
        self.labels = labels
        self.command = command
        self.pid = pid
        self.processors = processors
    }

    enum CodingKeys: String, CodingKey {
        case name, jobID = "job_id", labels, command, pid, processors
    }

    /// Bounds on what one registration may carry (it ends up in the store and in /metrics).
    public static let maximumNameLength = 256
    public static let maximumJobIDLength = 128
    public static let maximumLabels = 32
    public static let maximumLabelKeyLength = 64
    public static let maximumLabelValueLength = 256
    public static let maximumCommandArguments = 512
    public static let maximumCommandBytes = 32 * 1024
    public static let maximumProcessors = 1_000_000

    /// Why ergod refuses the registration, or nil when it takes it.
    public var problem: String? {
        if pid <= 0 { return "pid \(pid): give the process to measure" }
        if name.isEmpty || name.utf8.count > Self.maximumNameLength { return "name: 1 to \(Self.maximumNameLength) bytes" }
        if let jobID, jobID.isEmpty || jobID.utf8.count > Self.maximumJobIDLength {
            return "job_id: 1 to \(Self.maximumJobIDLength) bytes"
        }
        if labels.count > Self.maximumLabels { return "\(labels.count) labels: at most \(Self.maximumLabels)" }
        for (key, value) in labels {
            if !Self.isLabelKey(key) {
                return "label \"\(key.prefix(80))\": a key is 1 to \(Self.maximumLabelKeyLength) letters, digits or _, not starting with a digit"
            }
            if value.utf8.count > Self.maximumLabelValueLength { return "label \(key): value longer than \(Self.maximumLabelValueLength) bytes" }
        }
        if command.count > Self.maximumCommandArguments || command.reduce(0, { $0 + $1.utf8.count }) > Self.maximumCommandBytes {
            return "command: at most \(Self.maximumCommandArguments) arguments and \(Self.maximumCommandBytes) bytes"
        }
        if let processors, !(1...Self.maximumProcessors).contains(processors) {
            return "processors \(processors): 1 to \(Self.maximumProcessors)"
        }
        return nil
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`, at most `maximumLabelKeyLength` bytes: a Prometheus label name.
    public static func isLabelKey(_ key: String) -> Bool {
        let bytes = key.utf8
        guard let first = bytes.first, bytes.count <= maximumLabelKeyLength else { return false }
        func letter(_ byte: UInt8) -> Bool { (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 95 }
        return letter(first) && bytes.allSatisfy { letter($0) || ($0 >= 48 && $0 <= 57) }
    }
}

/// How a job's CPU time is followed.
public enum JobTracking: String, Codable, Sendable {
    /// Its own cgroup v2 (`cpu.stat` usage_usec): exact, includes every descendant.
    case cgroup
    /// Its process tree in /proc: used where cgroups cannot be written; misses processes that
    /// leave the tree (daemonized children) between two ticks.
    case processTree = "process-tree"
    /// A scheduler's cgroup in the v1 `cpuacct` hierarchy (`cpuacct.usage`, ns): Slurm on
    /// cgroup v1 and hybrid hosts.
    case cgroupV1 = "cgroup-v1"
}

public struct RegisterJobResponse: Codable, Sendable, Equatable {
    public var id: String
    public var jobID: String
    public var tracking: JobTracking
    /// Why the job is tracked by process tree, when it is.
    public var trackingNote: String?

    public init(id: String, jobID: String, tracking: JobTracking, trackingNote: String?) {
        self.id = id
        self.jobID = jobID
        self.tracking = tracking
        self.trackingNote = trackingNote
    }

    enum CodingKeys: String, CodingKey {
        case id, jobID = "job_id", tracking, trackingNote = "tracking_note"
    }
}

/// `POST /v1/jobs/{id}/end`: the job's command exited.
public struct EndJobRequest: Codable, Sendable, Equatable {
    public var exitStatus: Int32

    public init(exitStatus: Int32) { self.exitStatus = exitStatus }

    enum CodingKeys: String, CodingKey { case exitStatus = "exit_status" }
}

/// An error body: what went wrong and what to do.
public struct APIError: Codable, Sendable, Equatable, Error, CustomStringConvertible {
    public var error: String

    public init(_ error: String) { self.error = error }

    public var description: String { error }
}
