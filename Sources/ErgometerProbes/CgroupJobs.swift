#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Creates, fills and removes the per-job cgroups under the subtree ergod owns
/// (`<cgroup2 mount>/ergometer/job-<id>`).
public struct CgroupJobs: Sendable {
    public var hierarchy: CgroupV2
    public var subtree: String

    public init(hierarchy: CgroupV2, subtree: String) {
        self.hierarchy = hierarchy
        self.subtree = subtree
    }

    /// Why a job could not get its own cgroup.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var errno: Int32
        public var description: String { "\(path): \(String(cString: strerror(errno)))" }
    }

    /// The cgroup path (inside the hierarchy) of a job.
    public func cgroup(forJob id: String) -> String { "/\(subtree)/job-\(id)" }

    /// Makes the job's cgroup and moves `pid` into it; its future children follow.
    public func create(job id: String, moving pid: Int32) -> Result<String, Failure> {
        let parent = hierarchy.directory(of: "/\(subtree)")
        if mkdir(parent, 0o755) != 0 && errno != EEXIST { return .failure(Failure(path: parent, errno: errno)) }
        let cgroup = cgroup(forJob: id)
        let directory = hierarchy.directory(of: cgroup)
        if mkdir(directory, 0o755) != 0 && errno != EEXIST { return .failure(Failure(path: directory, errno: errno)) }
        if case .failure(let failure) = move(pid: pid, to: cgroup) {
            rmdir(directory)
            return .failure(failure)
        }
        return .success(cgroup)
    }

    /// Writes `pid` into a cgroup's `cgroup.procs`.
    public func move(pid: Int32, to cgroup: String) -> Result<Void, Failure> {
        let path = hierarchy.directory(of: cgroup) + "/cgroup.procs"
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Failure(path: path, errno: errno)) }
        defer { close(fd) }
        let text = Array("\(pid)\n".utf8)
        guard write(fd, text, text.count) == text.count else { return .failure(Failure(path: path, errno: errno)) }
        return .success(())
    }

    /// The cgroup v2 path a process is in now (`0::/user.slice/...` in `/proc/<pid>/cgroup`).
    public static func currentCgroup(of pid: Int32, procfs: ProcFS) -> String? {
        ProcessCgroups.of(pid, procfs: procfs)?.unified
    }

    /// Moves the given processes back where they came from and removes the job's cgroup.
    /// Returns false when it is still populated (a process left behind) and so was kept.
    @discardableResult
    public func remove(job id: String, returning processes: [(pid: Int32, cgroup: String)]) -> Bool {
        for (pid, original) in processes { _ = move(pid: pid, to: original) }
        return rmdir(hierarchy.directory(of: cgroup(forJob: id))) == 0 || errno == ENOENT
    }
}
