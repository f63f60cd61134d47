import ErgometerTestSupport
import ErgometerWire
import Foundation
import Testing

/// A real Slurm (Debian's slurmctld, slurmd and munge on this machine, cgroup v1) runs two batch
/// jobs burning CPU about 2:1 while ergod runs with its defaults on a fixture RAPL tree whose
/// counters advance with this machine's busy cores. Nobody types `ergo run`: ergod finds both
/// jobs under their Slurm ids and names, splits the energy by their CPU, and ends them when
/// Slurm cleans up. Slurm's folders sit where every sampler's discovery finds them, so the
/// suite runs in `make test`'s pass of its own (ERGOMETER_DISCOVERY_TESTS=1).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["ERGOMETER_DISCOVERY_TESTS"] == "1"))
struct SlurmDiscoveryTests {
    @Test func twoSbatchJobsAreFoundMeasuredByTheirCPUAndEnded() throws {
        let slurm = try RealSlurm()
        defer { slurm.stop() }
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let meter = try SimulatedRAPL(sysfs: root + "/sys", idleWatts: 5, wattsPerBusyCore: 20, dramWatts: 2, packageStartBelowWrap: 50_000_000)
        meter.start()
        defer { meter.stop() }
        // ergod with its defaults but the tick (discovery on, Slurm and containers, a 2 s scan).
        let daemon = try RunningDaemon(root: root, configuration: "[daemon]\ninterval_seconds = 0.5\ncheckpoint_seconds = 1.0\n")
        defer { daemon.stop() }

        let burn = { (loops: Int) in "i=0; while [ $i -lt \(loops) ]; do i=$((i+1)); done" }
        let long = try slurm.sbatch(name: "ergotest-long", script: burn(8_000_000))
        let short = try slurm.sbatch(name: "ergotest-short", script: burn(4_000_000))

        func jobs() throws -> [JobSummary] {
            let result = try daemon.ergo(["jobs", "--all", "--json"])
            return (try? JSONDecoder().decode([JobSummary].self, from: Data(result.standardOutput.utf8))) ?? []
        }
        // Found while running, under Slurm's ids and names.
        var found: [JobSummary] = []
        for _ in 0..<60 {
            found = try jobs().filter { $0.scheduler == "slurm" }
            if found.count == 2 { break }
            usleep(250_000)
        }
        #expect(Set(found.map(\.jobID)) == [long, short], "\(found.map(\.jobID)) \(daemon.log().suffix(3000))")
        #expect(Set(found.map(\.name)) == ["ergotest-long", "ergotest-short"])
        // Slurm cleans up: both end.
        for _ in 0..<240 where !slurm.queued().isEmpty { usleep(250_000) }
        #expect(slurm.queued().isEmpty, "Slurm's jobs did not finish: \(slurm.log("slurmd.log").suffix(2000))")
        for _ in 0..<40 {
            if try jobs().filter({ $0.scheduler == "slurm" && $0.ended != nil }).count == 2 { break }
            usleep(250_000)
        }
        let ended = try jobs().filter { $0.scheduler == "slurm" }
        #expect(ended.count == 2 && ended.allSatisfy { $0.ended != nil && $0.exitStatus == nil }, "\(ended)")

        // Energy follows CPU: the ratio of their energies is the ratio of their CPU (±10 %).
        func report(_ job: JobSummary) throws -> JobReport {
            try JSONDecoder().decode(JobReport.self, from: Data(try daemon.ergo(["report", job.id, "--json"]).standardOutput.utf8))
        }
        let reports = try ended.sorted { $0.jobID < $1.jobID }.map(report)
        let (a, b) = (reports[0], reports[1])
        #expect(a.tracking == .cgroupV1 && a.labels["scheduler"] == "slurm" && a.user == "root")
        let cpuRatio = a.cpuSeconds / b.cpuSeconds
        let activeA = a.energyByDomain.packageJoules + a.energyByDomain.dramJoules - a.energyByDomain.idleShareJoules
        let activeB = b.energyByDomain.packageJoules + b.energyByDomain.dramJoules - b.energyByDomain.idleShareJoules
        let energyRatio = a.energyJoules / b.energyJoules
        #expect(abs(energyRatio / cpuRatio - 1) < 0.10, "energy \(a.energyJoules) / \(b.energyJoules) J against CPU \(a.cpuSeconds) / \(b.cpuSeconds) s (active \(activeA) / \(activeB) J)")
        #expect(a.cpuSeconds > 1 && b.cpuSeconds > 1, "found within a scan (2 s) of starting: \(a.cpuSeconds), \(b.cpuSeconds) CPU-s")

        // The ledger: each domain's buckets add up to what its meter measured.
        let ledger = try JSONDecoder().decode(Ledger.self, from: Data(try daemon.ergo(["ledger", "--json"]).standardOutput.utf8))
        for domain in ledger.domains {
            let buckets = try #require(domain.buckets)
            #expect(buckets.jobsMicrojoules.values.reduce(buckets.systemMicrojoules + buckets.idleMicrojoules, +) == domain.measuredMicrojoules)
        }
    }
}
