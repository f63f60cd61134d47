import ErgometerCore
import ErgometerProbes
import Foundation

/// A cgroup v2 tree as a container host has it, in memory (/dev/shm): `system.slice` with
/// `count` container scopes (Docker's, with a 64-hex id each) beside a few services and slices
/// that are no job, for timing one discovery scan.
final class DiscoveryTreeFixture {
    let root: String
    let count: Int
    let scan: SchedulerCgroupScan

    init(containers count: Int) throws {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm/" : NSTemporaryDirectory()
        root = base + "ergometer-bench-discovery-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        self.count = count
        for folder in ["system.slice/cron.service", "system.slice/ssh.service", "user.slice/user-1000.slice/session-1.scope", "init.scope"] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        for index in 0..<count {
            let id = String(repeating: String(format: "%08x", index), count: 8)
            try FileManager.default.createDirectory(atPath: root + "/system.slice/docker-\(id).scope", withIntermediateDirectories: true)
        }
        scan = SchedulerCgroupScan(hierarchy: .unified, mountPoint: root, rules: SchedulerCgroupRules())
        let found = scan.scan().found.count
        guard found == count else { throw SamplerFixture.FixtureProblem(description: "the scan found \(found) of \(count) containers") }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }
}
