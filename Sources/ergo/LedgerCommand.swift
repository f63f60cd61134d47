import ArgumentParser
import ErgometerWire

/// `ergo ledger`: every joule since ergod started (or of the standalone store's last run), by bucket.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Show every joule measured and where it went: jobs, system, idle.")

    @Flag(help: "Print JSON: measured_joules and buckets {jobs, system, idle}.")
    var json = false

    @OptionGroup var daemon: DaemonOptions

    func run() async throws {
        let ledger = try daemon.repository().ledger()
        if json {
            print(JSONOutput.string(ledger))
            return
        }
        print("Ledger since \(ReportTextRenderer.timestamp(ledger.since)) [\(ledger.source)]")
        print("  measured: \(Format.fixed(ledger.measuredJoules, 6)) J")
        for (id, joules) in ledger.buckets.jobs.sorted(by: { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }) {
            print("  job \(id): \(Format.fixed(joules, 6)) J")
        }
        if let others = ledger.buckets.otherUsers { print("  other users' jobs: \(Format.fixed(others, 6)) J") }
        if let earlier = ledger.buckets.earlierJobs { print("  earlier jobs (ended before the last 1000, summed): \(Format.fixed(earlier, 6)) J") }
        print("  system: \(Format.fixed(ledger.buckets.system, 6)) J")
        print("  idle: \(Format.fixed(ledger.buckets.idle, 6)) J")
        if !ledger.domains.isEmpty {
            var rows = [["DOMAIN", "KIND", "SOURCE", "MEASURED (J)", "JOBS (J)", "SYSTEM (J)", "IDLE (J)"]]
            for domain in ledger.domains {
                let buckets = domain.buckets
                let jobs = buckets.map { $0.jobsMicrojoules.values.reduce(($0.otherUsersMicrojoules ?? 0) + ($0.earlierJobsMicrojoules ?? 0), +) }
                rows.append([
                    domain.domain, domain.kind, domain.source, Format.fixed(Double(domain.measuredMicrojoules) / 1e6, 6),
                    jobs.map { Format.fixed(Double($0) / 1e6, 6) } ?? "measured only",
                    buckets.map { Format.fixed(Double($0.systemMicrojoules) / 1e6, 6) } ?? "-",
                    buckets.map { Format.fixed(Double($0.idleMicrojoules) / 1e6, 6) } ?? "-",
                ])
            }
            print("  per domain:")
            print(Format.table(rows), terminator: "")
        }
        if let error = ledger.storeError { print("  store error: \(error) (measurements kept in memory)") }
        if let prune = ledger.lastPrune { print("  store: " + StoreCommand.describe(prune)) }
    }
}
