import ErgometerProbes
import ErgometerTestSupport
import Foundation
import Testing

/// Against this machine's real cgroup v2 hierarchy: found from mountinfo, a child cgroup made,
/// a busy process moved in, its CPU time read back from cpu.stat.
struct CgroupLiveTests {
    @Test func locatesTheRealHierarchy() throws {
        let cgroup = try CgroupV2.locate(procfs: ProcFS()).get()
        #expect(FileManager.default.fileExists(atPath: cgroup.mountPoint + "/cgroup.procs"))
    }

    @Test(.enabled(if: getuid() == 0, "creating a cgroup needs root (CI runs as root)"))
    func measuresTheCPUTimeOfAProcessMovedIntoACgroup() throws {
        let cgroup = try CgroupV2.locate(procfs: ProcFS()).get()
        let name = "ergometer-test-\(getpid())"
        let directory = cgroup.directory(of: name)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { rmdir(directory) }
        #expect(try cgroup.cpuUsageMicroseconds(of: name).get() == 0)

        let busy = Process()
        busy.executableURL = URL(fileURLWithPath: "/bin/sh")
        busy.arguments = ["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"]
        try busy.run()
        try "\(busy.processIdentifier)\n".write(toFile: directory + "/cgroup.procs", atomically: false, encoding: .utf8)
        busy.waitUntilExit()
        let usage = try cgroup.cpuUsageMicroseconds(of: name).get()
        #expect(usage > 10_000, "a 200k-iteration shell loop uses well over 10 ms of CPU")
    }
}
