/// The cgroup v2 hierarchy, found from `/proc/self/mountinfo` (kernel docs:
/// Documentation/admin-guide/cgroup-v2.rst). It is `/sys/fs/cgroup` on systemd hosts and
/// `/sys/fs/cgroup/unified` on hybrid ones; never assumed.
public struct CgroupV2: Sendable, Equatable {
    /// Where the cgroup2 file system is mounted.
    public var mountPoint: String

    public init(mountPoint: String) {
        self.mountPoint = FilePath.normalized(mountPoint)
    }

    /// Finds the cgroup2 mount of the process whose procfs this is.
    public static func locate(procfs: ProcFS) -> Result<CgroupV2, FileReadError> {
        let path = procfs.path("self/mountinfo")
        return SysfsFile.readText(path).flatMap { text in
            parseMountPoint(mountinfo: text[...]).map { .success(CgroupV2(mountPoint: $0)) }
                ?? .failure(FileReadError(path: path, errno: 0, detail: "(no cgroup2 mount)"))
        }
    }

    /// The mount point of the first `cgroup2` file system in a mountinfo text.
    ///
    ///     41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
    ///
    /// Field 5 is the mount point (octal escapes such as `\040` for a space); the file system
    /// type follows the ` - ` separator.
    public static func parseMountPoint(mountinfo: Substring) -> String? {
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let separator = fields.firstIndex(of: "-"), separator + 1 < fields.count, fields.count > 4,
                fields[separator + 1] == "cgroup2"
            else { continue }
            return unescapeOctal(fields[4])
        }
        return nil
    }

    /// The directory of a cgroup given its path inside the hierarchy (`/ergometer/job-1`).
    public func directory(of cgroup: String) -> String {
        Self.directory(of: cgroup, under: mountPoint)
    }

    /// A cgroup's directory under a hierarchy's mount point (v2's, or v1's cpuacct).
    static func directory(of cgroup: String, under mountPoint: String) -> String {
        var relative = cgroup[...]
        while relative.hasPrefix("/") { relative = relative.dropFirst() }
        return FilePath.join(mountPoint, String(relative))
    }

    /// `usage_usec` of the cgroup's `cpu.stat`: CPU time used by every process that ran in it
    /// and its descendants, in microseconds. Counted even without the cpu controller enabled.
    public func cpuUsageMicroseconds(of cgroup: String) -> Result<UInt64, FileReadError> {
        Self.cpuUsageMicroseconds(statFile: cpuStatPath(of: cgroup))
    }

    /// The `cpu.stat` file of a cgroup (worked out once per job, not per tick).
    public func cpuStatPath(of cgroup: String) -> String {
        FilePath.join(directory(of: cgroup), "cpu.stat")
    }

    /// `usage_usec` read from a `cpu.stat` path.
    public static func cpuUsageMicroseconds(statFile path: String) -> Result<UInt64, FileReadError> {
        SysfsFile.withContents(path, Self.parseUsage(bytes:)).flatMap { usage in
            usage.map { .success($0) } ?? .failure(FileReadError(path: path, errno: 0, detail: "(no usage_usec line)"))
        }
    }

    /// `usage_usec ` as bytes, made once (not on every job's every tick).
    static let usageKey: [UInt8] = Array("usage_usec ".utf8)

    /// `usage_usec` of a kept-open `cpu.stat`, read into the caller's buffer.
    public static func cpuUsageMicroseconds(file: KeptOpenFile, buffer: UnsafeMutableRawBufferPointer) -> Result<UInt64, FileReadError> {
        file.read(into: buffer, parseUsage(bytes:)).flatMap { usage in
            usage.map { .success($0) } ?? .failure(FileReadError(path: file.path, errno: 0, detail: "(no usage_usec line)"))
        }
    }

    /// `usage_usec N` out of a `cpu.stat` text.
    public static func parseUsage(cpuStat: Substring) -> UInt64? {
        Array(cpuStat.utf8).withUnsafeBufferPointer(parseUsage(bytes:))
    }

    /// `usage_usec N` out of `cpu.stat` bytes; it is the first line, read every tick per job.
    public static func parseUsage(bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        let key = usageKey
        var lineStart = 0
        while lineStart + key.count <= bytes.count {
            if bytes[lineStart..<lineStart + key.count].elementsEqual(key) {
                var index = lineStart + key.count
                return DecimalDigits.scan(bytes, at: &index)  // nil beyond 2^64 µs: not the kernel's
            }
            while lineStart < bytes.count, bytes[lineStart] != 0x0A { lineStart += 1 }
            lineStart += 1
        }
        return nil
    }

    static func unescapeOctal(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        var iterator = Array(field.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "\\"), iterator.count >= 3,
                let value = UInt8(String(decoding: iterator.prefix(3), as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
