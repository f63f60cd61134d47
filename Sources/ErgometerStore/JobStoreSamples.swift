import Foundation
import GRDB

/// The time series in `job_samples`: full-resolution ticks written as one `SamplePack` row per
/// job and checkpoint, per-minute samples one row each, and both read back as `JobSample`s.
extension JobStore {
    static let insertSampleSQL =
        "INSERT INTO job_samples (job, start, \"end\", energy_uj, cpu_usec, per_minute, domains, max_celsius, ticks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"

    /// Writes `samples` (oldest first, any jobs): each job's full-resolution ticks in packs of
    /// at most `SamplePack.maxTicks`, per-minute samples as they are.
    static func insert(_ samples: [JobSample], into db: Database) throws {
        guard !samples.isEmpty else { return }
        let statement = try db.cachedStatement(sql: insertSampleSQL)
        var ticksByJob: [String: [JobSample]] = [:]
        var jobs: [String] = []
        for sample in samples {
            guard !sample.perMinute else {
                try insertRow(sample, ticks: nil, with: statement)
                continue
            }
            if ticksByJob[sample.jobID] == nil { jobs.append(sample.jobID) }
            ticksByJob[sample.jobID, default: []].append(sample)
        }
        for job in jobs {
            try insertPacks(ticksByJob[job]![...], with: statement)
        }
    }

    /// One job's full-resolution ticks, oldest first, as packed rows; returns how many.
    @discardableResult
    static func insertPacks(_ ticks: ArraySlice<JobSample>, with statement: Statement) throws -> Int {
        var from = ticks.startIndex
        var rows = 0
        while from < ticks.endIndex {
            let to = min(from + SamplePack.maxTicks, ticks.endIndex)
            let (row, blob) = SamplePack.pack(ticks[from..<to])
            try insertRow(row, ticks: blob, with: statement)
            from = to
            rows += 1
        }
        return rows
    }

    private static func insertRow(_ sample: JobSample, ticks: Data?, with statement: Statement) throws {
        try statement.execute(arguments: [
            sample.jobID, sample.start, sample.end, sample.energyMicrojoules, sample.cpuMicroseconds, sample.perMinute, sample.domains,
            sample.maxCelsius, ticks,
        ])
    }

    /// The columns `samples(in:)` reads, in a `SELECT` of `job_samples`.
    static let sampleColumns = "job, start, \"end\", energy_uj, cpu_usec, per_minute, domains, max_celsius, ticks"

    /// The samples a row holds: a packed row's ticks, else the row itself (a per-minute sample,
    /// a tick stored before v8, or a pack whose blob cannot be read: its sums stand).
    static func samples(in row: Row) -> [JobSample] {
        let sample = JobSample(
            jobID: row["job"], start: row["start"], end: row["end"], energyMicrojoules: row["energy_uj"], cpuMicroseconds: row["cpu_usec"],
            perMinute: row["per_minute"], domains: row["domains"], maxCelsius: row["max_celsius"])
        guard let blob: Data = row["ticks"], let ticks = SamplePack.unpack(sample, blob: blob) else { return [sample] }
        return ticks
    }

    /// A job's time series, oldest first: each tick of its first hour (while kept at full
    /// resolution), then one sample a minute.
    public func samples(job: String) throws(StoreError) -> [JobSample] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.sampleColumns) FROM job_samples WHERE job = ? ORDER BY start", arguments: [job])
                .flatMap(Self.samples(in:))
        }
    }
}
