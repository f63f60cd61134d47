import ErgometerCore
import ErgometerProbes
import ErgometerStore
public import ErgometerWire
import Foundation
import Logging

extension Sampler {
    /// Starts measuring a job: its own cgroup with the caller's process moved in, or its process
    /// tree where cgroups cannot be used.
    public func register(_ request: RegisterJobRequest, caller: ControlCaller) throws(ControlFailure) -> RegisterJobResponse {
        let uid = caller.uid
        let user = caller.user
        if stopping { throw ControlFailure(.unavailable, "ergod is stopping; start the job again once it is back") }
        if let problem = request.problem { throw ControlFailure(.badRequest, problem) }
        // ergod runs as root: it moves only processes the caller owns into a job (admins too).
        guard let processOwner = Self.realUID(of: request.pid, procfs: procfs) else { throw ControlFailure(.badRequest, "pid \(request.pid) does not exist") }
        guard uid == 0 || processOwner == uid else {
            logger.warning("refused to measure another user's process", metadata: ["ergometer.pid": "\(request.pid)", "ergometer.uid": "\(uid)"])
            throw ControlFailure(.forbidden, "pid \(request.pid) belongs to another user; register your own process")
        }
        try checkJobLimits(uid: uid)
        tick()  // close the current window so the new job starts at a tick boundary
        let id = String(nextJobNumber)
        nextJobNumber += 1
        let jobID = request.jobID ?? "\(Self.hostName())-\(id)"
        var tracking: ActiveJob.Tracking = .processTree(root: request.pid)
        var note = cgroupUnavailable
        var owner: (Int32, String)?
        if let cgroups {
            let original = CgroupJobs.currentCgroup(of: request.pid, procfs: procfs)
            switch cgroups.create(job: id, moving: request.pid) {
            case .success(let path):
                tracking = .cgroup(path)
                note = nil
                if let original { owner = (request.pid, original) }
            case .failure(let failure):
                note = "cannot create the job's cgroup (\(failure)); tracked by process tree instead"
            }
        }
        let baseline: UInt64
        switch tracking {
        case .cgroup(let path): baseline = (try? cgroups?.hierarchy.cpuUsageMicroseconds(of: path).get()) ?? 0
        case .processTree(let root):
            guard let usage = ProcessTreeUsage(procfs: procfs).cpuMicroseconds(root: root) else {
                throw ControlFailure(.badRequest, "pid \(root) does not exist")
            }
            baseline = usage
        }
        let stored = StoredJob(
            id: id, jobID: jobID, name: request.name, user: user, uid: uid, labelsJSON: Self.json(request.labels),
            commandJSON: Self.json(request.command), started: lastWall, tracking: note == nil ? .cgroup : .processTree,
            cgroup: { if case .cgroup(let path) = tracking { return path } else { return nil } }(), pid: Int(request.pid),
            ownerCgroup: owner?.1, processors: request.processors, hardware: hardware, bootID: bootID)
        var totals = JobTotals(jobID: id)
        totals.lastUsageMicroseconds = Int64(baseline)
        totals.pue = carbon.pue
        totals.intensityGramsPerKWh = carbon.intensity.value(at: lastWall)
        do {
            try store?.insert(stored, totals: totals)
        } catch {
            pending.newJobs.append(stored)
            noteStoreFailure(error)
        }
        var job = ActiveJob(stored: stored, totals: totals, tracking: tracking, lastUsage: baseline, owner: owner, temperatures: [:])
        job.adopt(domains: meters.domains)
        if meters.hasPCIGPUs {  // its DRM clients' baseline now: the first window starts here
            job.observeGPUUse(DRMUsageReader(procfs: procfs).usage(of: processes(of: job)), domains: meters.domains, drm: meters.hwmonDomains)
        }
        active[id] = job
        gpuProcessJobs.jobsChanged()  // a process may now be in this job
        temperaturesDue = true  // the new job gets a reading on its first tick
        ledgerOwners[id] = uid
        logger.info("job started", metadata: [
            "ergometer.job.id": "\(id)", "ergometer.job.name": "\(request.name)", "ergometer.job.user": "\(user)",
            "ergometer.job.tracking": "\(stored.tracking.rawValue)",
        ])
        if let note { logger.warning("\(note)", metadata: ["ergometer.job.id": "\(id)"]) }
        return RegisterJobResponse(id: id, jobID: jobID, tracking: stored.tracking, trackingNote: note)
    }

