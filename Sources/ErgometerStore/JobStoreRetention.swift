public import ErgometerWire
import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// Retention: time series rolled up to one row per minute after `full_resolution_days`, dropped
/// after `series_days`; ended jobs dropped after `jobs_days`; near `max_bytes` (past 95 % of it)
/// the oldest time series go first (never a job's totals). Each step is a small transaction of at most
/// `batchRows` rows, so the sampler's checkpoint never waits long for the writer, and one prune
/// does at most `rowsPerPrune` rows: a store far behind catches up over several.
extension JobStore {
    /// Rows one transaction reads or removes, and one prune in all.
    public static let batchRows = 2_000
    /// Full-resolution rows one roll-up transaction reads: each holds a checkpoint's ticks
    /// (five at the default 5 s), so about `batchRows` ticks.
    static let rollUpBatchRows = 400
    public static let rowsPerPrune = 60_000
    /// Pages given back to the file system per transaction (incremental vacuum).
    static let vacuumPages = 1_024

    /// v6: which time-series rows are per minute (rows of earlier versions: those after their
    /// job's first hour, as the sampler wrote them), an index by age for retention, the last
    /// prune, the energy of jobs dropped by `jobs_days` (the ledger still counts it), and an
    /// index by job number, so that the newest jobs (`ergo jobs`) are read without sorting all.
    static func migrateToRetention(_ db: Database) throws {
        try db.alter(table: JobSample.databaseTableName) { table in
            table.add(column: "per_minute", .boolean).notNull().defaults(to: false)
        }
        try db.execute(sql: """
            UPDATE job_samples SET per_minute = 1
              WHERE start >= (SELECT started FROM jobs WHERE jobs.id = job_samples.job) + 3600;
            CREATE INDEX job_samples_by_age ON job_samples (per_minute, start);
            CREATE INDEX jobs_by_number ON jobs (CAST(id AS INTEGER));
            CREATE TABLE store_state (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
            CREATE TABLE expired_job_energy (
              domain TEXT PRIMARY KEY NOT NULL, ledger_since DOUBLE NOT NULL, energy_uj INTEGER NOT NULL, jobs INTEGER NOT NULL);
            """)
    }

