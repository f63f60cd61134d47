import ErgometerCore
import Dispatch
import GRDB
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SQLite persistence for jobs, their totals and time series, and the sampler's checkpoint
/// (GRDB, WAL journal, versioned migrations). Lives in `<state dir>/ergometer.sqlite`.
public final class JobStore: Sendable {
    public static let fileName = "ergometer.sqlite"
    /// The open database and the file (device, inode) it was opened as; replaced when the file
    /// is deleted under it (see `recoverIfDeleted`).
    private let open: Mutex<(pool: DatabasePool, file: FileIdentity?)>
    public let path: String
    private var pool: DatabasePool { open.withLock { $0.pool } }

    /// How long a write waits for another connection's lock before it fails (and what it
    /// held stays pending, as on a full disk).
    let busyTimeout: Double

    /// Opens (creating and migrating as needed) the store in `directory`. `busyTimeout`: how
    /// long a write waits for a lock another process holds (`sqlite3` on the file, a backup).
    public init(directory: String, busyTimeout: Double = 5) throws(StoreError) {
        path = directory.hasSuffix("/") ? directory + Self.fileName : directory + "/" + Self.fileName
        self.busyTimeout = busyTimeout
        do {
            let pool = try Self.openPool(path: path, busyTimeout: busyTimeout)
            open = Mutex((pool, FileIdentity(path: path)))
        } catch {
            throw StoreError.cannotOpen(path: path, underlying: error)
        }
    }

