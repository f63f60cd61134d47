import ErgometerCore
import ErgometerStore
public import ErgometerWire

extension Sampler {
    /// A job's report: live totals for a running job, stored ones for an ended job.
    public func report(id: String) throws(ControlFailure) -> JobReport {
        if let job = active[id] { return JobReportBuilder.report(job: job.stored, totals: job.totals, now: lastWall) }
        if let (job, totals) = endedJobs[id] { return JobReportBuilder.report(job: job, totals: totals, now: lastWall) }
        do {
            guard let (job, totals) = try store?.job(id: id) else { throw ControlFailure(.notFound, "no job \(id); `ergo jobs --all` lists them") }
            return JobReportBuilder.report(job: job, totals: totals, now: lastWall)
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
        jobs(all: all, uid: caller.isAdmin ? nil : caller.uid)
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
        var visible = ledgerJobs
        var others: UInt64 = 0
        if !caller.isAdmin {
            visible = [:]
            for (id, microjoules) in ledgerJobs {
                if ownerInLedger(id) == caller.uid { visible[id] = microjoules } else { others += microjoules }
            }
        }
        return Ledger(
            since: ledgerSince,
            buckets: .init(
                jobsMicrojoules: visible, systemMicrojoules: systemMicrojoules, idleMicrojoules: idleMicrojoules,
                otherUsersMicrojoules: caller.isAdmin ? nil : others),
            source: lastSource.rawValue, storeError: storeError)
    }

    /// The owner of a job of this ledger period (kept in memory; the store is asked only for
    /// jobs that ended before a restart).
    private func ownerInLedger(_ id: String) -> Int? {
        if let job = active[id] { return job.stored.uid }
        if let owner = ledgerOwners[id] { return owner }
        return owner(of: id)
    }
}
