import ErgometerCore
import ErgometerProbes
import ErgometerTestSupport
import Foundation
import Testing

/// A scan that reuses its memo (ergod's, every two seconds) finds what a scan from nothing
/// finds, as a Slurm node's and a container host's cgroups come and go between scans, and says
/// whether anything changed since the scan before.
struct SchedulerCgroupScanTests {
    let rules = SchedulerCgroupRules(systemdUnits: ["train-*.service"])

    func folder(_ root: String, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: root + path, withIntermediateDirectories: true)
    }

    @Test func aScanWithItsMemoFindsWhatAFreshScanFinds() throws {
        let root = try Fixtures.temporaryDirectory()
        let scan = SchedulerCgroupScan(hierarchy: .unified, mountPoint: root, rules: rules)
        var memo = SchedulerCgroupScan.Memo()
        for path in ["/ergometer/job-1", "/system.slice/slurmstepd.scope/system", "/system.slice/cron.service", "/user.slice"] {
            try folder(root, path)
        }
        let docker = "/system.slice/docker-" + String(repeating: "ab12", count: 16) + ".scope"
        let kubernetes = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_5678.slice"
        // Each step changes the tree; after each, the memo's scan and a fresh one must agree.
        let steps: [(String, () throws -> Void)] = [
            ("first jobs", { for number in 1...3 { try folder(root, "/system.slice/slurmstepd.scope/job_\(number)/step_batch") } }),
            ("nothing changed", {}),
            ("one ends, one starts", {
                try FileManager.default.removeItem(atPath: root + "/system.slice/slurmstepd.scope/job_2")
                try folder(root, "/system.slice/slurmstepd.scope/job_4")
            }),
            ("a container and a unit", {
                try folder(root, docker)
                try folder(root, "/system.slice/train-bert.service")
            }),
            ("a pod under a new slice", { try folder(root, kubernetes) }),
            ("the Slurm scope goes", { try FileManager.default.removeItem(atPath: root + "/system.slice/slurmstepd.scope") }),
            ("nothing changed again", {}),
        ]
        var counts: [Int] = []
        var changes: [Bool] = []
        for (step, change) in steps {
            try change()
            let kept = scan.scan(memo: &memo)
            let fresh = scan.scan()
            #expect(kept.found == fresh.found, "\(step)")
            #expect(kept.foldersListed == fresh.foldersListed, "\(step)")
            #expect(fresh.changed, "\(step): a scan from nothing is a change")
            counts.append(kept.found.count)
            changes.append(kept.changed)
        }
        #expect(counts == [3, 3, 3, 5, 6, 3, 3])
        #expect(changes == [true, false, true, true, true, true, false])
        let last = scan.scan(memo: &memo).found.map(\.path).sorted()
        #expect(last == [docker, kubernetes, "/system.slice/train-bert.service"].sorted())
    }
}