    private static func openPool(path: String, busyTimeout: Double) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        // WAL with synchronous=NORMAL: commits do not fsync (checkpoints do), so a checkpoint
        // every few seconds costs microseconds, not a disk flush; a power cut can lose the
        // last checkpoint, never corrupt the file, and the next start re-attributes the gap.
        // The log is cut back to 16 MiB after each checkpoint of it (a prune can make it grow),
        // and each connection caches at most 2 MiB of pages, however large the store grows. One
        // reader is enough: ergod's queries come one at a time from the sampler (the writer,
        // beside it, serves the checkpoint and the prune), and each connection's cache is memory.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 16777216; PRAGMA cache_size = -2048")
        }
        configuration.maximumReaderCount = 1
        // Writes (checkpoints, prunes) are background work beside the tick: GRDB's default
        // quality of service, user-initiated, runs them at nice -2 on Linux, ahead of the
        // sampler (nice 0), so on a busy box a checkpoint would delay the tick. At utility they
        // yield to it; reads (a user's `ergo` query) keep the default.
        configuration.writeTargetQueue = DispatchQueue(label: "ergometer.store.writes", qos: .utility)
        let pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
        // A store of an earlier version is rewritten once so that it can shrink; without the
        // room for that (a full disk) it opens as it is, and tries again at the next start.
        try? Self.enableIncrementalVacuum(pool)
        return pool
    }

    /// When the database file was deleted (or its directory removed) while open, writes would
    /// go on into an unlinked inode and vanish with the process. This notices (one stat), copies
    /// the open database into a new file at the same path (SQLite's backup API, through the
    /// still-open connection: nothing is lost) and continues there. Returns whether it did.
    public func recoverIfDeleted() throws(StoreError) -> Bool {
        let (old, opened) = open.withLock { ($0.pool, $0.file) }
        guard let opened else { return false }  // never seen on disk: nothing to compare with
        let current = FileIdentity(path: path)
        if current == opened { return false }
        guard current == nil else { throw StoreError.failed(path: path, underlying: Replaced()) }
        do {
            let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            if !directory.isEmpty { mkdir(directory, 0o700) }  // as private as systemd makes it (StateDirectoryMode=0700)
            let copy = try DatabaseQueue(path: path)
            try old.writeWithoutTransaction { source in
                try copy.writeWithoutTransaction { destination in try source.backup(to: destination) }
            }
            try copy.close()
            let reopened = try Self.openPool(path: path, busyTimeout: busyTimeout)
            open.withLock { $0 = (reopened, FileIdentity(path: path)) }
            try? old.close()
            return true
        } catch {
            throw StoreError.failed(path: path, underlying: error)
        }
    }

    /// Another file now sits where the open database was: it is not ours to overwrite.
    struct Replaced: Error, CustomStringConvertible {
        var description: String { "another file replaced the open database; move it aside so ergod can write its own back" }
    }

    /// A file's device and inode, to tell "the same file" from "a file at the same path".
    struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64

        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: StoredJob.databaseTableName) { table in
                table.column("id", .text).primaryKey()
                table.column("job_label", .text).notNull().indexed()
                table.column("name", .text).notNull()
                table.column("user", .text).notNull()
                table.column("uid", .integer).notNull()
                table.column("labels", .text).notNull()
                table.column("command", .text).notNull()
                table.column("started", .double).notNull()
                table.column("ended", .double)
                table.column("exit_status", .integer)
                table.column("tracking", .text).notNull()
                table.column("cgroup", .text)
                table.column("pid", .integer).notNull()
                table.column("owner_cgroup", .text)
                table.column("processors", .integer)
                table.column("hardware", .text).notNull()
                table.column("boot_id", .text).notNull()
            }
            try db.create(table: JobTotals.databaseTableName) { table in
                table.column("job", .text).primaryKey().references(StoredJob.databaseTableName, onDelete: .cascade)
                for column in ["energy_uj", "package_uj", "dram_uj", "idle_share_uj", "rapl_uj", "model_uj", "cpu_usec", "last_usage_usec"] {
                    table.column(column, .integer).notNull()
                }
                for column in ["co2_grams", "cost", "peak_watts", "intensity_g_per_kwh", "pue"] {
                    table.column(column, .double).notNull()
                }
                table.column("temperatures", .text).notNull()
                table.column("currency", .text)
                table.column("flops", .double)
            }
            try db.create(table: JobSample.databaseTableName) { table in
                table.column("job", .text).notNull().references(StoredJob.databaseTableName, onDelete: .cascade)
                table.column("start", .double).notNull()
                table.column("end", .double).notNull()
                table.column("energy_uj", .integer).notNull()
                table.column("cpu_usec", .integer).notNull()
            }
            try db.create(index: "job_samples_by_job", on: JobSample.databaseTableName, columns: ["job", "start"])
            try db.create(table: Checkpoint.databaseTableName) { table in
                table.column("boot_id", .text).primaryKey()
                table.column("wall_time", .double).notNull()
                table.column("ledger_since", .double).notNull()
                table.column("monotonic_ns", .integer).notNull()
                table.column("zones", .text).notNull()
                table.column("busy_usec", .integer).notNull()
                table.column("system_uj", .integer).notNull()
                table.column("idle_uj", .integer).notNull()
                table.column("source", .text).notNull()
            }
        }
        // v2: what a training program reports through ErgometerClient.
        migrator.registerMigration("v2") { db in
            try db.alter(table: JobTotals.databaseTableName) { table in
                table.add(column: "steps", .integer)
                table.add(column: "samples", .integer)
                table.add(column: "metrics", .text).notNull().defaults(to: "{}")
                table.add(column: "progress_sequence", .integer)
            }
        }
        // v3: energy per domain and source (GPUs, the platform's rest), and the per-domain ledger.
        // Jobs of earlier versions measured the CPU packages and DRAM only: their rows are
        // rebuilt from the package, DRAM, RAPL and model columns (the idle share in proportion).
        migrator.registerMigration("v3") { db in
            try db.create(table: Self.domainTable) { table in
                table.column("job", .text).notNull().references(StoredJob.databaseTableName, onDelete: .cascade)
                table.column("domain", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("source", .text).notNull()
                table.column("energy_uj", .integer).notNull()
                table.column("idle_share_uj", .integer).notNull()
                table.primaryKey(["job", "domain", "source"])
            }
            let share = "(CASE WHEN energy_uj > 0 THEN idle_share_uj * %@ / energy_uj ELSE 0 END)"
            let dramIdle = String(format: share, "dram_uj")
            let modelIdle = String(format: share, "model_uj")
            try db.execute(sql: """
                INSERT INTO \(Self.domainTable) SELECT job, 'dram', 'dram', 'rapl', dram_uj, \(dramIdle) FROM job_totals WHERE dram_uj > 0;
                INSERT INTO \(Self.domainTable) SELECT job, 'cpu-package', 'cpu-package', 'model', model_uj, \(modelIdle)
                  FROM job_totals WHERE model_uj > 0;
                INSERT INTO \(Self.domainTable) SELECT job, 'cpu-package', 'cpu-package', 'rapl', energy_uj - dram_uj - model_uj,
                  idle_share_uj - \(dramIdle) - \(modelIdle) FROM job_totals WHERE energy_uj - dram_uj - model_uj > 0;
                """)
            try db.alter(table: Checkpoint.databaseTableName) { table in
                table.add(column: "domains", .text).notNull().defaults(to: "{}")
            }
        }
        // v4: the GPUs each job used (UUID, name, GPU-seconds), as JSON beside its totals.
        migrator.registerMigration("v4") { db in
            try db.alter(table: JobTotals.databaseTableName) { table in
                table.add(column: "gpus", .text).notNull().defaults(to: "[]")
            }
        }
        // v5: the scheduler of a job ergod found by its cgroup (Slurm, systemd, a container runtime).
        migrator.registerMigration("v5") { db in
            try db.alter(table: StoredJob.databaseTableName) { table in
                table.add(column: "scheduler", .text)
            }
        }
        // v6: retention (JobStoreRetention.swift).
        migrator.registerMigration("v6", migrate: Self.migrateToRetention)
        // v7: each sample's energy per domain and source, and the hottest sensor during it
        // (`ergo report --svg`); rows from before keep their total only.
        migrator.registerMigration("v7") { db in
            try db.alter(table: JobSample.databaseTableName) { table in
                table.add(column: "domains", .text).notNull().defaults(to: "")
                table.add(column: "max_celsius", .double)
            }
        }
        // v8: a job's full-resolution ticks of one checkpoint in one row (`SamplePack`); rows
        // from before hold one tick each and have no `ticks`.
        migrator.registerMigration("v8") { db in
            try db.alter(table: JobSample.databaseTableName) { table in table.add(column: "ticks", .blob) }
        }
        return migrator
    }

    static let domainTable = "job_domain_energy"
    static let upsertDomainSQL =
        "INSERT INTO job_domain_energy (job, domain, kind, source, energy_uj, idle_share_uj) VALUES (?, ?, ?, ?, ?, ?)"
        + " ON CONFLICT(job, domain, source) DO UPDATE SET energy_uj = excluded.energy_uj, idle_share_uj = excluded.idle_share_uj"

    /// Fills each totals' `domains` from `job_domain_energy` (one query per 500 jobs).
    static func attachDomains(_ db: Database, to totals: inout [JobTotals]) throws {
        var position: [String: Int] = [:]
        for (index, total) in totals.enumerated() { position[total.jobID] = index }
        for start in stride(from: 0, to: totals.count, by: 500) {
            let ids = totals[start..<min(start + 500, totals.count)].map(\.jobID)
            let marks = ids.map { _ in "?" }.joined(separator: ", ")
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM job_domain_energy WHERE job IN (\(marks)) ORDER BY job, domain, source",
                arguments: StatementArguments(ids))
            for row in rows {
                guard let index = position[row["job"]], let kind = DomainKind(rawValue: row["kind"]),
                    let source = EnergySource(rawValue: row["source"])
                else { continue }
                totals[index].domains.append(
                    DomainTotal(domain: row["domain"], kind: kind, source: source, energyMicrojoules: row["energy_uj"], idleShareMicrojoules: row["idle_share_uj"]))
            }
        }
    }

    /// The id the next job gets: one more than the largest so far.
    public func nextJobNumber() throws(StoreError) -> Int {
        try read { db in
            (try Int.fetchOne(db, sql: "SELECT MAX(CAST(id AS INTEGER)) FROM jobs") ?? 0) + 1
        }
    }

    static func saveDomains(_ db: Database, of totals: JobTotals) throws {
        guard !totals.domains.isEmpty else { return }
        let upsert = try db.cachedStatement(sql: upsertDomainSQL)
        for domain in totals.domains {
            try upsert.execute(arguments: [
                totals.jobID, domain.domain, domain.kind.rawValue, domain.source.rawValue, domain.energyMicrojoules, domain.idleShareMicrojoules,
            ])
        }
    }

    /// Saves everything a tick series produced, atomically: the checkpoint, job totals, new
    /// samples, and jobs that ended.
    /// `newJobs` are the rows of jobs started since the last checkpoint that saved.
    public func save(
        checkpoint: Checkpoint, newJobs: [StoredJob] = [], totals: [JobTotals], samples: [JobSample], endedJobs: [StoredJob]
    ) throws(StoreError) {
        try save(CheckpointBatch(checkpoint: checkpoint, newJobs: newJobs, totals: totals, samples: samples, endedJobs: endedJobs))
    }

    /// Saves a batch, atomically, and returns once it is on disk.
    public func save(_ batch: CheckpointBatch) throws(StoreError) {
        try write { db in try Self.write(batch, into: db) }
    }

    /// Saves a batch on the store's writer queue, atomically, and returns at once; `prepare`
    /// finishes the batch there first (work the caller's thread need not do), `completion` hears
    /// how it went, on that queue. Writes run one at a time, in the order they were asked.
    public func saveInBackground(
        _ batch: CheckpointBatch, preparing prepare: @escaping @Sendable (inout CheckpointBatch) -> Void = { _ in },
        completion: @escaping @Sendable (Result<Void, StoreError>) -> Void
    ) {
        let path = path
        pool.asyncWrite({ db in
            var batch = batch
            prepare(&batch)
            try Self.write(batch, into: db)
        }) { _, result in
            completion(result.mapError { StoreError.failed(path: path, underlying: $0) })
        }
    }

    private static func write(_ batch: CheckpointBatch, into db: Database) throws {
        try db.execute(sql: "DELETE FROM checkpoint")
        try batch.checkpoint.insert(db)
        for job in batch.newJobs { try job.upsert(db) }
        // Prepared once per connection and bound column by column: the Codable records
        // cost ~60 allocations a row, and a checkpoint writes hundreds of rows.
        let upsertTotals = try db.cachedStatement(sql: Self.upsertTotalsSQL)
        for total in batch.totals {
            try upsertTotals.execute(arguments: Self.arguments(total))
            try Self.saveDomains(db, of: total)
        }
        try Self.insert(batch.samples, into: db)
        for job in batch.endedJobs { try job.update(db) }
    }

    static let totalsColumns = [
        "job", "energy_uj", "package_uj", "dram_uj", "idle_share_uj", "rapl_uj", "model_uj", "cpu_usec", "co2_grams", "cost",
        "peak_watts", "last_usage_usec", "temperatures", "intensity_g_per_kwh", "pue", "currency", "flops", "steps", "samples",
        "metrics", "progress_sequence", "gpus",
    ]

    static let upsertTotalsSQL =
        "INSERT INTO job_totals (\(totalsColumns.joined(separator: ", "))) VALUES (\(totalsColumns.map { _ in "?" }.joined(separator: ", ")))"
        + " ON CONFLICT(job) DO UPDATE SET " + totalsColumns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")

    /// A totals row in `totalsColumns` order.
    static func arguments(_ totals: JobTotals) -> StatementArguments {
        [
            totals.jobID, totals.energyMicrojoules, totals.packageMicrojoules, totals.dramMicrojoules, totals.idleShareMicrojoules,
            totals.raplMicrojoules, totals.modelMicrojoules, totals.cpuMicroseconds, totals.co2Grams, totals.cost, totals.peakWatts,
            totals.lastUsageMicroseconds, totals.temperaturesJSON, totals.intensityGramsPerKWh, totals.pue, totals.currency, totals.flops,
            totals.steps, totals.samples, totals.metricsJSON, totals.progressSequence,
            totals.gpusJSON,
        ]
    }

    public func checkpoint() throws(StoreError) -> Checkpoint? {
        try read { db in try Checkpoint.fetchOne(db) }
    }

    public func update(_ job: StoredJob) throws(StoreError) {
        try write { db in try job.update(db) }
    }

    public func job(id: String) throws(StoreError) -> (StoredJob, JobTotals)? {
        try read { db in
            guard let job = try StoredJob.fetchOne(db, key: id) else { return nil }
            var totals = [try JobTotals.fetchOne(db, key: id) ?? JobTotals(jobID: id)]
            try Self.attachDomains(db, to: &totals)
            return (job, totals[0])
        }
    }

    /// Jobs, newest first: running ones only unless `includeEnded`; one user's unless `uid` is nil.
    public func jobs(includeEnded: Bool, uid: Int? = nil, limit: Int = 1000) throws(StoreError) -> [(StoredJob, JobTotals)] {
        try read { db in
            var request = StoredJob.order(sql: "CAST(id AS INTEGER) DESC").limit(limit)
            if !includeEnded { request = request.filter(sql: "ended IS NULL") }
            if let uid { request = request.filter(sql: "uid = ?", arguments: [uid]) }
            let jobs = try request.fetchAll(db)
            // One query per 1000 jobs for their totals, not one per job (and within SQLite's
            // limit on bound parameters however many jobs are open).
            var totals: [String: JobTotals] = [:]
            for start in stride(from: 0, to: jobs.count, by: 1000) {
                let ids = jobs[start..<min(start + 1000, jobs.count)].map(\.id)
                var fetched = try JobTotals.filter(keys: ids).fetchAll(db)
                try Self.attachDomains(db, to: &fetched)
                for total in fetched { totals[total.jobID] = total }
            }
            return jobs.map { job in (job, totals[job.id] ?? JobTotals(jobID: job.id)) }
        }
    }

    /// Jobs started in a ledger period (since `since`), for the ledger's job buckets.
    public func totals(startedSince since: Double) throws(StoreError) -> [JobTotals] {
        try read { db in
            var totals = try JobTotals.fetchAll(
                db, sql: "SELECT job_totals.* FROM job_totals JOIN jobs ON jobs.id = job_totals.job WHERE jobs.started >= ?", arguments: [since])
            try Self.attachDomains(db, to: &totals)
            return totals
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.read(body) } catch { throw StoreError.failed(path: path, underlying: error) }
    }

    private func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.write(body) } catch { throw StoreError.failed(path: path, underlying: error) }
    }

    /// The pool's writer, errors as they come (retention's own transactions).
    func writePool<T>(_ body: (Database) throws -> T) throws -> T { try pool.write(body) }
    func writePoolWithoutTransaction<T>(_ body: (Database) throws -> T) throws -> T { try pool.writeWithoutTransaction(body) }
}

/// A store failure, with what it means for the user.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    case cannotOpen(path: String, underlying: any Error)
    case failed(path: String, underlying: any Error)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let error):
            return "cannot open the job store \(path): \(Self.explain(error)). Check the state directory (--state-dir) exists and is writable; a corrupt file can be moved aside and ergod starts a new one."
        case .failed(let path, let error):
            return "job store \(path): \(Self.explain(error))"
        }
    }

    static func explain(_ error: any Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        switch error.resultCode {
        case .SQLITE_FULL: return "the disk is full"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return "the file is corrupt or not an SQLite database"
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN: return "no permission or no such directory (\(error.message ?? ""))"
        default: return error.message ?? "\(error)"
        }
    }
}
