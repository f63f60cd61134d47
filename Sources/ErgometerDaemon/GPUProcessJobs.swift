/// Which job each process seen on an NVIDIA GPU belongs to, looked up once per process: a
/// process keeps its entry while NVML lists it on every tick, so a tick looks up only the
/// processes that are new on a GPU. Entries go when their process is not listed for a tick (so a
/// reused pid is looked up again), when the jobs change, and all of them every
/// `refreshSeconds` (a process moved between cgroups is seen within that).
struct GPUProcessJobs {
    /// How long an entry is trusted at most.
    static let refreshSeconds = 60.0

    /// Where jobs are found: each cgroup job's cgroup path (v2 and v1), each process-tree job's
    /// root, and the jobs that run inside another (an `ergo run` in a Slurm job).
    struct JobIndex {
        var cgroups: [String: String] = [:]
        var cgroupsV1: [String: String] = [:]
        var processTreeRoots: [Int32: String] = [:]
        var enclosing: [String: String] = [:]

        /// Of the jobs that hold a process, the innermost: one no other of them runs inside.
        func innermost(_ candidates: [String]) -> String? {
            candidates.first { candidate in !candidates.contains { enclosing[$0] == candidate } }
        }
    }

    private struct Entry {
        var job: String?
        var seenInTick: UInt64
    }

    private var entries: [Int32: Entry] = [:]
    private var stale: [Int32] = []
    private var tick: UInt64 = 0
    private var lastRefresh: UInt64?
    /// Built on the first lookup after the jobs change, then kept.
    private var index: JobIndex?

    /// Starts a tick at `now` (monotonic ns).
    mutating func beginTick(now: UInt64) {
        tick &+= 1
        if let lastRefresh, Double(now &- lastRefresh) / 1e9 < Self.refreshSeconds { return }
        entries.removeAll(keepingCapacity: true)
        lastRefresh = now
    }

    /// The job of `pid` (nil: outside every job); `lookUp` runs only for a process not known.
    mutating func job(of pid: Int32, index buildIndex: () -> JobIndex, lookUp: (Int32, JobIndex) -> String?) -> String? {
        if let known = entries[pid] {
            entries[pid]!.seenInTick = tick
            return known.job
        }
        if index == nil { index = buildIndex() }
        let found = lookUp(pid, index!)
        entries[pid] = Entry(job: found, seenInTick: tick)
        return found
    }

    /// Ends the tick: processes not seen in it are forgotten.
    mutating func endTick() {
        guard entries.count > 0 else { return }
        stale.removeAll(keepingCapacity: true)
        for (pid, entry) in entries where entry.seenInTick != tick { stale.append(pid) }
        for pid in stale { entries[pid] = nil }
    }

    /// A job started or ended: every process may now be in another job.
    mutating func jobsChanged() {
        entries.removeAll(keepingCapacity: true)
        index = nil
    }

    /// Processes known now (for tests and the bench).
    var count: Int { entries.count }
}
