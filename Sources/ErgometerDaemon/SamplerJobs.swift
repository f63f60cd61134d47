import ErgometerCore
import ErgometerProbes
import ErgometerStore
public import ErgometerWire
import Foundation
import Logging

extension Sampler {
    /// Starts measuring a job: its own cgroup with the caller's process moved in, or its process
    /// tree where cgroups cannot be used. A process inside a scheduler's job (an `ergo run` in a
    /// Slurm job) becomes a job of its own, taken out of the scheduler's job each tick; where that
    /// job's cgroup is a v2 one it is not moved out of it (the scheduler's limits still hold) and
    /// is followed by its process tree. Answers once the job's row is saved (`pendingSaved`);
    /// the sampler goes on ticking and answering meanwhile.
    public func register(_ request: RegisterJobRequest, caller: ControlCaller) async throws(ControlFailure) -> RegisterJobResponse {
        let response = try registerUnsaved(request, caller: caller)
        await pendingSaved()
        return response
    }

    /// `register` without waiting for the store: the job is measured from now and its row is
    /// saved by the next checkpoint (a tick's within `daemon.checkpoint_seconds`). For a caller
    /// that stands for many clients at once (the soak), which must not wait for each write.
    public func registerUnsaved(_ request: RegisterJobRequest, caller: ControlCaller) throws(ControlFailure) -> RegisterJobResponse {
        let uid = caller.uid
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
        let id = takeJobNumber()
        var tracking: ActiveJob.Tracking = .processTree(root: request.pid)
        var note = cgroupUnavailable
        var owner: (Int32, String)?
        let enclosing = schedulerJob(holding: request.pid)
        if let enclosing, case .cgroup = active[enclosing]?.tracking {
            note = "runs inside \(active[enclosing]!.stored.scheduler!.rawValue) job \(active[enclosing]!.stored.jobID)'s cgroup: followed by its process tree, so the scheduler's limits still hold"
        } else if let cgroups {
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
        let admission = JobAdmission(
            name: request.name, jobID: request.jobID ?? "\(Self.hostName())-\(id)", labels: request.labels, command: request.command,
            uid: uid, user: caller.user, pid: request.pid, processors: request.processors, tracking: tracking, owner: owner,
            scheduler: nil, enclosingJob: enclosing)
        let stored = try admit(id: id, admission)
        if let note { logger.warning("\(note)", metadata: ["ergometer.job.id": "\(id)"]) }
        return RegisterJobResponse(id: id, jobID: stored.jobID, tracking: stored.tracking, trackingNote: note)
    }

    /// Who a job is and how it is measured, however it came (`ergo run` or a scheduler).
    struct JobAdmission {
        var name: String
        var jobID: String
        var labels: [String: String]
        var command: [String]
        var uid: Int
        var user: String
        /// The registering process, or a scheduler's job's first process (0: none yet).
        var pid: Int32
        var processors: Int?
        var tracking: ActiveJob.Tracking
        var owner: (Int32, String)?
        var scheduler: JobScheduler?
        var enclosingJob: String?
    }

    /// The id the next job will get (a test makes its cgroup's files ready beforehand).
    public var nextJobID: String { String(nextJobNumber) }

    /// The next job's id.
    func takeJobNumber() -> String {
        defer { nextJobNumber += 1 }
        return String(nextJobNumber)
    }

    /// Starts measuring a job, the one path for every job: its counter's baseline now, its row
    /// for the next checkpoint, its place in the tick. The caller has closed the current window (`tick()`).
    func admit(id: String, _ admission: JobAdmission) throws(ControlFailure) -> StoredJob {
        let baseline: UInt64
        let trackingKind: JobTracking
        var cgroupPath: String?
        switch admission.tracking {
        case .cgroup(let path):
            baseline = (try? cgroups?.hierarchy.cpuUsageMicroseconds(of: path).get()) ?? 0
            (trackingKind, cgroupPath) = (.cgroup, path)
        case .cgroupV1(let path):
            baseline = (try? cgroupsV1?.usageMicroseconds(of: path).get()) ?? 0
            (trackingKind, cgroupPath) = (.cgroupV1, path)
        case .processTree(let root):
            guard let usage = ProcessTreeUsage(procfs: procfs).cpuMicroseconds(root: root) else {
                throw ControlFailure(.badRequest, "pid \(root) does not exist")
            }
            baseline = usage
            trackingKind = .processTree
        }
        let stored = StoredJob(
            id: id, jobID: admission.jobID, name: admission.name, user: admission.user, uid: admission.uid,
            labelsJSON: Self.json(admission.labels), commandJSON: Self.json(admission.command), started: lastWall, tracking: trackingKind,
            cgroup: cgroupPath, pid: Int(admission.pid), ownerCgroup: admission.owner?.1, processors: admission.processors, hardware: hardware,
            bootID: bootID, scheduler: admission.scheduler)
        var totals = JobTotals(jobID: id)
        totals.lastUsageMicroseconds = Int64(baseline)
        totals.pue = carbon.pue
        totals.intensityGramsPerKWh = carbon.intensity.value(at: lastWall)
        pending.newJobs.append(stored)  // the next checkpoint writes it, before the totals it also writes
        var job = ActiveJob(stored: stored, totals: totals, tracking: admission.tracking, lastUsage: baseline, owner: admission.owner, temperatures: [:])
        job.enclosingJob = admission.enclosingJob
        job.adopt(domains: meters.domains)
        if meters.hasPCIGPUs {  // its DRM clients' baseline now: the first window starts here
            job.observeGPUUse(DRMUsageReader(procfs: procfs).usage(of: processes(of: job)), domains: meters.domains, drm: meters.hwmonDomains)
        }
        active[id] = job
        runningJobsChanges &+= 1
        if admission.enclosingJob != nil { nestedJobs += 1 }
        gpuProcessJobs.jobsChanged()  // a process may now be in this job
        temperaturesDue = true  // the new job gets a reading on its first tick
        ledgerOwners[id] = admission.uid
        logger.info("job started", metadata: [
            "ergometer.job.id": "\(id)", "ergometer.job.name": "\(admission.name)", "ergometer.job.user": "\(admission.user)",
            "ergometer.job.tracking": "\(trackingKind.rawValue)", "ergometer.job.job_id": "\(admission.jobID)",
            "ergometer.scheduler": "\(admission.scheduler?.rawValue ?? "ergo")",
        ])
        return stored
    }

    /// The scheduler's job (found by discovery) that holds a process, if any.
    func schedulerJob(holding pid: Int32) -> String? {
        let schedulers = jobIndex(schedulersOnly: true)
        guard !schedulers.cgroups.isEmpty || !schedulers.cgroupsV1.isEmpty else { return nil }
        return lookUpJob(ofProcess: pid, in: schedulers)
    }

    /// Ends a job: a last tick up to now, its processes' cgroup removed; answers once its totals
    /// are saved (`pendingSaved`), the sampler going on meanwhile.
    public func end(id: String, exitStatus: Int32, caller: ControlCaller) async throws(ControlFailure) -> JobReport {
        let report = try endUnsaved(id: id, exitStatus: exitStatus, caller: caller)
        await pendingSaved()
        return report
    }

    /// `end` without waiting for the store: the next checkpoint saves the totals (see
    /// `registerUnsaved`). An end asked again is answered from the ended job.
    public func endUnsaved(id: String, exitStatus: Int32, caller: ControlCaller) throws(ControlFailure) -> JobReport {
        if stopping { throw ControlFailure(.unavailable, "ergod is stopping; the job is ended when it is back") }
        guard let job = active[id] else {
            if let report = try? report(id: id, for: caller) { return report }  // already ended: idempotent
            throw ControlFailure(.notFound, "no job \(id); `ergo jobs --all` lists them")
        }
        guard caller.mayAccess(jobOwnedBy: job.stored.uid) else { throw ControlFailure(.forbidden, "job \(id) belongs to another user") }
        tick()
        finish(id: id, exitStatus: exitStatus)
        return try report(id: id, for: caller)  // from the ended job as the checkpoint saves it
    }

    /// Refuses a job beyond `control.max_active_jobs` in all, or beyond
    /// `control.max_active_jobs_per_user` for one user (root counts toward the total only).
    /// `quiet`: the caller says it (discovery, once per job it cannot admit).
    func checkJobLimits(uid: Int, quiet: Bool = false) throws(ControlFailure) {
        if active.count >= configuration.maxActiveJobs {
            if !quiet { logger.warning("refused a job: the limit of running jobs is reached", metadata: ["ergometer.uid": "\(uid)", "ergometer.jobs": "\(active.count)"]) }
            throw ControlFailure(.tooManyRequests, "\(active.count) jobs are running, the most this ergod takes (control.max_active_jobs); end one or raise the limit")
        }
        guard uid != 0 else { return }
        let mine = active.values.reduce(0) { $0 + ($1.stored.uid == uid ? 1 : 0) }
        if mine >= configuration.maxActiveJobsPerUser {
            if !quiet { logger.warning("refused a job: the user's limit of running jobs is reached", metadata: ["ergometer.uid": "\(uid)", "ergometer.jobs": "\(mine)"]) }
            throw ControlFailure(.tooManyRequests, "you have \(mine) jobs running, the most one user may (control.max_active_jobs_per_user); end one with `ergo jobs` / the job's end, or ask for a higher limit")
        }
    }

    func finish(id: String, exitStatus: Int32?) {
        guard var job = active.removeValue(forKey: id) else { return }
        runningJobsChanges &+= 1
        if job.enclosingJob != nil { nestedJobs -= 1 }
        gpuProcessJobs.jobsChanged()
        job.cpuStat?.close()
        if let sample = job.flushMinute() { appendSample(sample) }
        job.encodeTemperatures(sensorKeys: sensorKeys)
        job.encodeDomains(meters.domains)
        job.stored.ended = lastWall
        job.stored.exitStatus = exitStatus.map(Int.init)
        if case .cgroup = job.tracking, job.stored.scheduler == nil, let cgroups {  // never a scheduler's
            let returning = job.owner.map { [(pid: $0.pid, cgroup: $0.cgroup)] } ?? []
            if !cgroups.remove(job: id, returning: returning) {
                logger.warning("job's cgroup still holds processes; left in place", metadata: ["ergometer.job.id": "\(id)"])
            }
        }
        for folded in ledger.jobEnded(id, byDomain: job.ledgerByDomain) { ledgerOwners[folded] = nil }
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
