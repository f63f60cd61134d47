import ErgometerClient
import ErgometerDaemon
import Foundation
import ErgometerStore
import ErgometerWire

/// Where the read-only commands (`jobs`, `report`, `ledger`, `compare`) get their answers: ergod
/// over its socket, or a job store read directly. One seam, so each command asks the same three
/// questions whichever answers (`DaemonOptions.repository()` picks).
protocol JobRepository {
    func jobs(all: Bool) throws -> [JobSummary]
    func report(id: String) throws -> JobReport
    /// The job's stored time series (`ergo report --svg`).
    func series(id: String) throws -> JobSeries
    func ledger() throws -> Ledger
    /// `configurationFile`: where ergod's retention is read from when the store is read directly.
    func storeStatus(configurationFile: String) throws -> StoreStatus
}

/// ergod answers, with its live figures and its authorization.
struct DaemonJobRepository: JobRepository {
    let client: ControlClient

    func jobs(all: Bool) throws -> [JobSummary] {
        do { return try client.jobs(all: all) } catch { throw CommandFailure("\(error)") }
    }

    func report(id: String) throws -> JobReport {
        do { return try client.report(id: id) } catch { throw CommandFailure("\(error)") }
    }

    func series(id: String) throws -> JobSeries {
        do { return try client.series(id: id) } catch { throw CommandFailure("\(error)") }
    }

    func ledger() throws -> Ledger {
        do { return try client.ledger() } catch { throw CommandFailure("\(error)") }
    }

    func storeStatus(configurationFile _: String) throws -> StoreStatus {
        do { return try client.storeStatus() } catch { throw CommandFailure("\(error)") }
    }
}

/// A store read directly (`--state-dir`, or `ergo run`'s own without a daemon): what was saved
/// at its last checkpoint.
struct StoreJobRepository: JobRepository {
    let store: JobStore
    let directory: String

    func jobs(all: Bool) throws -> [JobSummary] {
        do {
            return try store.jobs(includeEnded: all).map { JobReportBuilder.summary(job: $0.0, totals: $0.1) }
        } catch { throw CommandFailure(error.description) }
    }

    /// The retention in force is the one ergod's configuration file gives (the defaults where
    /// there is none).
    func storeStatus(configurationFile file: String) throws -> StoreStatus {
        var retention = StoreRetention.defaults
        if FileManager.default.fileExists(atPath: file) {
            do { retention = try ConfigurationLoader.load(file: file).retention } catch { throw CommandFailure(error.description) }
        }
        do { return try store.status(retention: retention) } catch { throw CommandFailure(error.description) }
    }

    func report(id: String) throws -> JobReport {
        let found: (StoredJob, JobTotals)?
        do { found = try store.job(id: id) } catch { throw CommandFailure(error.description) }
        guard let (job, totals) = found else { throw CommandFailure("no job \(id) in \(directory); `ergo jobs --all` lists them") }
        return JobReportBuilder.report(job: job, totals: totals, now: job.ended ?? job.started)
    }

    func series(id: String) throws -> JobSeries {
        do {
            guard let (job, totals) = try store.job(id: id) else { throw CommandFailure("no job \(id) in \(directory); `ergo jobs --all` lists them") }
            return JobSeriesBuilder.series(job: job, totals: totals, samples: try store.samples(job: id))
        } catch let error as StoreError { throw CommandFailure(error.description) }
    }

    /// Per domain what the meters measured, and the jobs' buckets from their per-domain totals.
    /// A checkpoint from before domains has no measured figure of its own: the buckets' sum
    /// stands in.
    func ledger() throws -> Ledger {
        do {
            guard let checkpoint = try store.checkpoint() else { throw CommandFailure("no ledger saved in \(directory) yet") }
            return Self.ledger(checkpoint, jobs: try store.totals(startedSince: checkpoint.ledgerSince))
        } catch let error as StoreError { throw CommandFailure(error.description) }
    }

    static func ledger(_ checkpoint: Checkpoint, jobs totals: [JobTotals]) -> Ledger {
        var jobs: [String: UInt64] = [:]
        for total in totals { jobs[total.jobID] = UInt64(max(total.energyMicrojoules, 0)) }
        let buckets = Ledger.Buckets(
            jobsMicrojoules: jobs, systemMicrojoules: UInt64(checkpoint.systemMicrojoules), idleMicrojoules: UInt64(checkpoint.idleMicrojoules))
        let saved = checkpoint.domains
        var domains: [Ledger.Domain] = []
        var measured: UInt64 = 0
        for domain in saved {
            let attributed = domain.kind != .platform && domain.kind != .other
            var domainJobs: [String: UInt64] = [:]
            for total in totals {
                let energy = total.domains.reduce(Int64(0)) { $0 + ($1.domain == domain.domain ? $1.energyMicrojoules : 0) }
                if energy > 0 { domainJobs[total.jobID] = UInt64(energy) }
            }
            if attributed { measured += domain.measuredMicrojoules }
            domains.append(Ledger.Domain(
                domain: domain.domain, kind: domain.kind.rawValue, source: domain.source.rawValue, measuredMicrojoules: domain.measuredMicrojoules,
                buckets: attributed ? .init(jobsMicrojoules: domainJobs, systemMicrojoules: domain.systemMicrojoules, idleMicrojoules: domain.idleMicrojoules) : nil,
                componentsBeyondPlatformMicrojoules: domain.componentsBeyondPlatformMicrojoules))
        }
        if saved.isEmpty { measured = jobs.values.reduce(buckets.systemMicrojoules + buckets.idleMicrojoules, +) }
        return Ledger(since: checkpoint.ledgerSince, measuredMicrojoules: measured, buckets: buckets, source: checkpoint.source.rawValue, storeError: nil, domains: domains)
    }
}
