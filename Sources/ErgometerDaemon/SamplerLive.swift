import ErgometerCore
import ErgometerStore
public import ErgometerWire

extension Sampler {
    /// The box and its running jobs at the last tick (`GET /v1/live`, `ergo top`): every
    /// user's jobs for an admin, else the caller's own. Nothing is read for it: it is what the
    /// last tick measured. For a caller who is not an admin, energies and each tick's energy
    /// (so its power) are floored to `metrics.energy_resolution_joules`, as /metrics does.
    public func live(for caller: ControlCaller) -> LiveView {
        let seconds = lastTickSeconds
        let coarse = !caller.isAdmin
        let resolution = exported.resolution
        func energy(_ microjoules: UInt64) -> UInt64 { coarse ? resolution.coarsen(microjoules) : microjoules }
        func watts(_ microjoules: UInt64) -> Double { seconds > 0 ? Double(energy(microjoules)) / 1e6 / seconds : 0 }

        let domains = meters.domains.indices.map { index in
            LiveView.Domain(
                name: meters.domains[index].name, kind: meters.domains[index].kind.rawValue, source: meters.readings[index].source.rawValue,
                watts: watts(index == meters.restIndex ? meters.restTickMicrojoules : meters.readings[index].microjoules))
        }
        var jobs: [LiveView.Job] = []
        for job in active.values where caller.isAdmin || job.stored.uid == caller.uid {
            let summary = JobReportBuilder.summary(job: job.stored, totals: job.totals)
            let gpus = job.gpuUse.indices.filter { job.gpuUse[$0] > 0 && $0 < meters.domains.count }.map { meters.domains[$0].name }
            jobs.append(LiveView.Job(
                id: job.stored.id, jobID: job.stored.jobID, name: job.stored.name, user: job.stored.user, scheduler: summary.scheduler,
                started: job.stored.started, watts: watts(job.lastTickMicrojoules),
                energyJoules: Double(energy(UInt64(max(job.totals.energyMicrojoules, 0)))) / 1e6, co2Grams: job.totals.co2Grams,
                busyCores: seconds > 0 ? Double(job.tickDelta) / 1e6 / seconds : 0, gpus: gpus, source: summary.source))
        }
        return LiveView(
            time: lastWall, tickSeconds: seconds, domains: domains, hostWatts: domains.filter { $0.kind != DomainKind.platform.rawValue }.reduce(0) { $0 + $1.watts },
            cpuBusyRatio: lastBusyRatio, temperatureMaxCelsius: lastTemperatures.map(\.celsius).max(),
            jobs: jobs.sorted { (Int($0.id) ?? 0) < (Int($1.id) ?? 0) })
    }
}
