import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Debian's Slurm on this machine, one node (`hostname -s`), cgroup v1 (`cgroup.conf`
/// `CgroupPlugin=cgroup/v1`): munged (started if it is not running), slurmctld and slurmd, with
/// their own state, spool, ports and cluster name per test run (slurmctld refuses a state
/// folder written under another cluster name). Cores are the only consumable (`CR_Core`): with
/// memory consumable too, and no memory configured, each job is given the whole node's and the
/// jobs of a test run one after the other. Stopped by their pid files.
public final class RealSlurm: @unchecked Sendable {
    public let directory: String
    public let configPath: String
    public let host: String
    private var startedMunge: Int32?

    public init() throws {
        directory = try Fixtures.temporaryDirectory()
        configPath = directory + "/slurm.conf"
        host = try Fixtures.run("/bin/hostname", ["-s"]).trimmingCharacters(in: .whitespacesAndNewlines)
        for folder in ["state", "spool"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true)
        }
        let port = 6900 + Int(getpid() % 500) * 2
        try """
            ClusterName=ergo\(getpid())
            SlurmctldHost=\(host)
            SlurmUser=root
            AuthType=auth/munge
            ProctrackType=proctrack/cgroup
            TaskPlugin=task/cgroup
            JobAcctGatherType=jobacct_gather/cgroup
            SelectType=select/cons_tres
            SelectTypeParameters=CR_Core
            StateSaveLocation=\(directory)/state
            SlurmdSpoolDir=\(directory)/spool
            SlurmctldPidFile=\(directory)/slurmctld.pid
            SlurmdPidFile=\(directory)/slurmd.pid
            SlurmctldLogFile=\(directory)/slurmctld.log
            SlurmdLogFile=\(directory)/slurmd.log
            SlurmctldPort=\(port)
            SlurmdPort=\(port + 1)
            ReturnToService=2
            NodeName=\(host) CPUs=\(ProcessInfo.processInfo.activeProcessorCount) State=UNKNOWN
            PartitionName=debug Nodes=\(host) Default=YES MaxTime=INFINITE State=UP

            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        try "CgroupPlugin=cgroup/v1\nConstrainCores=yes\n".write(toFile: directory + "/cgroup.conf", atomically: true, encoding: .utf8)
        try startMunge()
        try Fixtures.startDaemon("/usr/sbin/slurmctld", ["-f", configPath])
        try Fixtures.startDaemon("/usr/sbin/slurmd", ["-f", configPath])
        for _ in 0..<100 {
            if let info = try? command("sinfo", ["-h", "-o", "%t"]), info.standardOutput.contains("idle") { return }
            usleep(100_000)
        }
        throw FixtureError("slurmd did not come up: \(log("slurmd.log").suffix(2000))")
    }

    /// A Slurm client command against this cluster.
    public func command(_ name: String, _ arguments: [String]) throws -> ProcessResult {
        try ProcessResult.run("/usr/bin/" + name, arguments, environment: ProcessInfo.processInfo.environment.merging(["SLURM_CONF": configPath]) { _, new in new })
    }

    /// Submits a batch script of one task on one CPU; returns the job id Slurm prints.
    public func sbatch(name: String, script: String) throws -> String {
        let result = try command("sbatch", ["--parsable", "-J", name, "-c", "1", "-o", directory + "/\(name).out", "--wrap", script])
        guard result.status == 0 else { throw FixtureError("sbatch: \(result.standardError)") }
        return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
    }

    /// Jobs Slurm still lists.
    public func queued() -> [String] {
        ((try? command("squeue", ["-h", "-o", "%i"]))?.standardOutput ?? "").split(separator: "\n").map(String.init)
    }

    public func log(_ file: String) -> String { (try? String(contentsOfFile: directory + "/" + file, encoding: .utf8)) ?? "" }

    private func startMunge() throws {
        if (try? Fixtures.run("/usr/bin/pgrep", ["-x", "munged"])) != nil { return }
        for folder in ["/etc/munge", "/var/log/munge", "/run/munge", "/var/lib/munge"] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            _ = try Fixtures.run("/bin/chown", ["munge:munge", folder])
        }
        if !FileManager.default.fileExists(atPath: "/etc/munge/munge.key") {
            _ = try Fixtures.run("/bin/dd", ["if=/dev/urandom", "of=/etc/munge/munge.key", "bs=1024", "count=1"])
            _ = try Fixtures.run("/bin/chown", ["munge:munge", "/etc/munge/munge.key"])
            _ = try Fixtures.run("/bin/chmod", ["0400", "/etc/munge/munge.key"])
        }
        try Fixtures.startDaemon("/usr/sbin/runuser", ["-u", "munge", "--", "/usr/sbin/munged"])
        startedMunge = (try? Fixtures.run("/usr/bin/pgrep", ["-x", "munged"])).flatMap { Int32($0.split(separator: "\n").first ?? "") }
    }

    /// Stops slurmd and slurmctld (and munged if this started it), waiting for them to go.
    public func stop() {
        var pids: [Int32] = ["slurmd.pid", "slurmctld.pid"].compactMap { Int32(log($0).trimmingCharacters(in: .whitespacesAndNewlines)) }
        if let startedMunge { pids.append(startedMunge) }
        // SIGTERM first; the test runner's children inherit its blocked signals, so a daemon
        // that never sees it is killed.
        for pid in pids { kill(pid, SIGTERM) }
        for _ in 0..<40 where pids.contains(where: Self.isRunning) { usleep(50_000) }
        for pid in pids where Self.isRunning(pid) { kill(pid, SIGKILL) }
        for _ in 0..<40 where pids.contains(where: Self.isRunning) { usleep(50_000) }
    }

    /// Alive and not a zombie (a daemon's parent here may never reap it).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
