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

    /// The folders a scan lists, kept open between scans (`KeptOpenDirectory`), with what it
    /// found in each, so that the next scan classifies again only the folders whose entries
    /// changed (a Slurm node's `slurmstepd.scope` changes a few times an hour; every scan lists
    /// it). One descriptor per folder descended into: the root, the slices, the schedulers'
    /// parents.
    public struct Memo: Sendable {
        fileprivate struct Folder: Sendable {
            var directory: KeptOpenDirectory
            var found: [Found] = []
            var descend: [(relative: String, components: [Substring])] = []
            /// The scan that last listed it (folders no scan reaches any more are let go).
            var scan = 0
        }

        fileprivate var folders: [String: Folder] = [:]
        fileprivate var scans = 0

        public init() {}
    }

    /// What a scan found: the jobs, how many folders it listed, and whether anything differs
    /// from the scan before with the same memo (a folder's entries, a folder that could not be
    /// listed, one no longer reached); always true without a memo.
    public struct Outcome: Sendable {
        public var found: [Found] = []
        public var foldersListed = 0
        public var changed = false
    }

    /// The jobs found now (a folder that vanished while it was walked is passed over: cgroups
    /// come and go).
    public func scan() -> Outcome {
        var memo = Memo()
        return scan(memo: &memo)
    }

    /// As `scan()`, listing the folders `memo` keeps open again and reusing what it holds for a
    /// folder whose entries are the same; `memo` then holds this scan's folders.
    public func scan(memo: inout Memo) -> Outcome {
        var outcome = Outcome()
        memo.scans += 1
        var pending: [(relative: String, components: [Substring])] = [("", [])]
        while let (relative, parents) = pending.popLast() {
            var folder = memo.folders[relative] ?? Memo.Folder(directory: KeptOpenDirectory(path: relative.isEmpty ? mountPoint : mountPoint + relative))
            folder.scan = memo.scans
            switch folder.directory.subdirectories() {
            case .failure:
                if memo.folders.removeValue(forKey: relative) != nil { outcome.changed = true }
                continue
            case .success(.unchanged):
                break
            case .success(.changed(let names)):
                outcome.changed = true
                folder.found.removeAll()
                folder.descend.removeAll()
                var components = parents  // the folder's path, then each entry's in turn in the last place
                components.reserveCapacity(parents.count + 1)
                for name in names {
                    components.append(name[...])
                    defer { components.removeLast() }
                    switch rules.classify(components) {
                    case .job(let identity): folder.found.append(Found(hierarchy: hierarchy, path: relative + "/" + name, identity: identity))
                    case .descend: folder.descend.append((relative + "/" + name, components))
                    case .skip: break
                    }
                }
            }
            outcome.foldersListed += 1
            outcome.found += folder.found
            pending += folder.descend
            memo.folders[relative] = folder
        }
        if memo.folders.count != outcome.foldersListed {  // folders no longer reached: let go
            memo.folders = memo.folders.filter { $0.value.scan == memo.scans }
            outcome.changed = true
        }
        return outcome
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
