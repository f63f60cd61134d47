import ErgometerStore
public import ErgometerWire
import Foundation

extension Sampler {
    /// Adds what a training program reported to its running job: FLOPs, steps and samples
    /// accumulate; metrics keep their latest value; a report whose sequence number was already
    /// applied is acknowledged and ignored. Saved with the next checkpoint, with that number.
    public func progress(id: String, _ progress: JobProgress, caller: ControlCaller) throws(ControlFailure) {
        if let problem = progress.problem { throw ControlFailure(.badRequest, problem) }
        guard var job = active[id] else {
            if pending.endedJob(id) != nil || owner(of: id) != nil { throw ControlFailure(.gone, "job \(id) has ended; it takes no more reports") }
            throw ControlFailure(.notFound, "no job \(id)")
        }
        // Only the job's own user (or root) reports its work: an admin may read, not write, it.
        guard caller.uid == 0 || caller.uid == job.stored.uid else { throw ControlFailure(.forbidden, "job \(id) belongs to another user") }
        if let sequence = progress.sequence {
            if let last = job.totals.progressSequence, sequence <= last { return }  // sent again after a lost answer
            job.totals.progressSequence = sequence
        }
        if progress.flops > 0 || job.totals.flops != nil { job.totals.flops = (job.totals.flops ?? 0) + progress.flops }
        if progress.steps > 0 || job.totals.steps != nil { job.totals.steps = (job.totals.steps ?? 0) + progress.steps }
        if progress.samples > 0 || job.totals.samples != nil { job.totals.samples = (job.totals.samples ?? 0) + progress.samples }
        if !progress.metrics.isEmpty {
            var metrics = (try? JSONDecoder().decode([String: Double].self, from: Data(job.totals.metricsJSON.utf8))) ?? [:]
            metrics.merge(progress.metrics) { _, new in new }
            guard metrics.count <= JobProgress.maximumMetrics else {
                throw ControlFailure(.badRequest, "job \(id) would have \(metrics.count) metrics: at most \(JobProgress.maximumMetrics) names per job")
            }
            job.totals.metricsJSON = Self.json(metrics)
        }
        active[id] = job
    }
}
