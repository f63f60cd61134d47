import ErgometerCore
import ErgometerStore
public import ErgometerWire

extension Sampler {
    /// A job's report: live totals for a running job, stored ones for an ended job.
    public func report(id: String) throws(APIError) -> JobReport {
        if let job = active[id] { return JobReportBuilder.report(job: job.stored, totals: job.totals, now: lastWall) }
        if let (job, totals) = endedJobs[id] { return JobReportBuilder.report(job: job, totals: totals, now: lastWall) }
        do {
            guard let (job, totals) = try store?.job(id: id) else { throw APIError("no job \(id); `ergo jobs --all` lists them") }
            return JobReportBuilder.report(job: job, totals: totals, now: lastWall)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError("\(error)")
        }
    }

    /// The owner of a job, for authorization; nil when unknown.
    public func owner(of id: String) -> Int? {
        if let job = active[id] { return job.stored.uid }
        if let (job, _) = endedJobs[id] { return job.uid }
        return (try? store?.job(id: id))??.0.uid
    }

    /// Running jobs (and ended ones with `all`), newest first; one user's unless `uid` is nil.
    public func jobs(all: Bool, uid: Int?) -> [JobSummary] {
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

    /// Every joule measured in this ledger period and where it went.
    public func ledger() -> Ledger {
        Ledger(
            since: ledgerSince,
            buckets: .init(jobsMicrojoules: ledgerJobs, systemMicrojoules: systemMicrojoules, idleMicrojoules: idleMicrojoules),
            source: lastSource.rawValue, storeError: storeError)
    }
}
