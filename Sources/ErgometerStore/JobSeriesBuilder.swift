public import ErgometerWire

/// A job's stored samples as a `JobSeries`: one series per domain and source, in the order of
/// the job's totals (CPU packages, DRAM, GPUs, rest). Samples stored before the per-domain series
/// (store v6 and earlier) put their energy in one `all` series, so no joule goes missing.
public enum JobSeriesBuilder {
    public static func series(job: StoredJob, totals: JobTotals, samples: [JobSample]) -> JobSeries {
        var kinds: [String: String] = [:]
        var order: [String] = []
        var position: [String: Int] = [:]
        func key(_ domain: String, _ source: String) -> String { domain + "\t" + source }
        func slot(_ domain: String, _ source: String) -> Int {
            let key = key(domain, source)
            if let index = position[key] { return index }
            position[key] = order.count
            order.append(key)
            return order.count - 1
        }
        for row in totals.domains {
            kinds[row.domain] = row.kind.rawValue
            _ = slot(row.domain, row.source.rawValue)
        }
        let legacySource = totals.raplMicrojoules > 0 ? "rapl" : "model"
        var decoded: [[(Int, Int64)]] = []
        decoded.reserveCapacity(samples.count)
        for sample in samples {
            var entries = SampleDomainsColumn.decode(sample.domains).map { (slot($0.domain, $0.source.rawValue), $0.microjoules) }
            if entries.isEmpty && sample.energyMicrojoules > 0 { entries = [(slot("all", legacySource), sample.energyMicrojoules)] }
            decoded.append(entries)
        }
        var used = [Bool](repeating: false, count: order.count)
        for entries in decoded { for (index, energy) in entries where energy > 0 { used[index] = true } }
        // Series of the totals that no stored sample has (a job older than the series) are left out.
        var compact = [Int](repeating: -1, count: order.count)
        var series: [JobSeries.Series] = []
        for (index, key) in order.enumerated() where used[index] {
            let parts = key.split(separator: "\t", maxSplits: 1).map(String.init)
            compact[index] = series.count
            series.append(JobSeries.Series(domain: parts[0], kind: kinds[parts[0]] ?? "other", source: parts[1]))
        }
        let points = zip(samples, decoded).map { sample, entries in
            var values = [Int64](repeating: 0, count: series.count)
            for (index, energy) in entries where compact[index] >= 0 { values[compact[index]] += energy }
            return JobSeries.Sample(
                start: sample.start, end: sample.end, energyMicrojoules: sample.energyMicrojoules, cpuMicroseconds: sample.cpuMicroseconds,
                perMinute: sample.perMinute, seriesMicrojoules: values, maxCelsius: sample.maxCelsius)
        }
        return JobSeries(id: job.id, name: job.name, started: job.started, ended: job.ended, series: series, samples: points)
    }
}
