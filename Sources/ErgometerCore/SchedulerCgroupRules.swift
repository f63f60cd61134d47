/// The schedulers whose jobs ergod finds by the cgroups they make.
public enum JobScheduler: String, Codable, Sendable, CaseIterable {
    case slurm, systemd, docker, podman, containerd, crio, kubernetes
}

/// A job a scheduler made, as its cgroup folder names it.
public struct SchedulerJobIdentity: Equatable, Sendable {
    public var scheduler: JobScheduler
    /// The scheduler's own id, the same on every box: the Slurm job id (or 26.05's SLUID folder
    /// name), the unit name, the short container id, the pod UID.
    public var jobID: String
    /// The name until a better one is known (a Slurm job's `SLURM_JOB_NAME`).
    public var defaultName: String
    /// The owner the path names (Slurm on cgroup v1: `uid_<U>`); nil: its first process's.
    public var uid: Int?

    public init(scheduler: JobScheduler, jobID: String, defaultName: String, uid: Int? = nil) {
        self.scheduler = scheduler
        self.jobID = jobID
        self.defaultName = defaultName
        self.uid = uid
    }
}

/// Which cgroup folders are jobs of the box's schedulers: names in, decisions out. A scan asks
/// it about each folder from the hierarchy's root down and descends only where it says so, so a
/// scan reads a few directories (the slices, Slurm's and Kubernetes' parents), not every
/// cgroup, and never the inside of a job (Slurm's steps are not jobs, a pod's containers are
/// the pod's).
///
/// Layouts (cgroup v2 with systemd, the cgroupfs drivers, and v1's cpuacct tree):
/// - Slurm: `…/slurmstepd.scope/job_<N>` (and `<node>_slurmstepd.scope`; a folder there that is
///   neither `job_<N>` nor `system` is 26.05's SLUID-named job, its name its id); v1:
///   `slurm[_<host>]/uid_<U>/job_<N>`.
/// - Docker `docker-<id>.scope` (cgroupfs: `docker/<id>`), Podman `libpod-<id>.scope`,
///   containerd `cri-containerd-<id>.scope`, CRI-O `crio-<id>.scope` (the `conmon` scopes
///   beside them are not containers); id = the first 12 hex digits.
/// - Kubernetes: `kubepods[-<qos>]-pod<uid>.slice` (cgroupfs: `kubepods[/<qos>]/pod<uid>`), a pod
///   one job, id = the pod UID.
/// - systemd units (`.service`, `.scope`) matching a configured pattern: `train-*.service`
///   anywhere, or `user.slice/*.scope` for units under a slice of that name.
public struct SchedulerCgroupRules: Sendable, Equatable {
    public var slurm: Bool
    public var containers: Bool
    /// Glob patterns (`*`, `?`) of systemd unit names, optionally `<slice>/<pattern>`.
    public var systemdUnits: [String]
    /// ergod's own subtree (`ergo run`'s cgroups): never a scheduler's.
    public var ownSubtree: String
    /// How deep a scan goes at most.
    public static let maximumDepth = 10

    public init(slurm: Bool = true, containers: Bool = true, systemdUnits: [String] = [], ownSubtree: String = "ergometer") {
        self.slurm = slurm
        self.containers = containers
        self.systemdUnits = systemdUnits
        self.ownSubtree = ownSubtree
    }

    /// What a scan does with one folder.
    public enum Decision: Equatable, Sendable {
        case job(SchedulerJobIdentity)
        case descend
        case skip
    }

    /// Whether any source is on.
    public var isEnabled: Bool { slurm || containers || !systemdUnits.isEmpty }

    /// What the folder whose path from the hierarchy's root is `components` (itself last) is.
    public func classify(_ components: [Substring]) -> Decision {
        guard let name = components.last, components.count <= Self.maximumDepth else { return .skip }
        let parents = components.dropLast()
        if components.count == 1 && name == ownSubtree[...] { return .skip }
        if slurm, let decision = slurmDecision(name, parents: parents) { return decision }
        if containers, let decision = containerDecision(name, parents: parents) { return decision }
        if !systemdUnits.isEmpty, name.hasSuffix(".service") || name.hasSuffix(".scope"), matchesUnit(name, parents: parents) {
            return .job(SchedulerJobIdentity(scheduler: .systemd, jobID: String(name), defaultName: String(name)))
        }
        if name.hasSuffix(".slice") { return .descend }
        // A user's systemd instance holds its own slices (app.slice) with that user's units.
        if !systemdUnits.isEmpty, name.hasPrefix("user@"), name.hasSuffix(".service") { return .descend }
        return .skip
    }

