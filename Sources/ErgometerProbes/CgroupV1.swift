/// The cgroup v1 `cpuacct` hierarchy, where Slurm keeps its jobs on v1 and hybrid hosts
/// (`<mount>/slurm_<host>/uid_<U>/job_<N>`): found from `/proc/self/mountinfo` (a `cgroup` file
/// system whose options name `cpuacct`; `/sys/fs/cgroup/cpuacct` or `/sys/fs/cgroup/cpu,cpuacct`),
/// never assumed. A cgroup's CPU time is `cpuacct.usage`, nanoseconds, its descendants included.
public struct CgroupV1Accounting: Sendable, Equatable {
    public var mountPoint: String

    public init(mountPoint: String) {
        self.mountPoint = FilePath.normalized(mountPoint)
    }

    public static func locate(procfs: ProcFS) -> Result<CgroupV1Accounting, FileReadError> {
        let path = procfs.path("self/mountinfo")
        return SysfsFile.readText(path).flatMap { text in
            parseMountPoint(mountinfo: text[...]).map { .success(CgroupV1Accounting(mountPoint: $0)) }
                ?? .failure(FileReadError(path: path, errno: 0, detail: "(no cgroup v1 cpuacct mount)"))
        }
    }

    /// The mount point of the v1 hierarchy with the cpuacct controller:
    ///
    ///     33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
    ///
    /// (the super options, after the type and the source, list the controllers).
    public static func parseMountPoint(mountinfo: Substring) -> String? {
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let separator = fields.firstIndex(of: "-"), separator + 3 < fields.count, fields.count > 4,
                fields[separator + 1] == "cgroup", fields[separator + 3].split(separator: ",").contains("cpuacct")
            else { continue }
            return CgroupV2.unescapeOctal(fields[4])
        }
        return nil
    }

    /// The directory of a cgroup given its path inside the hierarchy (`/slurm_vm/uid_0/job_5`).
    public func directory(of cgroup: String) -> String {
        CgroupV2.directory(of: cgroup, under: mountPoint)
    }

    /// The `cpuacct.usage` file of a cgroup (worked out once per job).
    public func usagePath(of cgroup: String) -> String {
        FilePath.join(directory(of: cgroup), "cpuacct.usage")
    }

    /// CPU time of a kept-open `cpuacct.usage` in microseconds (the file counts nanoseconds).
    public static func usageMicroseconds(file: KeptOpenFile, buffer: UnsafeMutableRawBufferPointer) -> Result<UInt64, FileReadError> {
        file.read(into: buffer, SysfsFile.parseUInt64).flatMap { nanoseconds in
            nanoseconds.map { .success($0 / 1000) } ?? .failure(FileReadError(path: file.path, errno: 0, detail: "(not a number of nanoseconds)"))
        }
    }

    /// The same, read once (admission, restore).
    public func usageMicroseconds(of cgroup: String) -> Result<UInt64, FileReadError> {
        SysfsFile.readUInt64(usagePath(of: cgroup)).map { $0 / 1000 }
    }
}

/// Where a process is in each hierarchy, from `/proc/<pid>/cgroup`:
///
///     2:cpuacct:/slurm_vm/uid_0/job_5/step_batch/task_0
///     0::/ergometer/job-3
public struct ProcessCgroups: Sendable, Equatable {
    /// Its cgroup v2 path (the `0::` line).
    public var unified: String?
    /// Its path in the v1 hierarchy that has `cpuacct`.
    public var cpuacct: String?

    public init(unified: String? = nil, cpuacct: String? = nil) {
        self.unified = unified
        self.cpuacct = cpuacct
    }

    public static func of(_ pid: Int32, procfs: ProcFS) -> ProcessCgroups? {
        guard let text = try? SysfsFile.readText(procfs.path("\(pid)/cgroup")).get() else { return nil }
        return parse(text[...])
    }

    public static func parse(_ text: Substring) -> ProcessCgroups {
        var found = ProcessCgroups()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[0] == "0" && fields[1].isEmpty {
                found.unified = String(fields[2])
            } else if fields[1].split(separator: ",").contains("cpuacct") {
                found.cpuacct = String(fields[2])
            }
        }
        return found
    }
}
