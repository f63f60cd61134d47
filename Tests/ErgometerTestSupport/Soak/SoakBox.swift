import ErgometerDaemon
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The box a soak runs on, in memory (/dev/shm where there is one): intel-1s's sysfs, whose RAPL
/// package (40 W) and DRAM (5 W) counters advance in simulated time and wrap at their range as
/// the hardware's do; a procfs with each job's process; and a cgroup2 tree (`self/mountinfo`
/// points at it) where ergod makes its `ergo run` jobs and Slurm its own, each job's `cpu.stat`
/// advancing at one core. Every value is written in place through a shared mapping of its file
/// (no system call a tick), as the kernel's files change under the sampler's kept-open ones.
public final class SoakBox {
    public let root: String
    public let sysfs: String
    public let procfs: String
    public let cgroupRoot: String
    public let state: String

    /// A RAPL zone: its file's mapping, watts, range, value and the fraction of a µJ carried.
    struct Zone {
        var file: MappedValue
        var watts: Double
        var range: UInt64
        var value: UInt64
        var carried: Double
    }

    /// A running job's CPU counter.
    struct Counter {
        var key: String
        var file: MappedValue
        var microseconds: UInt64
        var folder: String
        var process: String
    }

    private var zones: [Zone] = []
    /// The running jobs' counters, in an array the tick walks, and where each job's is.
    private var counters: [Counter] = []
    private var counterIndex: [String: Int] = [:]
    /// Energy the zones gained since the box was made, µJ: what any meter should read.
    public private(set) var drawnMicrojoules: UInt64 = 0

    private static let boxes = Atomic<Int>(0)

