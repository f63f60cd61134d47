import ArgumentParser
import ErgometerStore
import ErgometerWire

/// `ergo ledger`: every joule since ergod started (or of the standalone store's last run), by bucket.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Show every joule measured and where it went: jobs, system, idle.")

    @Flag(help: "Print JSON: measured_joules and buckets {jobs, system, idle}.")
    var json = false

    @OptionGroup var daemon: DaemonOptions

    func run() async throws {
        let ledger: Ledger
        switch try daemon.source() {
        case .daemon(let client):
            do { ledger = try client.ledger() } catch { throw CommandFailure("\(error)") }
        case .store(let store, let directory):
            do {
                guard let checkpoint = try store.checkpoint() else { throw CommandFailure("no ledger saved in \(directory) yet") }
                var jobs: [String: UInt64] = [:]
                for totals in try store.totals(startedSince: checkpoint.ledgerSince) { jobs[totals.jobID] = UInt64(totals.energyMicrojoules) }
                ledger = Ledger(
                    since: checkpoint.ledgerSince,
                    buckets: .init(jobsMicrojoules: jobs, systemMicrojoules: UInt64(checkpoint.systemMicrojoules), idleMicrojoules: UInt64(checkpoint.idleMicrojoules)),
                    source: checkpoint.source, storeError: nil)
            } catch let error as StoreError { throw CommandFailure(error.description) }
        }
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
        print("  system: \(Format.fixed(ledger.buckets.system, 6)) J")
        print("  idle: \(Format.fixed(ledger.buckets.idle, 6)) J")
        if let error = ledger.storeError { print("  store error: \(error) (measurements kept in memory)") }
    }
}
