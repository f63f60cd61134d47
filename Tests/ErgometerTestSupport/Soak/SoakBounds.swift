/// One bound of a soak: the figure measured, the most it may be, and whether it held.
public struct SoakBound: Sendable {
    public var name: String
    public var figure: String
    public var bound: String
    public var held: Bool
}

extension SoakOutcome {
    /// Every bound the soak holds ergod to, day 1 against the last day where it is a ratio.
    public var bounds: [SoakBound] {
        guard let first = days.first, let last = days.last else { return [] }
        let retention = plan.retention
        var bounds: [SoakBound] = []
        func ratio(_ name: String, _ now: Double, _ then: Double, most: Double, unit: (Double) -> String) {
            let value = then > 0 ? now / then : 1
            bounds.append(SoakBound(
                name: name, figure: "\(format(value, 2))× (day \(last.day) \(unit(now)), day \(first.day) \(unit(then)))", bound: "≤ \(format(most, 2))×",
                held: value <= most))
        }
        let largest = days.map(\.storeBytes).max() ?? 0
        bounds.append(SoakBound(
            name: "store size, largest end of day", figure: mib(Double(largest)), bound: "≤ \(mib(Double(retention.maxBytes))) (max_bytes)",
            held: largest <= retention.maxBytes))
        let full = days.compactMap(\.oldestFullAgeDays).max() ?? 0
        bounds.append(SoakBound(
            name: "oldest full-resolution row", figure: "\(format(full, 3)) days", bound: "≤ \(format(retention.fullResolutionDays + 1.0 / 24, 3)) days",
            held: full <= retention.fullResolutionDays + 1.0 / 24))
        let oldest = days.compactMap(\.oldestSampleAgeDays).max() ?? 0
        bounds.append(SoakBound(
            name: "oldest time-series row", figure: "\(format(oldest, 3)) days", bound: "≤ \(format(retention.seriesDays + 1.0 / 24, 3)) days",
            held: oldest <= retention.seriesDays + 1.0 / 24))
        bounds.append(SoakBound(
            name: "jobs reporting their exact totals", figure: "\(jobsChecked - totalsChanged.count) of \(jobsChecked) checked (\(jobsStarted) started)",
            bound: "all, and most jobs checked", held: totalsChanged.isEmpty && jobsChecked * 10 >= jobsStarted * 9))
        bounds.append(SoakBound(
            name: "ledger: measured = buckets = drawn", figure: "\(measuredMicrojoules) = \(bucketsMicrojoules) = \(drawnMicrojoules) µJ",
            bound: "exactly", held: measuredMicrojoules == bucketsMicrojoules && measuredMicrojoules == drawnMicrojoules))
        ratio("resident memory", Double(last.residentBytes), Double(first.residentBytes), most: 1.10) { mib($0) }
        // What a leak would grow: the bytes the allocator counts in use, the trend of the steady
        // state, from the first whole day of roll-ups on (from then each prune also rolls a
        // day's ticks up to minutes; day 1 has no roll-up to do), the last days against the
        // first, each as a mean of up to ten days. Not private memory: that adds the pages the
        // heap keeps around its chunks, which move by ~1 MiB from one day to the next with where
        // the day's last allocations landed (7.3 to 8.2 MiB on consecutive days of a 90-day
        // run); the table shows it, and resident memory above bounds it with the rest.
        let steadyDays = days.filter { $0.day >= Int(retention.fullResolutionDays.rounded(.up)) + 2 }
        let steady = steadyDays.isEmpty ? days : steadyDays
        let window = max(1, min(10, steady.count / 2))
        let (early, late) = (steady.prefix(window), steady.suffix(window))
        func mean(_ slice: ArraySlice<SoakDay>) -> Double { Double(slice.reduce(0) { $0 + $1.heapInUseBytes }) / Double(slice.count) }
        let leak = mean(early) > 0 ? mean(late) / mean(early) : 1
        bounds.append(SoakBound(
            name: "  of it the heap in use, days \(late.first!.day)-\(late.last!.day) against days \(early.first!.day)-\(early.last!.day) (means)",
            figure: "\(format(leak, 2))× (\(mib(mean(late))), \(mib(mean(early))))", bound: "≤ 1.10×", held: leak <= 1.10))
        ratio("ergo jobs --all", last.jobsListSeconds, first.jobsListSeconds, most: 1.5) { milliseconds($0) }
        ratio("ergo report", last.reportSeconds, first.reportSeconds, most: 1.5) { milliseconds($0) }
        ratio("checkpoint", last.checkpointSeconds, first.checkpointSeconds, most: 1.5) { milliseconds($0) }
        ratio("scrape", last.scrapeSeconds, first.scrapeSeconds, most: 1.5) { milliseconds($0) }
        ratio("/metrics series", Double(last.metricsSeries), Double(first.metricsSeries), most: 1.5) { "\(Int($0))" }
        bounds.append(SoakBound(
            name: "longest prune transaction (what a checkpoint may wait)", figure: milliseconds(longestPruneTransactionSeconds), bound: "≤ 250 ms",
            held: longestPruneTransactionSeconds <= 0.25))
        return bounds
    }

    /// The report `make soak` prints: a row per day, then each bound, "held" or "broke".
    public var report: String {
        var lines = ["day  real s  store      jobs    full rows  minute rows  RSS       private  heap     jobs --all  report   checkpoint  scrape   series"]
        for day in days {
            lines.append(
                [pad("\(day.day)", 4), pad(format(day.realSeconds, 1), 7), pad(mib(Double(day.storeBytes)), 10), pad("\(day.jobsInStore)", 7),
                 pad("\(day.samplesFull)", 10), pad("\(day.samplesRolledUp)", 12), pad(mib(Double(day.residentBytes)), 9),
                 pad(mib(Double(day.anonymousBytes)), 8), pad(mib(Double(day.heapInUseBytes)), 8),
                 pad(milliseconds(day.jobsListSeconds), 11), pad(milliseconds(day.reportSeconds), 8), pad(milliseconds(day.checkpointSeconds), 11),
                 pad(milliseconds(day.scrapeSeconds), 8), "\(day.metricsSeries)"].joined(separator: " "))
        }
        lines.append("")
        lines.append("\(days.count) simulated days at a 1 s tick: \(jobsStarted) jobs, \(restarts) ergod restarts")
        for bound in bounds { lines.append("\(bound.held ? "held" : "BROKE")  \(bound.name): \(bound.figure), bound \(bound.bound)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

private func format(_ value: Double, _ digits: Int) -> String {
    let scale = (0..<digits).reduce(1.0) { value, _ in value * 10 }
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        text += String(repeating: "0", count: max(digits - decimals, 0))
    } else if digits > 0 {
        text += "." + String(repeating: "0", count: digits)
    }
    return text
}

private func mib(_ bytes: Double) -> String { format(bytes / 1_048_576, 1) + " MiB" }
private func milliseconds(_ seconds: Double) -> String { format(seconds * 1000, 2) + " ms" }
private func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
