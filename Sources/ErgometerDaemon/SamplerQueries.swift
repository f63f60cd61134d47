import ErgometerCore
import ErgometerStore
public import ErgometerWire

extension Sampler {
    /// A job's report: live totals for a running job, stored ones for an ended job. A caller
    /// who is not an admin gets energies floored to `metrics.energy_resolution_joules`, as
    /// /metrics does: ergod must not hand unprivileged users the fine-grained RAPL readings the
    /// kernel keeps from them (PLATYPUS).
    public func report(id: String, for caller: ControlCaller? = nil) throws(ControlFailure) -> JobReport {
        let coarse = caller.map { !$0.isAdmin } ?? false
        func build(_ job: StoredJob, _ totals: JobTotals) -> JobReport {
            JobReportBuilder.report(job: job, totals: coarse ? coarsened(totals) : totals, now: lastWall)
        }
        if let job = active[id] { return build(job.stored, job.totals) }
        if let (job, totals) = endedJobs[id] { return build(job, totals) }
        do {
            guard let (job, totals) = try store?.job(id: id) else { throw ControlFailure(.notFound, "no job \(id); `ergo jobs --all` lists them") }
            return build(job, totals)
        } catch let error as ControlFailure {
            throw error
        } catch {
            throw ControlFailure(.unavailable, "cannot read job \(id) from the store: \(error)")
        }
    }

    /// The owner of a job, for authorization; nil when unknown.
    public func owner(of id: String) -> Int? {
        if let job = active[id] { return job.stored.uid }
        if let (job, _) = endedJobs[id] { return job.uid }
        return (try? store?.job(id: id))??.0.uid
    }

    /// Running jobs (and ended ones with `all`), newest first: every user's for an admin, else
    /// the caller's own.
    public func jobs(all: Bool, caller: ControlCaller) -> [JobSummary] {
        if caller.isAdmin { return jobs(all: all, uid: nil) }
        let resolution = exported.resolution
        return jobs(all: all, uid: caller.uid).map { summary in
            var coarse = summary
            coarse.energyJoules = Double(resolution.coarsen(UInt64(max(summary.energyJoules * 1e6, 0).rounded()))) / 1e6
            return coarse
        }
    }

    /// Running jobs (and ended ones with `all`), newest first; one user's unless `uid` is nil.
    func jobs(all: Bool, uid: Int?) -> [JobSummary] {
        var rows: [String: JobSummary] = [:]
        if let stored = try? store?.jobs(includeEnded: all, uid: uid) {
            for (job, totals) in stored { rows[job.id] = JobReportBuilder.summary(job: job, totals: totals) }
        }
        for (id, job) in active where uid == nil || uid == job.stored.uid {
            rows[id] = JobReportBuilder.summary(job: job.stored, totals: job.totals)
        }
        if all {
            for (id, (job, totals)) in endedJobs where uid == nil || uid == job.uid {
                rows[id] = JobReportBuilder.summary(job: job, totals: totals)
            }
        }
        return rows.values.sorted { (Int($0.id) ?? 0) > (Int($1.id) ?? 0) }
    }

    /// Every joule measured in this ledger period and where it went. A caller who is not an
    /// admin sees their own jobs by id and the other users' jobs as one sum, so the buckets
    /// still add up to the measured energy without naming anyone else's job.
    public func ledger(for caller: ControlCaller) -> Ledger {
        if caller.isAdmin {
            return Ledger(
                since: ledgerSince, buckets: .init(jobsMicrojoules: ledgerEntries, systemMicrojoules: systemMicrojoules, idleMicrojoules: idleMicrojoules),
                source: lastSource.rawValue, storeError: storeError)
        }
        var mine: [String: UInt64] = [:]
        var others: UInt64 = 0
        for (id, microjoules) in ledgerEntries {
            if ownerInLedger(id) == caller.uid { mine[id] = microjoules } else { others += microjoules }
        }
        let resolution = exported.resolution
        return Ledger(
            since: ledgerSince,
            buckets: .init(
                jobsMicrojoules: mine.mapValues(resolution.coarsen), systemMicrojoules: resolution.coarsen(systemMicrojoules),
                idleMicrojoules: resolution.coarsen(idleMicrojoules), otherUsersMicrojoules: resolution.coarsen(others)),
            source: lastSource.rawValue, storeError: storeError)
    }

    /// Joules of every job of this ledger period, running and ended.
    var ledgerEntries: [String: UInt64] {
        var entries = ledgerJobs
        for (id, job) in active { entries[id] = job.ledgerMicrojoules }
        return entries
    }

    /// Energies floored to the export resolution (see `report(id:for:)`).
    func coarsened(_ totals: JobTotals) -> JobTotals {
        let resolution = exported.resolution
        func floor(_ value: Int64) -> Int64 { Int64(resolution.coarsen(UInt64(max(value, 0)))) }
        var coarse = totals
        coarse.energyMicrojoules = floor(totals.energyMicrojoules)
        coarse.packageMicrojoules = floor(totals.packageMicrojoules)
        coarse.dramMicrojoules = floor(totals.dramMicrojoules)
        coarse.idleShareMicrojoules = floor(totals.idleShareMicrojoules)
        coarse.raplMicrojoules = floor(totals.raplMicrojoules)
        coarse.modelMicrojoules = floor(totals.modelMicrojoules)
        return coarse
    }

    /// The owner of a job of this ledger period (kept in memory; the store is asked only for
    /// jobs that ended before a restart).
    private func ownerInLedger(_ id: String) -> Int? {
        if let job = active[id] { return job.stored.uid }
        if let owner = ledgerOwners[id] { return owner }
        return owner(of: id)
    }
}
