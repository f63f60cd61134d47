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
                ledger = Self.ledger(checkpoint, jobs: try store.totals(startedSince: checkpoint.ledgerSince))
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
        if !ledger.domains.isEmpty {
            var rows = [["DOMAIN", "KIND", "SOURCE", "MEASURED (J)", "JOBS (J)", "SYSTEM (J)", "IDLE (J)"]]
            for domain in ledger.domains {
                let buckets = domain.buckets
                let jobs = buckets.map { $0.jobsMicrojoules.values.reduce($0.otherUsersMicrojoules ?? 0, +) }
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
    }

    /// The ledger a store's last checkpoint holds: per domain what the meters measured, and the
    /// jobs' buckets from their per-domain totals. A checkpoint from before domains has no
    /// measured figure of its own: the buckets' sum stands in.
    static func ledger(_ checkpoint: Checkpoint, jobs totals: [JobTotals]) -> Ledger {
        var jobs: [String: UInt64] = [:]
        for total in totals { jobs[total.jobID] = UInt64(max(total.energyMicrojoules, 0)) }
        let buckets = Ledger.Buckets(
            jobsMicrojoules: jobs, systemMicrojoules: UInt64(checkpoint.systemMicrojoules), idleMicrojoules: UInt64(checkpoint.idleMicrojoules))
        let saved = checkpoint.domains
        var domains: [Ledger.Domain] = []
        var measured: UInt64 = 0
        for domain in saved {
            let attributed = domain.kind != .platform && domain.kind != .other
            var domainJobs: [String: UInt64] = [:]
            for total in totals {
                let energy = total.domains.reduce(Int64(0)) { $0 + ($1.domain == domain.domain ? $1.energyMicrojoules : 0) }
                if energy > 0 { domainJobs[total.jobID] = UInt64(energy) }
            }
            if attributed { measured += domain.measuredMicrojoules }
            domains.append(Ledger.Domain(
                domain: domain.domain, kind: domain.kind.rawValue, source: domain.source.rawValue, measuredMicrojoules: domain.measuredMicrojoules,
                buckets: attributed ? .init(jobsMicrojoules: domainJobs, systemMicrojoules: domain.systemMicrojoules, idleMicrojoules: domain.idleMicrojoules) : nil,
                componentsBeyondPlatformMicrojoules: domain.componentsBeyondPlatformMicrojoules))
        }
        if saved.isEmpty { measured = jobs.values.reduce(buckets.systemMicrojoules + buckets.idleMicrojoules, +) }
        return Ledger(since: checkpoint.ledgerSince, measuredMicrojoules: measured, buckets: buckets, source: checkpoint.source, storeError: nil, domains: domains)
    }
}
