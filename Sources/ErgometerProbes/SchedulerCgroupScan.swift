public import ErgometerCore

/// One walk of a cgroup hierarchy for the box's schedulers' jobs: from the root, into the
/// folders `SchedulerCgroupRules` says to descend into (slices, Slurm's and Kubernetes'
/// parents), never into a job. Cost: one directory listing per folder descended into.
public struct SchedulerCgroupScan: Sendable {
    /// Which hierarchy a path is in.
    public enum Hierarchy: String, Sendable, Equatable {
        case unified = "v2"
        case cpuacct = "v1"
    }

    /// A scheduler's job, by its cgroup path inside the hierarchy (`/system.slice/…`).
    public struct Found: Sendable, Equatable {
        public var hierarchy: Hierarchy
        public var path: String
        public var identity: SchedulerJobIdentity
    }

    public let hierarchy: Hierarchy
    public let mountPoint: String
    public let rules: SchedulerCgroupRules

    public init(hierarchy: Hierarchy, mountPoint: String, rules: SchedulerCgroupRules) {
        self.hierarchy = hierarchy
        self.mountPoint = mountPoint
        self.rules = rules
    }

    /// The jobs found now, and how many folders were listed (a folder that vanished while it was
    /// walked is passed over: cgroups come and go).
    public func scan() -> (found: [Found], foldersListed: Int) {
        var found: [Found] = []
        var listed = 0
        var pending: [[Substring]] = [[]]
        while let components = pending.popLast() {
            let relative = components.joined(separator: "/")
            guard case .success(let names) = Directory.subdirectories(relative.isEmpty ? mountPoint : mountPoint + "/" + relative) else { continue }
            listed += 1
            for name in names {
                let path = components + [name[...]]
                switch rules.classify(path) {
                case .job(let identity): found.append(Found(hierarchy: hierarchy, path: "/" + path.joined(separator: "/"), identity: identity))
                case .descend: pending.append(path)
                case .skip: break
                }
            }
        }
        return (found, listed)
    }
}

/// What a scheduler's cgroup holds: its processes (the first few, for its owner and name) and
/// whether it is empty (v2: `cgroup.events` says `populated 0`; v1, which has no such file: no
/// process in it or any folder below), or gone.
public struct SchedulerCgroupFolder: Sendable {
    public let directory: String
    public let hierarchy: SchedulerCgroupScan.Hierarchy

    public init(directory: String, hierarchy: SchedulerCgroupScan.Hierarchy) {
        self.directory = directory
        self.hierarchy = hierarchy
    }

    /// Up to `limit` processes in the folder and the folders below it (depth first, at most 6 deep).
    public func processes(limit: Int) -> [Int32] {
        var pids: [Int32] = []
        collect(directory, depth: 0, limit: limit, into: &pids)
        return pids
    }

    private func collect(_ folder: String, depth: Int, limit: Int, into pids: inout [Int32]) {
        guard pids.count < limit, depth <= 6 else { return }
        if case .success(let text) = SysfsFile.readText(folder + "/cgroup.procs") {
            for line in text.split(separator: "\n") {
                guard pids.count < limit else { return }
                if let pid = Int32(line) { pids.append(pid) }
            }
        }
        guard case .success(let children) = Directory.subdirectories(folder) else { return }
        for child in children { collect(folder + "/" + child, depth: depth + 1, limit: limit, into: &pids) }
    }

    /// Whether the job is over: its folder removed, or no process left in it.
    public var isEmptyOrGone: Bool {
        guard Directory.isDirectory(directory) else { return true }
        switch hierarchy {
        case .unified:
            guard case .success(let events) = SysfsFile.readText(directory + "/cgroup.events") else { return !Directory.isDirectory(directory) }
            return events.contains("populated 0")
        case .cpuacct:
            return processes(limit: 1).isEmpty
        }
    }
}
