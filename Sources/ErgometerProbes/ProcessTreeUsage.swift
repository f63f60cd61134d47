#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// CPU time of a process and all its descendants, from `/proc/<pid>/stat` (proc(5)): the
/// fallback where a job cannot have its own cgroup. It scans the process table, so it is only
/// used for jobs that need it.
///
/// total = Σ over the live tree of (utime + stime + cutime + cstime): a reaped child's time is
/// inside its parent's cutime/cstime, and a live one is counted once, as itself.
public struct ProcessTreeUsage: Sendable {
    public var procfs: ProcFS

    public init(procfs: ProcFS) {
        self.procfs = procfs
    }

    /// CPU time of the tree rooted at `root`, microseconds; nil when `root` no longer exists.
    public func cpuMicroseconds(root: Int32) -> UInt64? {
        var parents: [Int32: Int32] = [:]
        var ticks: [Int32: UInt64] = [:]
        guard case .success(let entries) = Directory.entries(procfs.root) else { return nil }
        for entry in entries {
            guard let pid = Int32(entry),
                let stat = try? SysfsFile.readLine(procfs.path("\(entry)/stat")).get(),
                let parsed = Self.parse(stat: stat)
            else { continue }
            parents[pid] = parsed.parent
            ticks[pid] = parsed.ticks
        }
        guard ticks[root] != nil else { return nil }
        var children: [Int32: [Int32]] = [:]
        for (pid, parent) in parents { children[parent, default: []].append(pid) }
        var total: UInt64 = 0
        var stack = [root]
        while let pid = stack.popLast() {
            total += ticks[pid] ?? 0
            stack += children[pid] ?? []
        }
        return total * 1_000_000 / UInt64(Self.clockTicksPerSecond)
    }

    /// The parent of a process, from `/proc/<pid>/stat`; nil when it is gone.
    public func parent(of pid: Int32) -> Int32? {
        guard let stat = try? SysfsFile.readLine(procfs.path("\(pid)/stat")).get() else { return nil }
        return Self.parse(stat: stat)?.parent
    }

    /// USER_HZ, the unit of /proc times (100 on every Linux build that matters).
    public static let clockTicksPerSecond: Int = max(sysconf(Int32(_SC_CLK_TCK)), 1)

    /// The parent pid and utime+stime+cutime+cstime of a `/proc/<pid>/stat` line. The command
    /// name (field 2) may contain spaces and parentheses, so fields are counted after the last `)`.
    static func parse(stat: String) -> (parent: Int32, ticks: UInt64)? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After ")": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17)
        guard fields.count >= 15, let parent = Int32(fields[1]) else { return nil }
        var ticks: UInt64 = 0
        for index in 11...14 {
            guard let value = Int64(fields[index]) else { return nil }
            ticks += UInt64(max(value, 0))
        }
        return (parent, ticks)
    }
}
