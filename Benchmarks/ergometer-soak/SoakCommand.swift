import ArgumentParser
import ErgometerDaemon
import ErgometerTestSupport
import ErgometerWire
import Foundation

/// `ergometer-soak` (`make soak`): months of a busy node in simulated time, at a 1 s tick,
/// against ergod's real sampler and store; prints each day's figures and every bound, "held"
/// or "broke" (exit status 1 when one broke).
@main
struct SoakCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ergometer-soak", abstract: "Soak ergod's sampler and store in simulated time and check its bounds.")

    @Option(help: "Fixture trees (Tests/Fixtures of the package).") var fixtures = "Tests/Fixtures"
    @Option(help: "Simulated days.") var days = 90
    @Option(help: "Short jobs a day (1 to 60 minutes each).") var jobsPerDay = 1000
    @Option(help: "store.max_bytes of the soak's store.") var maxBytes: Int64 = StoreRetention.defaults.maxBytes
    @Option(help: "store.full_resolution_days of the soak's store.") var fullResolutionDays = StoreRetention.defaults.fullResolutionDays
    @Option(help: "ergod restarts this often, days.") var restartEveryDays = 10.0
    @Option(help: "daemon.checkpoint_seconds of the soak's ergod.") var checkpointSeconds = 5.0

    func run() async throws {
        DescriptorLimit.raise()
        var plan = SoakPlan(days: days)
        plan.jobsPerDay = jobsPerDay
        plan.retention.maxBytes = maxBytes
        plan.retention.fullResolutionDays = fullResolutionDays
        plan.restartEveryDays = restartEveryDays
        plan.checkpointSeconds = checkpointSeconds
        let soak = try SoakRun(plan: plan, fixtures: fixtures)
        print("soak: \(days) simulated days, \(jobsPerDay) jobs a day + \(plan.longJobs) week-long, a 1 s tick, ergod restarted every \(restartEveryDays) days")
        print("allocator: GLIBC_TUNABLES=\(ProcessInfo.processInfo.environment["GLIBC_TUNABLES"] ?? "(unset: glibc's defaults, not ergod.service's)")")
        let outcome = try await soak.run { day in
            print("day \(day.day): \(String(format: "%.1f", day.realSeconds)) s, store \(day.storeBytes / 1_048_576) MiB, \(day.samplesFull) full rows, \(day.samplesRolledUp) per minute, RSS \(String(format: "%.1f", Double(day.residentBytes) / 1_048_576)) MiB (private \(String(format: "%.1f", Double(day.anonymousBytes) / 1_048_576)), code \(String(format: "%.1f", Double(day.fileBytes) / 1_048_576)); heap in use \(String(format: "%.1f", Double(day.heapInUseBytes) / 1_048_576))), jobs --all \(String(format: "%.1f", day.jobsListSeconds * 1000)) ms, checkpoint \(String(format: "%.2f", day.checkpointSeconds * 1000)) ms")
            fflush(nil)  // each day as it ends, through a pipe too
        }
        print("")
        print(outcome.report, terminator: "")
        if !outcome.warnings.isEmpty {
            print("last warnings of ergod:")
            for line in outcome.warnings { print("  \(line)") }
        }
        if outcome.bounds.contains(where: { !$0.held }) { throw ExitCode(1) }
    }
}
