import ErgometerTestSupport
import ErgometerWire
import Testing

/// The soak, shortened: three simulated days of a busy node at a 1 s tick (150 short jobs a day and
/// two of two days, ergod restarted daily), with a retention and a size bound small enough that every
/// part of it works within them. The bounds checked here are those the process around the
/// sampler cannot blur: the store's size and retention, every job's exact totals, the ledger,
/// /metrics' series. Memory and query times against day 1 are `make soak`'s (a process of its own,
/// 90 days).
extension LoadSensitiveSuites {
@Suite(.serialized)
struct SoakTests {
    @Test func threeBusyDaysHoldTheStoresBoundsAndEveryJobsTotals() async throws {
        var plan = SoakPlan(days: 3)
        plan.jobsPerDay = 150
        plan.longJobs = 2
        plan.longJobSeconds = 2 * 86_400
        plan.restartEveryDays = 1
        plan.retention = StoreRetention(fullResolutionDays: 0.5, seriesDays: 2, jobsDays: 0, maxBytes: 24 << 20)
        let outcome = try await SoakRun(plan: plan, fixtures: Fixtures.root).run()
        let held = Dictionary(uniqueKeysWithValues: outcome.bounds.map { ($0.name, $0) })
        for name in [
            "store size, largest end of day", "oldest full-resolution row", "oldest time-series row", "jobs reporting their exact totals",
            "ledger: measured = buckets = drawn", "/metrics series",
        ] {
            let bound = try #require(held[name], "the soak checks \(name)")
            #expect(bound.held, "\(name): \(bound.figure), bound \(bound.bound)\n\(outcome.report)")
        }
        #expect(outcome.restarts == 2 && outcome.days.count == 3)
        #expect(outcome.jobsChecked > 350, "the jobs of three days were checked: \(outcome.jobsChecked)")
        #expect(outcome.days.last!.samplesRolledUp > 0 && outcome.days.last!.samplesFull > 0, "both resolutions are in use")
    }
}
}