    /// Ends a job: a last tick up to now, its processes' cgroup removed, totals saved.
    public func end(id: String, exitStatus: Int32, caller: ControlCaller) throws(ControlFailure) -> JobReport {
        if stopping { throw ControlFailure(.unavailable, "ergod is stopping; the job is ended when it is back") }
        guard let job = active[id] else {
            if let report = try? report(id: id, for: caller) { return report }  // already ended: idempotent
            throw ControlFailure(.notFound, "no job \(id); `ergo jobs --all` lists them")
        }
        guard caller.mayAccess(jobOwnedBy: job.stored.uid) else { throw ControlFailure(.forbidden, "job \(id) belongs to another user") }
        tick()
        finish(id: id, exitStatus: exitStatus)
        checkpoint()
        return try report(id: id, for: caller)
    }

    /// Refuses a job beyond `control.max_active_jobs` in all, or beyond
    /// `control.max_active_jobs_per_user` for one user (root counts toward the total only).
    func checkJobLimits(uid: Int) throws(ControlFailure) {
        if active.count >= configuration.maxActiveJobs {
            logger.warning("refused a job: the limit of running jobs is reached", metadata: ["ergometer.uid": "\(uid)", "ergometer.jobs": "\(active.count)"])
            throw ControlFailure(.tooManyRequests, "\(active.count) jobs are running, the most this ergod takes (control.max_active_jobs); end one or raise the limit")
        }
        guard uid != 0 else { return }
        let mine = active.values.reduce(0) { $0 + ($1.stored.uid == uid ? 1 : 0) }
        if mine >= configuration.maxActiveJobsPerUser {
            logger.warning("refused a job: the user's limit of running jobs is reached", metadata: ["ergometer.uid": "\(uid)", "ergometer.jobs": "\(mine)"])
            throw ControlFailure(.tooManyRequests, "you have \(mine) jobs running, the most one user may (control.max_active_jobs_per_user); end one with `ergo jobs` / the job's end, or ask for a higher limit")
        }
    }

    func finish(id: String, exitStatus: Int32?) {
        guard var job = active.removeValue(forKey: id) else { return }
        gpuProcessJobs.jobsChanged()
        job.cpuStat?.close()
        if let sample = job.flushMinute() { appendSample(sample) }
        job.encodeTemperatures(sensorKeys: sensorKeys)
        job.encodeDomains(meters.domains)
        job.stored.ended = lastWall
        job.stored.exitStatus = exitStatus.map(Int.init)
        if case .cgroup = job.tracking, let cgroups {
            let returning = job.owner.map { [(pid: $0.pid, cgroup: $0.cgroup)] } ?? []
            if !cgroups.remove(job: id, returning: returning) {
                logger.warning("job's cgroup still holds processes; left in place", metadata: ["ergometer.job.id": "\(id)"])
            }
        }
        ledger.jobEnded(id, byDomain: job.ledgerByDomain)
        pending.endedJobs[id] = (job.stored, job.totals)
        keepForMetrics(job.stored, totals: job.totals)
        pending.jobRows.append(job.stored)
        logger.info("job ended", metadata: [
            "ergometer.job.id": "\(id)", "ergometer.job.energy_joules": "\(Double(job.totals.energyMicrojoules) / 1e6)",
            "ergometer.job.exit_status": "\(exitStatus.map(String.init) ?? "unknown")",
        ])
    }

    /// The real uid of a process, from the `Uid:` line of /proc/<pid>/status.
    static func realUID(of pid: Int32, procfs: ProcFS) -> Int? {
        guard let status = try? SysfsFile.readText(procfs.path("\(pid)/status")).get() else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("Uid:") {
            return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
