import ErgometerCore
import ErgometerProbes
import ErgometerStore

extension Sampler {
    /// Looks through the cgroups for the schedulers' jobs when a scan is due (every
    /// `discovery.scan_interval_seconds`, and on the first tick). Called at the end of a tick:
    /// the window is closed, so a job admitted here starts at a tick boundary.
    func discoverJobsIfDue(now: UInt64) {
        guard !discoveryScans.isEmpty, !stopping, lastDiscoveryScan == 0 || Double(now &- lastDiscoveryScan) / 1e9 >= configuration.discoveryScanSeconds
        else { return }
        lastDiscoveryScan = now
        discoverJobs()
    }

    /// One scan: each scheduler's job not yet measured is admitted once it holds a process (an
    /// empty folder is a job not yet started, or over); each measured one whose folder is gone
    /// ends. A job found again after a restart is the job the store already has. When no folder
    /// changed since a scan that left nothing to try again, and no job started or ended since,
    /// the scan's jobs are those measured already: the listings are all it costs.
    func discoverJobs() {
        var found: [SchedulerCgroupScan.Found] = []
        var changed = false
        if discoveryMemos.count != discoveryScans.count { discoveryMemos = discoveryScans.map { _ in SchedulerCgroupScan.Memo() } }
        for index in discoveryScans.indices {
            let outcome = discoveryScans[index].scan(memo: &discoveryMemos[index])
            found += outcome.found
            changed = changed || outcome.changed
        }
        if !changed, discoverySettled == runningJobsChanges { return }
        var settled = true
        var known: [DiscoveredFolder: String] = [:]  // the schedulers' jobs running → job id
        known.reserveCapacity(active.count)
        var index = active.startIndex
        while index != active.endIndex {
            if active.values[index].stored.scheduler != nil {
                switch active.values[index].tracking {
                case .cgroup(let path): known[DiscoveredFolder(hierarchy: .unified, path: path)] = active.keys[index]
                case .cgroupV1(let path): known[DiscoveredFolder(hierarchy: .cpuacct, path: path)] = active.keys[index]
                case .processTree: break
                }
            }
            active.formIndex(after: &index)
        }
        // Those gone first: a job limit has their room for the new ones.
        var new: [SchedulerCgroupScan.Found] = []
        for job in found {
            if known.removeValue(forKey: DiscoveredFolder(hierarchy: job.hierarchy, path: job.path)) == nil { new.append(job) }
        }
        // Not listed (what is left in `known`): gone, if its folder really is (a listing that
        // failed, out of descriptors, is no end).
        for id in known.values {
            if let tracking = active[id]?.tracking, cgroupFolder(of: tracking)?.isEmptyOrGone ?? true { endGone(id) } else { settled = false }
        }
        for job in new {
            if !admitDiscovered(job) { settled = false }  // not started yet, or no room: the next scan tries again
        }
        if !discoveryRefused.isEmpty { discoveryRefused.formIntersection(found.map(\.path)) }  // gone ones forgotten
        discoverySettled = settled ? runningJobsChanges : nil
    }

    /// A scheduler's job folder: its hierarchy and path there.
    private struct DiscoveredFolder: Hashable {
        var hierarchy: SchedulerCgroupScan.Hierarchy
        var path: String
    }

    /// Admits one scheduler's job: its name (a Slurm job's `SLURM_JOB_NAME` from the first of
    /// its processes that has it), its owner (the path's uid, else its first process's), label
    /// `scheduler`, measured by its cgroup's counter from now. False when a later scan should
    /// try it again (no process in it yet, no room, a failure).
    private func admitDiscovered(_ job: SchedulerCgroupScan.Found) -> Bool {
        let folder: SchedulerCgroupFolder
        let tracking: ActiveJob.Tracking
        switch job.hierarchy {
        case .unified:
            guard let cgroups else { return true }  // no scan of a hierarchy without its accounting
            folder = SchedulerCgroupFolder(directory: cgroups.hierarchy.directory(of: job.path), hierarchy: .unified)
            tracking = .cgroup(job.path)
        case .cpuacct:
            guard let cgroupsV1 else { return true }
            folder = SchedulerCgroupFolder(directory: cgroupsV1.directory(of: job.path), hierarchy: .cpuacct)
            tracking = .cgroupV1(job.path)
        }
        let pids = folder.processes(limit: 64)
        guard let first = pids.first else { return false }
        let identity = job.identity
        let uid = identity.uid ?? Self.realUID(of: first, procfs: procfs) ?? 0
        do {
            try checkJobLimits(uid: uid, quiet: true)
        } catch {
            // Said once per job; the next scans try again, and admit it once there is room.
            if discoveryRefused.insert(job.path).inserted {
                logger.warning("a scheduler's job is not measured: a job limit is reached", metadata: ["ergometer.cgroup": "\(job.path)", "ergometer.reason": "\(error)"])
            }
            return false
        }
        discoveryRefused.remove(job.path)
        var name = identity.defaultName
        if identity.scheduler == .slurm {
            for pid in pids {
                if let jobName = ProcessEnvironment.value(of: "SLURM_JOB_NAME", pid: pid, procfs: procfs), !jobName.isEmpty {
                    name = jobName
                    break
                }
            }
        }
        let admission = JobAdmission(
            name: name, jobID: identity.jobID, labels: ["scheduler": identity.scheduler.rawValue], command: [], uid: uid,
            user: UserDatabase.userName(uid: uid), pid: first, processors: nil, tracking: tracking, owner: nil,
            scheduler: identity.scheduler, enclosingJob: nil)
        do {
            _ = try admit(id: takeJobNumber(), admission)
            return true
        } catch {
            logger.warning("a scheduler's job could not be admitted", metadata: ["ergometer.cgroup": "\(job.path)", "ergometer.reason": "\(error)"])
            return false
        }
    }
}
