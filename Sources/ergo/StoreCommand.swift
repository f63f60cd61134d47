import ArgumentParser
import ErgometerWire
import Foundation

/// `ergo store`: the job store's path and size, what it holds, the retention in force and what
/// the last prune removed.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Show the job store: size, jobs, time-series rows, retention and the last prune.")

    @Flag(help: "Print JSON: path, bytes, jobs, samples_full, samples_rolled_up, oldest_sample, newest_sample, retention, last_prune.")
    var json = false

    @Option(help: ArgumentHelp("ergod's configuration, for the retention of a store read with --state-dir.", valueName: "FILE"))
    var config = "/etc/ergometer/ergometer.toml"

    @OptionGroup var daemon: DaemonOptions

    func run() async throws {
        let status = try daemon.repository().storeStatus(configurationFile: config)
        if json {
            print(JSONOutput.string(status))
            return
        }
        print(Self.render(status), terminator: "")
    }

    static func render(_ status: StoreStatus) -> String {
        let retention = status.retention
        var lines = [
            "Job store \(status.path)",
            "  size: \(bytes(status.bytes)) of at most \(bytes(retention.maxBytes)) (store.max_bytes)",
            "  jobs: \(status.jobs)",
            "  time series: \(status.samplesFull) rows at full resolution, \(status.samplesRolledUp) per minute",
            "  samples from \(status.oldestSample.map(ReportTextRenderer.timestamp) ?? "-") to \(status.newestSample.map(ReportTextRenderer.timestamp) ?? "-")",
            "  retention: full resolution \(days(retention.fullResolutionDays)), per minute until \(days(retention.seriesDays)), jobs "
                + (retention.jobsDays == 0 ? "forever" : "for \(days(retention.jobsDays)) after they end"),
            "  last prune: " + (status.lastPrune.map(describe) ?? "none yet"),
        ]
        lines.append("")
        return lines.joined(separator: "\n")
    }

    /// One line on what a prune did, for `ergo store` and `ergo ledger`.
    static func describe(_ prune: StorePrune) -> String {
        var parts: [String] = []
        if prune.rolledUpRows > 0 { parts.append("rolled \(prune.rolledUpRows) rows up into \(prune.minuteRows) per-minute rows") }
        if prune.expiredRows > 0 { parts.append("dropped \(prune.expiredRows) time-series rows past their retention") }
        if prune.expiredJobs > 0 { parts.append("dropped \(prune.expiredJobs) jobs past store.jobs_days") }
        if prune.droppedForSizeRows > 0 {
            let through = prune.droppedForSizeThrough.map(ReportTextRenderer.timestamp) ?? "?"
            parts.append("dropped the \(prune.droppedForSizeRows) oldest time-series rows (through \(through)) to stay under store.max_bytes")
        }
        if prune.overBound { parts.append("still over store.max_bytes: only job totals are left, and they are never dropped for size") }
        let what = parts.isEmpty ? "nothing to do" : parts.joined(separator: "; ")
        return "\(ReportTextRenderer.timestamp(prune.at)): \(what) (\(bytes(prune.bytesBefore)) → \(bytes(prune.bytesAfter)), "
            + "\(prune.transactions) transactions, longest \(Format.fixed(prune.longestTransactionSeconds * 1000, 1)) ms)"
    }

    static func bytes(_ count: Int64) -> String {
        let mib = Double(count) / 1_048_576
        return mib >= 1 ? "\(Format.fixed(mib, 1)) MiB" : "\(Format.fixed(Double(count) / 1024, 1)) KiB"
    }

    static func days(_ count: Double) -> String {
        count == count.rounded() ? "\(Int(count)) days" : "\(Format.fixed(count, 2)) days"
    }
}