    public init(fixtures: String) throws {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm/" : NSTemporaryDirectory()
        // One folder per box: suites that run at once in one test process each have their own.
        root = base + "ergometer-soak-\(getpid())-\(Self.boxes.add(1, ordering: .relaxed).newValue)"
        try? FileManager.default.removeItem(atPath: root)
        sysfs = root + "/sys"
        procfs = root + "/proc"
        cgroupRoot = root + "/cgroup"
        state = root + "/state"
        let manager = FileManager.default
        try manager.createDirectory(atPath: root, withIntermediateDirectories: true)
        try manager.copyItem(atPath: fixtures + "/intel-1s/sys", toPath: sysfs)
        try manager.copyItem(atPath: fixtures + "/intel-1s/proc", toPath: procfs)
        for folder in [cgroupRoot + "/ergometer", cgroupRoot + "/system.slice/slurmstepd.scope", procfs + "/self", state] {
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        _ = manager.createFile(atPath: cgroupRoot + "/cgroup.procs", contents: nil)
        try "30 1 0:27 / \(cgroupRoot) rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw\n"
            .write(toFile: procfs + "/self/mountinfo", atomically: true, encoding: .utf8)
        for (zone, watts) in [("intel-rapl:0", 40.0), ("intel-rapl:0:2", 5.0)] {
            let folder = sysfs + "/class/powercap/" + zone
            let range = UInt64(try String(contentsOfFile: folder + "/max_energy_range_uj", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            let value = UInt64(try String(contentsOfFile: folder + "/energy_uj", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            guard range > 0 else { throw FixtureError("no max_energy_range_uj in \(folder)") }
            let file = try MappedValue(path: folder + "/energy_uj", prefix: "")
            file.write(value)
            zones.append(Zone(file: file, watts: watts, range: range, value: value, carried: 0))
        }
    }

    /// Every zone gains its watts × `seconds` (wrapping at its range), every running job one
    /// core × `seconds` of CPU.
    public func advance(seconds: Double) {
        for index in zones.indices {
            let exact = zones[index].watts * seconds * 1e6 + zones[index].carried
            let added = UInt64(exact)
            zones[index].carried = exact - Double(added)
            let range = zones[index].range
            let value = zones[index].value + added
            zones[index].value = value <= range ? value : value - range
            drawnMicrojoules += added
            zones[index].file.write(zones[index].value)
        }
        let cpu = UInt64(seconds * 1e6)
        for index in counters.indices {
            counters[index].microseconds += cpu
            counters[index].file.write(counters[index].microseconds)
        }
    }

    /// Makes `ergo run`'s job `id` ready before it registers: the process (`pid`, root's) and
    /// the cgroup ergod will move it into.
    public func prepareRegisteredJob(id: String, pid: Int32) throws {
        let folder = cgroupRoot + "/ergometer/job-\(id)"
        try Self.makeFolder(folder)
        try Self.write("", to: folder + "/cgroup.procs")
        let process = try makeProcess(pid, cgroup: "/", environment: "")
        try startCounter(key: "run-\(id)", file: folder + "/cpu.stat", folder: folder, process: process)
    }

    /// A Slurm job as slurmstepd makes it on cgroup v2: the job's folder, its batch step's task
    /// folder holding the process, and the job's CPU counter.
    public func startSlurmJob(number: Int, pid: Int32) throws {
        let folder = cgroupRoot + "/system.slice/slurmstepd.scope/job_\(number)"
        for path in [folder, folder + "/step_batch", folder + "/step_batch/task_0"] { try Self.makeFolder(path) }
        try Self.write("\(pid)\n", to: folder + "/step_batch/task_0/cgroup.procs")
        try Self.write("populated 1\nfrozen 0\n", to: folder + "/cgroup.events")
        let process = try makeProcess(pid, cgroup: "/system.slice/slurmstepd.scope/job_\(number)/step_batch/task_0", environment: "SLURM_JOB_NAME=soak-\(number)\0")
        try startCounter(key: "slurm-\(number)", file: folder + "/cpu.stat", folder: folder, process: process)
    }

    /// The job's processes are gone and its cgroup removed (a finished Slurm job, an `ergo run`
    /// that ended or was killed): what the kernel shows once it rmdir'ed the folder.
    public func removeJob(key: String) {
        guard let index = counterIndex.removeValue(forKey: key) else { return }
        let counter = counters[index]
        counters.swapAt(index, counters.count - 1)
        counters.removeLast()
        if index < counters.count { counterIndex[counters[index].key] = index }
        Self.removeTree(counter.folder)
        Self.removeTree(counter.process)
    }

    public var runningJobs: Int { counters.count }

    private func makeProcess(_ pid: Int32, cgroup: String, environment: String) throws -> String {
        let folder = procfs + "/\(pid)"
        try Self.makeFolder(folder)
        try Self.write("Name:\tsoak\nUid:\t0\t0\t0\t0\n", to: folder + "/status")
        try Self.write("0::\(cgroup)\n", to: folder + "/cgroup")
        try Self.write(environment, to: folder + "/environ")
        return folder
    }

    // The box's own files are made and removed with plain system calls: a thousand jobs a
    // simulated day each make and remove a dozen, and Foundation's file manager (a stat per
    // path component, atomic writes, a walk to remove) cost the soak more than ergod's own work
    // on them.

    private static func makeFolder(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw FixtureError("cannot make \(path): errno \(errno)") }
    }

    private static func write(_ text: String, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FixtureError("cannot write \(path): errno \(errno)") }
        defer { close(descriptor) }
        let written = text.utf8.withContiguousStorageIfAvailable { Glibc.write(descriptor, $0.baseAddress, $0.count) } ?? -1
        guard written == text.utf8.count else { throw FixtureError("cannot write \(path): errno \(errno)") }
    }

    /// Removes a folder of the box and everything in it (files and folders, no links).
    private static func removeTree(_ path: String) {
        if let stream = opendir(path) {
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: &entry.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
                if name == "." || name == ".." { continue }
                if entry.pointee.d_type == UInt8(DT_DIR) { removeTree(path + "/" + name) } else { unlink(path + "/" + name) }
            }
            closedir(stream)
        }
        rmdir(path)
    }

    private func startCounter(key: String, file: String, folder: String, process: String) throws {
        let mapped = try MappedValue(path: file, prefix: "usage_usec ")
        mapped.write(0)
        let counter = Counter(key: key, file: mapped, microseconds: 0, folder: folder, process: process)
        if let index = counterIndex[key] {
            counters[index] = counter
        } else {
            counterIndex[key] = counters.count
            counters.append(counter)
        }
    }

    /// ergod's configuration on this box: its trees and state directory, no listener, no
    /// NVML, a checkpoint every `checkpointSeconds`.
    public func daemonConfiguration(checkpointSeconds: Double) -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        configuration.sysfsRoot = sysfs
        configuration.procfsRoot = procfs
        configuration.stateDirectory = state
        configuration.metricsListen = "off"
        configuration.nvmlLibrary = "off"
        configuration.checkpointSeconds = checkpointSeconds
        return configuration
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// A counter file of the box, `prefix` and the value as 20 digits and a newline, mapped shared:
/// a write is a store into the page the sampler's `pread` reads, with no system call.
final class MappedValue {
    private let bytes: UnsafeMutableRawPointer
    private let prefixLength: Int
    private let length: Int

    init(path: String, prefix: StaticString) throws {
        prefixLength = prefix.utf8CodeUnitCount
        length = prefixLength + 21
        let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw FixtureError("cannot create \(path)") }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw FixtureError("cannot size \(path)") }
        guard let mapping = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0), mapping != MAP_FAILED else {
            throw FixtureError("cannot map \(path)")
        }
        bytes = mapping
        prefix.withUTF8Buffer { UnsafeMutableRawBufferPointer(start: bytes, count: prefixLength).copyMemory(from: UnsafeRawBufferPointer($0)) }
        bytes.storeBytes(of: UInt8(ascii: "\n"), toByteOffset: length - 1, as: UInt8.self)
    }

    func write(_ value: UInt64) {
        var remaining = value
        for position in stride(from: length - 2, through: prefixLength, by: -1) {
            bytes.storeBytes(of: UInt8(ascii: "0") + UInt8(remaining % 10), toByteOffset: position, as: UInt8.self)
            remaining /= 10
        }
    }

    deinit { munmap(bytes, length) }
}