    /// Makes the file shrink when rows go: incremental auto-vacuum (a store made before it is
    /// rewritten once, by VACUUM, on the first open).
    static func enableIncrementalVacuum(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in
            guard try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") != 2 else { return }
            try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
            try db.execute(sql: "VACUUM")
        }
    }

    /// The database file and its write-ahead log, bytes: what the store takes on disk.
    public var bytes: Int64 {
        func size(_ path: String) -> Int64 {
            var info = stat()
            return stat(path, &info) == 0 ? Int64(info.st_size) : 0
        }
        return size(path) + size(path + "-wal")
    }

    /// Bytes the database's pages in use take (free pages excluded) plus the log.
    func usedBytes(_ db: Database) throws -> Int64 {
        let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
        let free = try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
        let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
        var info = stat()
        let log = stat(path + "-wal", &info) == 0 ? Int64(info.st_size) : 0
        return (pages - free) * pageSize + log
    }

    /// One prune, at `now` (Unix seconds). `ledgerSince`: the ledger period whose jobs' energy
    /// must survive their rows (`jobs_days`). Never throws half done: each transaction that
    /// committed stays, and the summary says what they did.
    public func prune(retention: StoreRetention, now: Double, ledgerSince: Double) throws(StoreError) -> StorePrune {
        var summary = StorePrune(at: now)
        let began = DispatchTime.now().uptimeNanoseconds
        summary.bytesBefore = bytes
        var budget = Self.rowsPerPrune
        var timing = TransactionTiming()
        do {
            let rollUpBefore = ((now - retention.fullResolutionDays * 86_400) / 60).rounded(.down) * 60
            while budget > 0, try transaction(&timing, { db in try self.rollUp(db, before: rollUpBefore, into: &summary) }) > 0 {
                budget -= Self.batchRows
            }
            let seriesBefore = now - retention.seriesDays * 86_400
            while budget > 0, try transaction(&timing, { db in try self.dropSeries(db, before: seriesBefore, into: &summary) }) > 0 {
                budget -= Self.batchRows
            }
            if retention.jobsDays > 0 {
                let endedBefore = now - retention.jobsDays * 86_400
                while budget > 0, try transaction(&timing, { db in try self.expireJobs(db, endedBefore: endedBefore, ledgerSince: ledgerSince, into: &summary) }) > 0 {
                    budget -= Self.batchRows
                }
            }
            try vacuum(&timing)
            // Down to 95 % of the bound, so that what the checkpoints add until the next prune
            // (a minute of rows, the log) keeps the store under it.
            let target = retention.maxBytes - retention.maxBytes / 20
            while budget > 0, try read({ db in try self.usedBytes(db) }) > target {
                let removed = try transaction(&timing) { db in try self.dropOldestSeries(db, into: &summary) }
                try vacuum(&timing)
                if removed == 0 {  // only totals left: over the bound itself is what is said
                    summary.overBound = try read { db in try self.usedBytes(db) } > retention.maxBytes
                    break
                }
                budget -= removed
            }
            summary.moreToDo = budget <= 0
            // The pages the prune read (old rows, all over the file) leave both connections'
            // caches: kept, they would hold ~4 MiB from the first roll-up on that the
            // checkpoints' inserts and the queries do not need.
            _ = try? writePoolWithoutTransaction { db in try db.execute(sql: "PRAGMA shrink_memory") }
            _ = try? read { db in try db.execute(sql: "PRAGMA shrink_memory") }
            summary.bytesAfter = bytes
            summary.seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
            if summary.changedAnything {
                var saved = summary
                saved.transactions = timing.count + 1
                saved.longestTransactionSeconds = timing.longestSeconds
                _ = try transaction(&timing) { db in
                    let json = String(decoding: try JSONEncoder().encode(saved), as: UTF8.self)
                    try db.execute(sql: "INSERT OR REPLACE INTO store_state (key, value) VALUES ('last_prune', ?)", arguments: [json])
                    return 0
                }
            }
        } catch {
            throw StoreError.failed(path: path, underlying: error)
        }
        summary.transactions = timing.count
        summary.longestTransactionSeconds = timing.longestSeconds
        return summary
    }

    /// A prune's transactions: how many, and the longest.
    struct TransactionTiming {
        var count = 0
        var longestSeconds = 0.0
    }

    /// One write transaction, timed; returns the rows it touched.
    private func transaction(_ timing: inout TransactionTiming, _ body: (Database) throws -> Int) throws -> Int {
        let began = DispatchTime.now().uptimeNanoseconds
        let rows = try writePool { db in try body(db) }
        timing.count += 1
        timing.longestSeconds = max(timing.longestSeconds, Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9)
        return rows
    }

    /// The oldest full-resolution rows that began before `before` (a minute boundary), as one
    /// row per job and minute. A row is a checkpoint's ticks (`SamplePack`), so ticks are
    /// binned by their own start; a batch that ends inside a minute leaves that minute for the
    /// next, and the ticks of its rows from that minute on (or from `before` on) are written back
    /// as a smaller pack, so that each minute becomes one row.
    private func rollUp(_ db: Database, before: Double, into summary: inout StorePrune) throws -> Int {
        let rows = try Row.fetchAll(
            db, sql: "SELECT rowid, \(Self.sampleColumns) FROM job_samples WHERE per_minute = 0 AND start < ? ORDER BY start LIMIT ?",
            arguments: [before, Self.rollUpBatchRows])
        guard let last = rows.last else { return 0 }
        var cutoff = before
        if rows.count == Self.rollUpBatchRows {
            let lastMinute = ((last["start"] as Double) / 60).rounded(.down) * 60
            if rows.contains(where: { ($0["start"] as Double) < lastMinute }) { cutoff = min(cutoff, lastMinute) }
        }
        struct Minute {
            var job: String
            var start: Double
            var end: Double
            var energy: Int64
            var cpu: Int64
            var domains: [SampleDomainsColumn.Entry]
            var maxCelsius: Double?
        }
        struct Key: Hashable { var job: String; var minute: Int64 }
        var minutes: [Minute] = []  // in first-seen order
        var position: [Key: Int] = [:]
        var leftover: [String: [JobSample]] = [:]
        var leftoverJobs: [String] = []
        /// Adds a tick's figures to its job's minute; returns the minute's position.
        func fold(job: String, start: Double, end: Double, energy: Int64, cpu: Int64, celsius: Double?) -> Int {
            let key = Key(job: job, minute: Int64((start / 60).rounded(.down)))
            let index: Int
            if let known = position[key] {
                index = known
            } else {
                index = minutes.count
                position[key] = index
                minutes.append(Minute(job: job, start: start, end: end, energy: 0, cpu: 0, domains: [], maxCelsius: nil))
            }
            minutes[index].start = min(minutes[index].start, start)
            minutes[index].end = max(minutes[index].end, end)
            minutes[index].energy += energy
            minutes[index].cpu += cpu
            if let celsius { minutes[index].maxCelsius = max(minutes[index].maxCelsius ?? celsius, celsius) }
            return index
        }
        func keepForLater(_ tick: JobSample) {
            if leftover[tick.jobID] == nil { leftoverJobs.append(tick.jobID) }
            leftover[tick.jobID, default: []].append(tick)
        }
        for row in rows {
            // A pack's ticks are summed from its blob's bytes, with no sample or text made per
            // tick; rows of earlier stores (one tick, no blob) and a blob it cannot read, whole.
            guard let blob: Data = row["ticks"], let ticks = SamplePack.ticks(startingAt: row["start"], blob: blob) else {
                for tick in Self.samples(in: row) {
                    guard tick.start < cutoff else {
                        keepForLater(tick)
                        continue
                    }
                    let index = fold(
                        job: tick.jobID, start: tick.start, end: tick.end, energy: tick.energyMicrojoules, cpu: tick.cpuMicroseconds,
                        celsius: tick.maxCelsius)
                    SampleDomainsColumn.accumulate(tick.domains, into: &minutes[index].domains)
                }
                continue
            }
            let job: String = row["job"]
            blob.withUnsafeBytes { raw in
                let bytes = raw.bindMemory(to: UInt8.self)
                for tick in ticks {
                    let domains = UnsafeBufferPointer(rebasing: bytes[tick.domains])
                    guard tick.start < cutoff else {
                        keepForLater(JobSample(
                            jobID: job, start: tick.start, end: tick.end, energyMicrojoules: tick.energyMicrojoules, cpuMicroseconds: tick.cpuMicroseconds,
                            perMinute: false, domains: String(decoding: domains, as: UTF8.self), maxCelsius: tick.maxCelsius))
                        continue
                    }
                    let index = fold(
                        job: job, start: tick.start, end: tick.end, energy: tick.energyMicrojoules, cpu: tick.cpuMicroseconds, celsius: tick.maxCelsius)
                    SampleDomainsColumn.accumulate(utf8: domains, into: &minutes[index].domains)
                }
            }
        }
        try deleteRows(db, rows.map { $0["rowid"] as Int64 })
        let insert = try db.cachedStatement(sql: Self.insertSampleSQL)
        for minute in minutes {
            try insert.execute(arguments: [
                minute.job, minute.start, minute.end, minute.energy, minute.cpu, true, SampleDomainsColumn.encode(minute.domains), minute.maxCelsius, nil,
            ])
        }
        var written = 0
        for job in leftoverJobs { written += try Self.insertPacks(leftover[job]![...], with: insert) }
        summary.rolledUpRows += rows.count - written  // rows the roll-up took, not those it wrote back
        summary.minuteRows += minutes.count
        return rows.count
    }

    /// Time-series rows of either resolution that began before `before`.
    private func dropSeries(_ db: Database, before: Double, into summary: inout StorePrune) throws -> Int {
        var removed = 0
        for perMinute in [true, false] {
            try db.execute(
                sql: "DELETE FROM job_samples WHERE rowid IN (SELECT rowid FROM job_samples WHERE per_minute = ? AND start < ? LIMIT ?)",
                arguments: [perMinute, before, Self.batchRows - removed])
            removed += db.changesCount
        }
        summary.expiredRows += removed
        return removed
    }

    /// Ended jobs older than the cutoff, with their totals and series; the energy of those of
    /// the current ledger period is kept, per domain, in `expired_job_energy`.
    private func expireJobs(_ db: Database, endedBefore: Double, ledgerSince: Double, into summary: inout StorePrune) throws -> Int {
        let ids = try String.fetchAll(db, sql: "SELECT id FROM jobs WHERE ended IS NOT NULL AND ended < ? LIMIT 20", arguments: [endedBefore])
        guard !ids.isEmpty else { return 0 }
        let marks = ids.map { _ in "?" }.joined(separator: ", ")
        try db.execute(sql: "DELETE FROM expired_job_energy WHERE ledger_since != ?", arguments: [ledgerSince])
        try db.execute(
            sql: """
                INSERT INTO expired_job_energy (domain, ledger_since, energy_uj, jobs)
                  SELECT domain, ?, SUM(energy_uj), COUNT(DISTINCT job) FROM job_domain_energy
                  WHERE job IN (SELECT id FROM jobs WHERE id IN (\(marks)) AND started >= ?) GROUP BY domain
                ON CONFLICT(domain) DO UPDATE SET energy_uj = energy_uj + excluded.energy_uj, jobs = jobs + excluded.jobs
                """,
            arguments: StatementArguments([ledgerSince] as [any DatabaseValueConvertible]) + StatementArguments(ids) + [ledgerSince])
        let series = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job_samples WHERE job IN (\(marks))", arguments: StatementArguments(ids)) ?? 0
        try db.execute(sql: "DELETE FROM jobs WHERE id IN (\(marks))", arguments: StatementArguments(ids))  // totals, domains, series cascade
        summary.expiredJobs += ids.count
        summary.expiredRows += series
        return max(series, ids.count)
    }

    /// The oldest time-series rows, of whichever resolution holds the oldest.
    private func dropOldestSeries(_ db: Database, into summary: inout StorePrune) throws -> Int {
        let oldestMinute = try Double.fetchOne(db, sql: "SELECT MIN(start) FROM job_samples WHERE per_minute = 1")
        let oldestFull = try Double.fetchOne(db, sql: "SELECT MIN(start) FROM job_samples WHERE per_minute = 0")
        guard oldestMinute != nil || oldestFull != nil else { return 0 }
        let perMinute = oldestFull == nil || (oldestMinute.map { $0 <= oldestFull! } ?? false)
        let rows = try Row.fetchAll(
            db, sql: "SELECT rowid, start FROM job_samples WHERE per_minute = ? ORDER BY start LIMIT ?", arguments: [perMinute, Self.batchRows])
        try deleteRows(db, rows.map { $0["rowid"] as Int64 })
        summary.droppedForSizeRows += rows.count
        if let newest = rows.last?["start"] as Double? { summary.droppedForSizeThrough = max(summary.droppedForSizeThrough ?? newest, newest) }
        return rows.count
    }

    private func deleteRows(_ db: Database, _ rowIDs: [Int64]) throws {
        guard !rowIDs.isEmpty else { return }
        let marks = rowIDs.map { _ in "?" }.joined(separator: ", ")
        try db.execute(sql: "DELETE FROM job_samples WHERE rowid IN (\(marks))", arguments: StatementArguments(rowIDs))
    }

    /// Gives free pages back to the file system, a bounded number per transaction, and folds
    /// the log into the file so that both shrink.
    private func vacuum(_ timing: inout TransactionTiming) throws {
        while try read({ db in try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0 }) > 0 {
            let before = try read { db in try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0 }
            _ = try transaction(&timing) { db in
                try db.execute(sql: "PRAGMA incremental_vacuum(\(Self.vacuumPages))")
                return 0
            }
            if try read({ db in try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0 }) >= before { break }
        }
        _ = try? writePoolWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// The energy, per domain, of jobs of the ledger period that began at `ledgerSince` whose
    /// rows `jobs_days` dropped.
    public func expiredJobEnergy(ledgerSince: Double) throws(StoreError) -> [String: UInt64] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT domain, energy_uj FROM expired_job_energy WHERE ledger_since = ?", arguments: [ledgerSince])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["domain"] as String, UInt64(max($0["energy_uj"] as Int64, 0))) })
        }
    }

    /// Start of the oldest time-series row of one resolution (Unix seconds), nil when none.
    public func oldestSample(perMinute: Bool) throws(StoreError) -> Double? {
        try read { db in try Double.fetchOne(db, sql: "SELECT MIN(start) FROM job_samples WHERE per_minute = ?", arguments: [perMinute]) }
    }

    /// What `ergo store` shows.
    public func status(retention: StoreRetention) throws(StoreError) -> StoreStatus {
        let size = bytes
        return try read { db in
            let jobs = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs") ?? 0
            let full = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job_samples WHERE per_minute = 0") ?? 0
            let minutes = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job_samples WHERE per_minute = 1") ?? 0
            let oldest = try Double.fetchOne(db, sql: "SELECT MIN(first) FROM (SELECT MIN(start) AS first FROM job_samples WHERE per_minute = 0 UNION ALL SELECT MIN(start) FROM job_samples WHERE per_minute = 1)")
            let newest = try Double.fetchOne(db, sql: """
                SELECT MAX(last) FROM (SELECT "end" AS last FROM (SELECT "end" FROM job_samples WHERE per_minute = 0 ORDER BY start DESC LIMIT 1)
                  UNION ALL SELECT "end" FROM (SELECT "end" FROM job_samples WHERE per_minute = 1 ORDER BY start DESC LIMIT 1))
                """)
            let prune = try String.fetchOne(db, sql: "SELECT value FROM store_state WHERE key = 'last_prune'")
                .flatMap { try? JSONDecoder().decode(StorePrune.self, from: Data($0.utf8)) }
            return StoreStatus(
                path: path, bytes: size, jobs: jobs, samplesFull: full, samplesRolledUp: minutes, oldestSample: oldest, newestSample: newest,
                retention: retention, lastPrune: prune)
        }
    }
}
