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
    /// Rows of jobs started since (written before the totals that refer to them).
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
    func encodedSamples(job: String? = nil) -> [JobSample] { raw.encoded(job: job) }

    /// The samples as they are kept, numbers and all: what a background checkpoint hands to
    /// the store's writer, which writes their text there, off the sampler's thread.
    var raw: PendingSamples {
        PendingSamples(samples: samples, entryKeys: entryKeys, entryMicrojoules: entryMicrojoules, entryEnds: entryEnds, seriesKeys: seriesKeys)
    }

    /// What a background checkpoint handed to the store, until the store confirms it: kept
    /// whole, so that a failed write takes it all back in front of what came since.
    struct InFlight {
        var newJobs: [StoredJob]
        var samples: PendingSamples
        var endedJobs: [String: (StoredJob, JobTotals)]
        var jobRows: [StoredJob]
    }

    private(set) var inFlight: InFlight?

    /// An ended job the store may not hold yet: pending, or handed over and not confirmed.
    func endedJob(_ id: String) -> (StoredJob, JobTotals)? { endedJobs[id] ?? inFlight?.endedJobs[id] }

    /// Every such job.
    var unconfirmedEndedJobs: [String: (StoredJob, JobTotals)] {
        guard let inFlight else { return endedJobs }
        return inFlight.endedJobs.merging(endedJobs) { _, newer in newer }
    }

    /// Hands everything over to a background write (`samples`: `raw`, which the writer
    /// encodes); pending starts empty.
    mutating func handOver(samples handed: PendingSamples) {
        inFlight = InFlight(newJobs: newJobs, samples: handed, endedJobs: endedJobs, jobRows: jobRows)
        saved()
    }

    /// The background write saved what was handed over.
    mutating func handedOverSaved() { inFlight = nil }

    /// The background write failed: what was handed over is pending again, oldest first, and
    /// the next checkpoint saves it with the rest.
    mutating func handedOverFailed() {
        guard let back = inFlight else { return }
        inFlight = nil
        newJobs = back.newJobs + newJobs
        jobRows = back.jobRows + jobRows
        endedJobs = back.endedJobs.merging(endedJobs) { _, newer in newer }
        // In front, with their entries (the keys index the same interned table, which only grows).
        let shift = back.samples.entryKeys.count
        samples = back.samples.samples + samples
        entryKeys = back.samples.entryKeys + entryKeys
        entryMicrojoules = back.samples.entryMicrojoules + entryMicrojoules
        entryEnds = back.samples.entryEnds + entryEnds.map { $0 + shift }
    }

    /// Samples whose room is kept from one checkpoint to the next (a checkpoint of a busy box:
    /// a thousand jobs for five ticks), so that a usual batch grows nothing; the room of a larger
    /// backlog (the store slow for a while) is let go once saved, not held for months.
    static let keptSamples = 8_192

    /// The store took everything. The arrays keep room for a batch like this one, not for the
    /// largest there ever was: a room kept as it was would ratchet up to `keptSamples` over
    /// months of checkpoints (and a handed-over batch shares its arrays' buffers with the
    /// writer, so emptying them makes new ones whatever is kept).
    mutating func saved() {
        let keep = samples.count <= Self.keptSamples
        newJobs.removeAll()
        Self.empty(&samples, keepingRoom: keep)
        Self.empty(&entryKeys, keepingRoom: keep)
        Self.empty(&entryMicrojoules, keepingRoom: keep)
        Self.empty(&entryEnds, keepingRoom: keep)
        jobRows.removeAll()
        endedJobs.removeAll()
    }

    /// Empties `array`, with room for as many elements as it held and a quarter more when
    /// `keepingRoom` (a batch a little larger than the last grows nothing).
    private static func empty<Element>(_ array: inout [Element], keepingRoom: Bool) {
        let room = keepingRoom ? array.count + array.count / 4 : 0
        array = []
        array.reserveCapacity(room)
    }
}

/// Time-series samples with each full-resolution one's energy per domain as numbers
/// (`PendingWrites`), a value the store's writer queue can take and encode there.
struct PendingSamples: Sendable {
    var samples: [JobSample]
    var entryKeys: [UInt16]
    var entryMicrojoules: [UInt64]
    var entryEnds: [Int]
    var seriesKeys: [String]

    /// The samples with their per-domain energy written in (a checkpoint's rows, a series query).
    func encoded(job: String? = nil) -> [JobSample] {
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
            text.reserveCapacity(text.utf8.count + (entryEnds[index] - from) * 24)  // "p=R" and up to 20 digits each
            for entry in from..<entryEnds[index] {
                SampleDomainsColumn.append(key: seriesKeys[Int(entryKeys[entry])], microjoules: entryMicrojoules[entry], to: &text)
            }
            row.domains = text
            encoded.append(row)
        }
        return encoded
    }
}
