import ErgometerCore
import ErgometerStore

/// Persistence, one owner: what the store has not taken yet. Filled as jobs start, tick and end;
/// emptied by a checkpoint that saved it all (`saved()`), kept whole while the store cannot be
/// written (disk full, file deleted), so nothing measured is lost meanwhile.
struct PendingWrites {
    /// Jobs ended since the last successful checkpoint (all of them when there is no store).
    var endedJobs: [String: (StoredJob, JobTotals)] = [:]
    /// Time-series samples, oldest first.
    private(set) var samples: [JobSample] = []
    /// A full-resolution sample's energy per domain and source, kept as numbers until a
    /// checkpoint writes it (the tick builds no text): entries `entryKeys`/`entryMicrojoules`,
    /// sample k's being those before `entryEnds[k]` and from `entryEnds[k - 1]`. A key is an
    /// index into `seriesKeys` (`SampleDomainsColumn.key`, `p=R`, interned once).
    private var entryKeys: [UInt16] = []
    private var entryMicrojoules: [UInt64] = []
    private var entryEnds: [Int] = []
    private(set) var seriesKeys: [String] = []
    private var seriesKeyIndex: [String: Int] = [:]
    /// Registrations the store could not take when they happened.
    var newJobs: [StoredJob] = []
    /// Job rows changed since the last checkpoint (ended, or re-stamped after a clock step).
    var jobRows: [StoredJob] = []

    /// At most this many samples wait in memory while the store cannot be written.
    static let sampleLimit = 1_000_000

    /// Keeps a sample, with the entries added for it since the last one (`addEntry`); past
    /// `sampleLimit` the oldest tenth goes first (job totals are kept apart, in full). Returns
    /// whether samples were dropped.
    mutating func append(_ sample: JobSample) -> Bool {
        var dropped = false
        if samples.count >= Self.sampleLimit {
            let count = samples.count / 10
            let base = entryEnds[count - 1]
            samples.removeFirst(count)
            entryEnds.removeFirst(count)
            entryKeys.removeFirst(base)
            entryMicrojoules.removeFirst(base)
            for index in entryEnds.indices { entryEnds[index] -= base }
            dropped = true
        }
        samples.append(sample)
        entryEnds.append(entryKeys.count)
        return dropped
    }

    /// Keeps a sample with, for a full-resolution one, the job's energy per domain this tick
    /// (position `job` of `split`; `keys[domain]` from `seriesKey`). Returns whether samples
    /// were dropped.
    mutating func append(_ sample: JobSample, split: BoxAttribution?, job position: Int, keys: [Int]) -> Bool {
        if let split {
            for domain in 0..<min(split.domainCount, keys.count) { addEntry(key: keys[domain], microjoules: split.job(position, domain: domain)) }
        }
        return append(sample)
    }

    /// One domain's energy in the sample appended next.
    mutating func addEntry(key: Int, microjoules: UInt64) {
        guard microjoules > 0 else { return }
        entryKeys.append(UInt16(truncatingIfNeeded: key))
        entryMicrojoules.append(microjoules)
    }

    /// The key of a domain and source (interned: allocates the first time only).
    mutating func seriesKey(domain: String, source: EnergySource) -> Int {
        let key = SampleDomainsColumn.key(domain: domain, source: source)
        if let known = seriesKeyIndex[key] { return known }
        seriesKeys.append(key)
        seriesKeyIndex[key] = seriesKeys.count - 1
        return seriesKeys.count - 1
    }

    /// The samples with their per-domain energy written in (a checkpoint's rows, a series query).
    func encodedSamples(job: String? = nil) -> [JobSample] {
        var encoded: [JobSample] = []
        encoded.reserveCapacity(job == nil ? samples.count : 0)
        for (index, sample) in samples.enumerated() where job == nil || sample.jobID == job {
            let from = index > 0 ? entryEnds[index - 1] : 0
            guard from < entryEnds[index] else {
                encoded.append(sample)
                continue
            }
            var row = sample
            var text = row.domains
            for entry in from..<entryEnds[index] {
                SampleDomainsColumn.append(key: seriesKeys[Int(entryKeys[entry])], microjoules: entryMicrojoules[entry], to: &text)
            }
            row.domains = text
            encoded.append(row)
        }
        return encoded
    }

    /// The store took everything.
    mutating func saved() {
        newJobs.removeAll()
        samples.removeAll(keepingCapacity: true)
        entryKeys.removeAll(keepingCapacity: true)
        entryMicrojoules.removeAll(keepingCapacity: true)
        entryEnds.removeAll(keepingCapacity: true)
        jobRows.removeAll()
        endedJobs.removeAll()
    }
}
