import ErgometerDaemon
import ErgometerProbes
import ErgometerStore
import ErgometerTestSupport
import ErgometerWire
import Foundation
import Logging

/// A sampler on a copied fixture tree with `jobs` registered jobs, each in its own cgroup of a
/// fake cgroup2 tree (`self/mountinfo` points at it), whose `cpu.stat` files the benchmark
/// advances between ticks, as the kernel would. Every file the tick reads is a real file, in
/// memory (/dev/shm) where there is one, as the kernel's cgroupfs and procfs are; `/proc/stat`
/// is this machine's own.
final class SamplerFixture {
    let root: String
    let sampler: Sampler
    let cgroupRoot: String
    let jobs: Int
    /// The fake NVML the sampler reads, when the fixture has NVIDIA GPUs.
    let nvml: FakeNVML?
    private var usage: UInt64 = 1_000_000
    /// Each job's CPU counter: a v2 `cpu.stat` (µs) or a v1 `cpuacct.usage` (ns).
    private var counters: [(path: String, nanoseconds: Bool)] = []

    /// - Parameter tree: the fixture: `intel-1s` (RAPL), or `gpu-box` (RAPL and hwmon meters:
    ///   an amdgpu gauge, i915 and xe counters, an ACPI power meter, so a `rest` domain too).
    /// - Parameter nvidiaGPUs: that many GPUs on the fake NVML (`Tests/Fixtures/fake-nvml`),
    ///   job k's process on GPU k mod n at an SM utilization of its own.
    /// - Parameter discovered: the jobs are Slurm's, found by discovery, half on cgroup v2
    ///   (`system.slice/slurmstepd.scope/job_<N>`), half on a v1 cpuacct tree
    ///   (`slurm_bench/uid_0/job_<N>`), instead of registered.
    init(fixtures: String, jobs: Int, tree: String = "intel-1s", nvidiaGPUs: Int = 0, discovered: Bool = false) async throws {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm/" : NSTemporaryDirectory()
        root = base + "ergometer-bench-\(getpid())-\(jobs)-\(tree)"
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixtures + "/\(tree)/sys", toPath: root + "/sys")
        try FileManager.default.copyItem(atPath: fixtures + "/\(tree)/proc", toPath: root + "/proc")
        // The live /proc/stat, as ergod reads it on a box: kept open (`KernelFileSystem`).
        try FileManager.default.removeItem(atPath: root + "/proc/stat")
        try FileManager.default.createSymbolicLink(atPath: root + "/proc/stat", withDestinationPath: "/proc/stat")
        cgroupRoot = root + "/cgroup"
        try FileManager.default.createDirectory(atPath: cgroupRoot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/proc/self", withIntermediateDirectories: true)
        let cpuacctRoot = root + "/cpuacct"
        try FileManager.default.createDirectory(atPath: cpuacctRoot, withIntermediateDirectories: true)
        try ("30 1 0:27 / \(cgroupRoot) rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw\n"
            + "31 1 0:28 / \(cpuacctRoot) rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpuacct\n")
            .write(toFile: root + "/proc/self/mountinfo", atomically: true, encoding: .utf8)
        self.jobs = jobs
        var configuration = DaemonConfiguration()
        configuration.sysfsRoot = root + "/sys"
        configuration.procfsRoot = root + "/proc"
        configuration.stateDirectory = root + "/state"
        configuration.metricsListen = "off"
        configuration.checkpointSeconds = 600  // checkpoints are measured on their own
        configuration.maxActiveJobs = 100_000
        // The fixture's files change in place (the counters below) or not at all (its RAPL zones,
        // hwmon chips): the sampler keeps them open, as it keeps the kernel's, so the tick timed
        // is the one a box runs, not one that opens each zone's file per read.
        configuration.rootsChangeInPlace = true
        if nvidiaGPUs > 0 {
            let nvml = try FakeNVML()
            let processes = (0..<jobs).map { FakeNVML.Process(gpu: $0 % nvidiaGPUs, pid: Int32(400_000 + $0), sm: 10 + $0 % 7 * 10) }
            try nvml.write(clockMilliseconds: nil, gpus: (0..<nvidiaGPUs).map { FakeNVML.GPU(index: $0, watts: 300) }, processes: processes)
            configuration.nvmlLibrary = nvml.libraryPath
            self.nvml = nvml
        } else {
            configuration.nvmlLibrary = "off"
            nvml = nil
        }
        try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true)
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        sampler = try Sampler(configuration: configuration, store: try JobStore(directory: configuration.stateDirectory), logger: logger)
        for index in 0..<jobs where discovered {
            // What Slurm makes: the job's folder, its step's task folder holding the process.
            let pid = Int32(400_000 + index)
            let v1 = index % 2 == 1
            let job = v1 ? cpuacctRoot + "/slurm_bench/uid_0/job_\(index + 1)" : cgroupRoot + "/system.slice/slurmstepd.scope/job_\(index + 1)"
            try FileManager.default.createDirectory(atPath: job + "/step_batch/task_0", withIntermediateDirectories: true)
            try "\(pid)\n".write(toFile: job + "/step_batch/task_0/cgroup.procs", atomically: true, encoding: .utf8)
            if !v1 { try "populated 1\nfrozen 0\n".write(toFile: job + "/cgroup.events", atomically: true, encoding: .utf8) }
            counters.append((job + (v1 ? "/cpuacct.usage" : "/cpu.stat"), v1))
            let directory = root + "/proc/\(pid)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try "Name:\tbench\nUid:\t0\t0\t0\t0\n".write(toFile: directory + "/status", atomically: true, encoding: .utf8)
            try "SLURM_JOB_NAME=bench-\(index)\0".write(toFile: directory + "/environ", atomically: true, encoding: .utf8)
        }
        for index in 0..<jobs where !discovered {
            counters.append((cgroupRoot + "/ergometer/job-\(index + 1)/cpu.stat", false))
            // What the kernel would show in a new cgroup: cgroup.procs to write the pid into.
            let cgroup = cgroupRoot + "/ergometer/job-\(index + 1)"
            try FileManager.default.createDirectory(atPath: cgroup, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: cgroup + "/cgroup.procs", contents: nil)
            let pid = Int32(400_000 + index)
            let directory = root + "/proc/\(pid)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try "Name:\tbench\nUid:\t0\t0\t0\t0\n".write(toFile: directory + "/status", atomically: true, encoding: .utf8)
            try "0::/\n".write(toFile: directory + "/cgroup", atomically: true, encoding: .utf8)
            let job = try await sampler.register(
                RegisterJobRequest(name: "bench-\(index)", jobID: nil, labels: [:], command: ["bench"], pid: pid, processors: nil),
                caller: ControlCaller(uid: 0, gid: 0, pid: 1, user: "root", isAdmin: true))
            // Where the kernel would now show the process: in the job's cgroup.
            try "0::/ergometer/job-\(job.id)\n".write(toFile: directory + "/cgroup", atomically: true, encoding: .utf8)
        }
        advance()
        // The tick must really read every job's counter, or it is timing the error path.
        await sampler.tick()
        if discovered, await sampler.jobs(all: true, caller: ControlCaller(uid: 0, gid: 0, pid: 1, user: "root", isAdmin: true)).count != jobs {
            throw FixtureProblem(description: "discovery did not find the fixture's \(jobs) Slurm jobs")
        }
        advance()
        await sampler.tick()
        if jobs > 0, let report = try? await sampler.report(id: String(jobs)), report.cpuSeconds <= 0 {
            throw FixtureProblem(description: "the sampler read no CPU time from the fixture's cpu.stat files")
        }
        if nvidiaGPUs > 0, jobs > 0, let report = try? await sampler.report(id: String(jobs)), report.gpus.isEmpty {
            throw FixtureProblem(description: "the sampler attributed no GPU to a job from the fake NVML's processes")
        }
    }

    struct FixtureProblem: Error, CustomStringConvertible {
        var description: String
    }

    /// Every job used 10 ms more CPU, written the way the kernel presents it.
    func advance() {
        usage += 10_000
        let text = "usage_usec \(usage)\nuser_usec \(usage / 2)\nsystem_usec \(usage / 2)\n"
        // In place, as the kernel's file changes (the sampler keeps each counter open).
        let microseconds = Array(text.utf8)
        let nanoseconds = Array("\(usage * 1000)\n".utf8)
        for counter in counters {
            let fd = open(counter.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            let bytes = counter.nanoseconds ? nanoseconds : microseconds
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }
}
