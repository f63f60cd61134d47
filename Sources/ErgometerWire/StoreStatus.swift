/// How long the store keeps what (`[store]` in Config/ergometer.toml): time series at full
/// resolution, then one row per minute, then none; jobs' rows and totals; and a size bound.
public struct StoreRetention: Codable, Sendable, Equatable {
    /// Time series at full resolution (every tick) for this many days, then per minute.
    public var fullResolutionDays: Double
    /// Time series (per minute by then) dropped after this many days.
    public var seriesDays: Double
    /// Ended jobs' rows and totals dropped this many days after they ended; 0: kept forever.
    public var jobsDays: Double
    /// Past this size (database and its write-ahead log), the oldest time series go first.
    public var maxBytes: Int64

    public static let defaults = StoreRetention(fullResolutionDays: 7, seriesDays: 90, jobsDays: 0, maxBytes: 1 << 30)

    public init(fullResolutionDays: Double, seriesDays: Double, jobsDays: Double, maxBytes: Int64) {
        self.fullResolutionDays = fullResolutionDays
        self.seriesDays = seriesDays
        self.jobsDays = jobsDays
        self.maxBytes = maxBytes
    }

    enum CodingKeys: String, CodingKey {
        case fullResolutionDays = "full_resolution_days", seriesDays = "series_days", jobsDays = "jobs_days", maxBytes = "max_bytes"
    }
}

/// What one prune of the store did: rows rolled up to minutes, time series and jobs dropped by
/// age, time series dropped to stay under the size bound, and what that took.
public struct StorePrune: Codable, Sendable, Equatable {
    /// When it ran (Unix seconds, the sampler's wall clock).
    public var at: Double
    /// Full-resolution rows rolled up, and the per-minute rows that replaced them.
    public var rolledUpRows: Int
    public var minuteRows: Int
    /// Time-series rows older than `series_days`, dropped.
    public var expiredRows: Int
    /// Ended jobs older than `jobs_days`, dropped with their totals and series.
    public var expiredJobs: Int
    /// Time-series rows dropped, oldest first, to stay under `max_bytes`; the newest of them began at this time.
    public var droppedForSizeRows: Int
    public var droppedForSizeThrough: Double?
    /// The store's size before and after (database and write-ahead log, bytes).
    public var bytesBefore: Int64
    public var bytesAfter: Int64
    /// Still above `max_bytes` with no time series left to drop (job totals are never dropped for size).
    public var overBound: Bool
    /// Whether it stopped at its work bound with more to do (the next prune goes on).
    public var moreToDo: Bool
    /// Its small transactions: how many, and the longest (seconds); and the whole prune.
    public var transactions: Int
    public var longestTransactionSeconds: Double
    public var seconds: Double

    public init(at: Double) {
        self.at = at
        rolledUpRows = 0
        minuteRows = 0
        expiredRows = 0
        expiredJobs = 0
        droppedForSizeRows = 0
        droppedForSizeThrough = nil
        bytesBefore = 0
        bytesAfter = 0
        overBound = false
        moreToDo = false
        transactions = 0
        longestTransactionSeconds = 0
        seconds = 0
    }

    /// Whether it removed or rewrote anything.
    public var changedAnything: Bool { rolledUpRows + expiredRows + expiredJobs + droppedForSizeRows > 0 }

    enum CodingKeys: String, CodingKey {
        case at, rolledUpRows = "rolled_up_rows", minuteRows = "minute_rows", expiredRows = "expired_rows", expiredJobs = "expired_jobs",
            droppedForSizeRows = "dropped_for_size_rows", droppedForSizeThrough = "dropped_for_size_through", bytesBefore = "bytes_before",
            bytesAfter = "bytes_after", overBound = "over_bound", moreToDo = "more_to_do", transactions,
            longestTransactionSeconds = "longest_transaction_seconds", seconds
    }
}

/// `ergo store`: where the store is, how big, what it holds, and the retention in force.
public struct StoreStatus: Codable, Sendable, Equatable {
    public var path: String
    public var bytes: Int64
    public var jobs: Int
    /// Time-series rows at full resolution (one per job and checkpoint, holding its ticks) and per minute.
    public var samplesFull: Int
    public var samplesRolledUp: Int
    /// Start of the oldest and end of the newest time-series row (Unix seconds); nil when none.
    public var oldestSample: Double?
    public var newestSample: Double?
    public var retention: StoreRetention
    public var lastPrune: StorePrune?

    public init(
        path: String, bytes: Int64, jobs: Int, samplesFull: Int, samplesRolledUp: Int, oldestSample: Double?, newestSample: Double?,
        retention: StoreRetention, lastPrune: StorePrune?
    ) {
        self.path = path
        self.bytes = bytes
        self.jobs = jobs
        self.samplesFull = samplesFull
        self.samplesRolledUp = samplesRolledUp
        self.oldestSample = oldestSample
        self.newestSample = newestSample
        self.retention = retention
        self.lastPrune = lastPrune
    }

    enum CodingKeys: String, CodingKey {
        case path, bytes, jobs, samplesFull = "samples_full", samplesRolledUp = "samples_rolled_up", oldestSample = "oldest_sample",
            newestSample = "newest_sample", retention, lastPrune = "last_prune"
    }

    /// Every key, `null` where there is nothing (an empty store, no prune yet).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(jobs, forKey: .jobs)
        try container.encode(samplesFull, forKey: .samplesFull)
        try container.encode(samplesRolledUp, forKey: .samplesRolledUp)
        try container.encode(oldestSample, forKey: .oldestSample)
        try container.encode(newestSample, forKey: .newestSample)
        try container.encode(retention, forKey: .retention)
        try container.encode(lastPrune, forKey: .lastPrune)
    }
}
