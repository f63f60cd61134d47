import ErgometerStore

/// Persistence, one owner: what the store has not taken yet. Filled as jobs start, tick and end;
/// emptied by a checkpoint that saved it all (`saved()`), kept whole while the store cannot be
/// written (disk full, file deleted), so nothing measured is lost meanwhile.
struct PendingWrites {
    /// Jobs ended since the last successful checkpoint (all of them when there is no store).
    var endedJobs: [String: (StoredJob, JobTotals)] = [:]
    /// Time-series samples, oldest first.
    private(set) var samples: [JobSample] = []
    /// Registrations the store could not take when they happened.
    var newJobs: [StoredJob] = []
    /// Job rows changed since the last checkpoint (ended, or re-stamped after a clock step).
    var jobRows: [StoredJob] = []

    /// At most this many samples wait in memory while the store cannot be written.
    static let sampleLimit = 1_000_000

    /// Keeps a sample; past `sampleLimit` the oldest tenth goes first (job totals are kept
    /// apart, in full). Returns whether samples were dropped.
    mutating func append(_ sample: JobSample) -> Bool {
        var dropped = false
        if samples.count >= Self.sampleLimit {
            samples.removeFirst(samples.count / 10)
            dropped = true
        }
        samples.append(sample)
        return dropped
    }

    /// The store took everything.
    mutating func saved() {
        newJobs.removeAll()
        samples.removeAll(keepingCapacity: true)
        jobRows.removeAll()
        endedJobs.removeAll()
    }
}
