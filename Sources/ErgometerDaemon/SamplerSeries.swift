import ErgometerCore
import ErgometerStore
public import ErgometerWire

extension Sampler {
    /// A job's time series: what the store holds, then the samples the next checkpoint will save.
    /// A caller who is not an admin gets each sample's energies floored to
    /// `metrics.energy_resolution_joules`, as reports and /metrics do.
    public func series(id: String, for caller: ControlCaller? = nil) throws(ControlFailure) -> JobSeries {
        // What the store holds and what it has yet to take, each sample once.
        collectBackgroundWrite(waiting: true)
        let found: (StoredJob, JobTotals)?
        var stored: [JobSample] = []
        do {
            if let job = active[id] {
                found = (job.stored, job.currentTotals(meters.domains))
            } else if let ended = pending.endedJobs[id] {
                found = ended
            } else {
                found = try store?.job(id: id)
            }
            if found != nil, let store { stored = try store.samples(job: id) }
        } catch {
            throw ControlFailure(.unavailable, "cannot read job \(id)'s series from the store: \(error)")
        }
        guard let (job, totals) = found else { throw ControlFailure(.notFound, "no job \(id); `ergo jobs --all` lists them") }
        let series = JobSeriesBuilder.series(job: job, totals: totals, samples: stored + pending.encodedSamples(job: id))
        return caller.map { !$0.isAdmin } ?? false ? coarsened(series) : series
    }

    private func coarsened(_ series: JobSeries) -> JobSeries {
        let resolution = exported.resolution
        func floor(_ value: Int64) -> Int64 { Int64(resolution.coarsen(UInt64(max(value, 0)))) }
        var coarse = series
        for index in coarse.samples.indices {
            coarse.samples[index].energyMicrojoules = floor(coarse.samples[index].energyMicrojoules)
            coarse.samples[index].seriesMicrojoules = coarse.samples[index].seriesMicrojoules.map(floor)
        }
        return coarse
    }
}
