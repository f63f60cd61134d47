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
        if let job = active[id] { return build(job.stored, job.currentTotals(meters.domains)) }
        if let (job, totals) = pending.endedJob(id) { return build(job, totals) }
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
        if let (job, _) = pending.endedJob(id) { return job.uid }
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
            for (id, (job, totals)) in pending.unconfirmedEndedJobs where uid == nil || uid == job.uid {
                rows[id] = JobReportBuilder.summary(job: job, totals: totals)
            }
        }
        return rows.values.sorted { (Int($0.id) ?? 0) > (Int($1.id) ?? 0) }
    }

    /// Every joule measured in this ledger period and where it went, in all and per domain:
    /// `measured` from the meters' readings, the buckets from the attribution. A caller who is
    /// not an admin sees their own jobs by id and the other users' jobs as one sum, everything
    /// floored to the export resolution, `measured` being then the sum of those floored buckets
    /// (the finer figure is what the floor hides).
    public func ledger(for caller: ControlCaller) -> Ledger {
        let entries = ledgerEntries
        let resolution = exported.resolution
        func floor(_ microjoules: UInt64) -> UInt64 { caller.isAdmin ? microjoules : resolution.coarsen(microjoules) }
        func buckets(_ jobs: (String) -> UInt64, system: UInt64, idle: UInt64, earlier: UInt64) -> Ledger.Buckets {
            let earlier = earlier > 0 ? floor(earlier) : nil
            if caller.isAdmin {
                return .init(
                    jobsMicrojoules: Dictionary(uniqueKeysWithValues: entries.keys.map { ($0, jobs($0)) }), systemMicrojoules: system,
                    idleMicrojoules: idle, earlierJobsMicrojoules: earlier)
            }
            var mine: [String: UInt64] = [:]
            var others: UInt64 = 0
            for id in entries.keys {
                if ownerInLedger(id) == caller.uid { mine[id] = floor(jobs(id)) } else { others += jobs(id) }
            }
            return .init(
                jobsMicrojoules: mine, systemMicrojoules: floor(system), idleMicrojoules: floor(idle), otherUsersMicrojoules: floor(others),
                earlierJobsMicrojoules: earlier)
        }
        func total(_ buckets: Ledger.Buckets) -> UInt64 { buckets.totalMicrojoules }
        var domains: [Ledger.Domain] = []
        for (index, domain) in ledger.domains.enumerated() {
            let attributed = ledger.isAttributed(index)
            let domainBuckets = attributed
                ? buckets({ entries[$0]?[index] ?? 0 }, system: ledger.system[index], idle: ledger.idle[index], earlier: ledger.earlierJobs[index]) : nil
            domains.append(Ledger.Domain(
                domain: domain.name, kind: domain.kind.rawValue, source: meters.readings[index].source.rawValue,
                measuredMicrojoules: caller.isAdmin || domainBuckets == nil ? floor(ledger.measured[index]) : total(domainBuckets!),
                buckets: domainBuckets,
                componentsBeyondPlatformMicrojoules: domain.kind == .rest ? floor(ledger.componentsBeyondPlatformMicrojoules) : nil))
        }
        let earlier = ledger.domains.indices.reduce(UInt64(0)) { ledger.isAttributed($1) ? $0 + ledger.earlierJobs[$1] : $0 }
        let overall = buckets({ entries[$0]?.reduce(0, +) ?? 0 }, system: ledger.systemTotal, idle: ledger.idleTotal, earlier: earlier)
        var answer = Ledger(
            since: ledger.since, measuredMicrojoules: caller.isAdmin ? ledger.measuredTotal : total(overall), buckets: overall,
            source: lastSource.rawValue, storeError: storeError, domains: domains)
        answer.lastPrune = lastPrune
        return answer
    }

    /// Energy per domain of every job of this ledger period, running and ended.
    var ledgerEntries: [String: [UInt64]] {
        var entries = ledger.endedJobs
        for (id, job) in active { entries[id] = job.ledgerByDomain }
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
