public import ErgometerWire

/// A job's stored samples as a `JobSeries`: one series per domain and source, in the order of
/// the job's totals (CPU packages, DRAM, GPUs, rest). Samples stored before the per-domain series
/// (store v6 and earlier) put their energy in one `all` series, so no joule goes missing.
public enum JobSeriesBuilder {
    public static func series(job: StoredJob, totals: JobTotals, samples: [JobSample]) -> JobSeries {
        struct Key: Hashable {
            var domain: String
            var source: String
        }
        var kinds: [String: String] = [:]
        var order: [Key] = []
        var position: [Key: Int] = [:]
        func slot(_ key: Key) -> Int {
            if let index = position[key] { return index }
            position[key] = order.count
            order.append(key)
            return order.count - 1
        }
        for row in totals.domains {
            kinds[row.domain] = row.kind.rawValue
            _ = slot(Key(domain: row.domain, source: row.source.rawValue))
        }
        let legacy = Key(domain: "all", source: totals.raplMicrojoules > 0 ? "rapl" : "model")
        let decoded = samples.map { sample in
            let entries = SampleDomainsColumn.decode(sample.domains).map { (slot(Key(domain: $0.domain, source: $0.source.rawValue)), $0.microjoules) }
            return entries.isEmpty && sample.energyMicrojoules > 0 ? [(slot(legacy), sample.energyMicrojoules)] : entries
        }
        // Only the series some sample has: a domain of the totals older than the series is left out.
        var used = [Bool](repeating: false, count: order.count)
        for entries in decoded { for (index, energy) in entries where energy > 0 { used[index] = true } }
        var compact = [Int](repeating: -1, count: order.count)
        var series: [JobSeries.Series] = []
        for (index, key) in order.enumerated() where used[index] {
            compact[index] = series.count
            series.append(JobSeries.Series(domain: key.domain, kind: kinds[key.domain] ?? "other", source: key.source))
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