    private func slurmDecision(_ name: Substring, parents: ArraySlice<Substring>) -> Decision? {
        if name == "slurmstepd.scope" || name.hasSuffix("_slurmstepd.scope") { return .descend }
        if let parent = parents.last, parent == "slurmstepd.scope" || parent.hasSuffix("_slurmstepd.scope") {
            if name == "system" { return .skip }  // slurmstepd's own processes
            let id = name.hasPrefix("job_") && Self.isDigits(name.dropFirst(4)) ? name.dropFirst(4) : name
            return .job(SchedulerJobIdentity(scheduler: .slurm, jobID: String(id), defaultName: "slurm-\(id)"))
        }
        // cgroup v1: slurm[_<host>]/uid_<U>/job_<N>
        let isSlurmRoot: (Substring) -> Bool = { $0 == "slurm" || $0.hasPrefix("slurm_") }
        if parents.isEmpty && isSlurmRoot(name) { return .descend }
        if parents.count == 1, isSlurmRoot(parents[parents.startIndex]), name.hasPrefix("uid_"), Self.isDigits(name.dropFirst(4)) { return .descend }
        if parents.count == 2, isSlurmRoot(parents[parents.startIndex]), let uidFolder = parents.last, uidFolder.hasPrefix("uid_"),
            name.hasPrefix("job_"), Self.isDigits(name.dropFirst(4))
        {
            let id = name.dropFirst(4)
            return .job(SchedulerJobIdentity(scheduler: .slurm, jobID: String(id), defaultName: "slurm-\(id)", uid: Int(uidFolder.dropFirst(4))))
        }
        return nil
    }

    private func containerDecision(_ name: Substring, parents: ArraySlice<Substring>) -> Decision? {
        for (prefix, scheduler) in Self.containerScopes {
            guard name.hasPrefix(prefix), name.hasSuffix(".scope") else { continue }
            let id = name.dropFirst(prefix.count).dropLast(".scope".count)
            guard id.count >= 12, Self.isHex(id) else { return .skip }  // conmon-<id>.scope and the like
            return .job(SchedulerJobIdentity(scheduler: scheduler, jobID: String(id.prefix(12)), defaultName: "\(scheduler.rawValue)-\(id.prefix(12))"))
        }
        // The cgroupfs drivers: docker/<id>, kubepods[/<qos>]/pod<uid>.
        if parents.count == 1, parents.last == "docker", name.count == 64, Self.isHex(name) {
            return .job(SchedulerJobIdentity(scheduler: .docker, jobID: String(name.prefix(12)), defaultName: "docker-\(name.prefix(12))"))
        }
        if let uid = Self.podUID(name, parents: parents) {
            return .job(SchedulerJobIdentity(scheduler: .kubernetes, jobID: uid, defaultName: "pod-\(uid)"))
        }
        if name == "docker" && parents.isEmpty { return .descend }
        if name == "kubepods" && parents.isEmpty { return .descend }
        if parents.last == "kubepods", name == "burstable" || name == "besteffort" { return .descend }
        return nil
    }

    static let containerScopes: [(String, JobScheduler)] = [
        ("docker-", .docker), ("libpod-", .podman), ("cri-containerd-", .containerd), ("crio-", .crio),
    ]

    /// The pod UID of a pod's folder: `kubepods-burstable-pod<uid>.slice` (systemd: the UID's
    /// dashes are underscores) or `pod<uid>` under `kubepods`.
    static func podUID(_ name: Substring, parents: ArraySlice<Substring>) -> String? {
        if name.hasPrefix("kubepods"), name.hasSuffix(".slice"), let range = name.firstRange(of: "-pod") {
            let uid = name[range.upperBound...].dropLast(".slice".count)
            guard !uid.isEmpty, !uid.contains("-") else { return nil }
            return String(uid.map { $0 == "_" ? "-" : $0 })
        }
        if name.hasPrefix("pod"), name.count > 3, parents.first == "kubepods" {
            return String(name.dropFirst(3))
        }
        return nil
    }

    private func matchesUnit(_ name: Substring, parents: ArraySlice<Substring>) -> Bool {
        systemdUnits.contains { pattern in
            guard let slash = pattern.lastIndex(of: "/") else { return Glob.matches(pattern[...], name) }
            let slice = pattern[..<slash]
            return Glob.matches(pattern[pattern.index(after: slash)...], name) && parents.contains { Glob.matches(slice, $0) }
        }
    }

    static func isDigits(_ text: Substring) -> Bool { !text.isEmpty && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }

    static func isHex(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

/// Shell-style patterns of names: `*` any run of characters, `?` one character, the rest itself.
public enum Glob {
    public static func matches(_ pattern: Substring, _ name: Substring) -> Bool {
        let pattern = Array(pattern.utf8)
        let name = Array(name.utf8)
        var p = 0
        var n = 0
        var star: Int?
        var resume = 0
        while n < name.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == name[n] {
                p += 1
                n += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p
                resume = n
                p += 1
            } else if let star {
                p = star + 1
                resume += 1
                n = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
