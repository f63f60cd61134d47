import ErgometerCore
import ErgometerProbes
import ErgometerStore
import Logging

extension Sampler {
    /// One tick: read, subtract, attribute, accumulate; checkpoint when one is due.
    public func tick() {
        let now = MonotonicClock.nanoseconds()
        let wall = WallClock.seconds()
        let seconds = Double(now &- lastMonotonic) / 1e9
        guard seconds > 0 else { return }
        let stat = try? ProcStatReader.read(procfs: procfs).get()
        if stat == nil { exported.count("procstat") }
        let busy = Self.busyMicroseconds(stat)
        let busyDelta = busy >= lastBusyMicroseconds ? busy - lastBusyMicroseconds : 0
        let capacity = seconds * 1e6 * Double(max(stat?.perCPU.count ?? 1, 1))
        let busyRatio = capacity > 0 ? min(Double(busyDelta) / capacity, 1) : 0

        let energy = meter.measure(seconds: seconds, busyRatio: busyRatio, bootID: bootID, now: now)
        if energy.fallbackReason != nil { exported.count("rapl") }
        if energy.source != lastSource {
            if energy.source == .model {
                logger.warning("RAPL unusable, this tick is estimated by the model", metadata: ["ergometer.reason": "\(energy.fallbackReason ?? "no zones")"])
            } else {
                logger.info("RAPL readable again: measuring")
            }
            lastSource = energy.source
        }
        if energy.source == .rapl { idleLearner.observe(watts: Double(energy.microjoules) / 1e6 / seconds) }

        var usage: [String: UInt64] = [:]
        var usageNow: [String: UInt64] = [:]
        for (id, job) in active {
            let read = cpuUsage(of: job)
            if read == nil { exported.count("cgroup") }
            let current = read ?? job.lastUsage
            usage[id] = current >= job.lastUsage ? current - job.lastUsage : 0
            usageNow[id] = current
        }
        let split = Attribution.split(
            energyMicrojoules: energy.microjoules, seconds: seconds, jobCPUMicroseconds: usage,
            busyCPUMicroseconds: busyDelta, idleWatts: idleWatts, policy: configuration.idlePolicy)

        let temperatures = active.isEmpty ? [] : probe.temperatures().temperatures
        lastBusyRatio = busyRatio
        for (id, microjoules) in split.jobs {
            guard var job = active[id] else { continue }
            job.add(
                microjoules: microjoules, idleShare: split.jobIdleShares[id] ?? 0, cpuMicroseconds: usage[id] ?? 0,
                meter: energy, seconds: seconds, carbon: carbon, from: lastWall, to: wall)
            job.lastUsage = usageNow[id] ?? job.lastUsage
            job.totals.lastUsageMicroseconds = Int64(job.lastUsage)
            job.observe(temperatures)
            if let sample = job.sample(start: lastWall, end: wall, microjoules: microjoules, cpuMicroseconds: usage[id] ?? 0) {
                appendSample(sample)
            }
            active[id] = job
            ledgerJobs[id, default: 0] += microjoules
        }
        systemMicrojoules += split.system
        idleMicrojoules += split.idle
        lastMonotonic = now
        lastWall = wall
        lastBusyMicroseconds = busy
        ticks += 1
        board.tickCompleted(ticks)
        if ticks % 10 == 0 { endVanishedJobs() }
        if ticks % 100 == 0 { removeLeftoverCgroups() }
        if Double(now &- lastCheckpoint) / 1e9 >= configuration.checkpointSeconds { checkpoint() }
        exported.tickSeconds.observe(Double(MonotonicClock.nanoseconds() &- now) / 1e9)
    }

    /// Configured idle power, else learned from RAPL, else the model's.
    var idleWatts: Double {
        configuration.idleWatts ?? (lastSource == .rapl ? idleLearner.idleWatts() : nil) ?? model.idleWatts
    }

    func cpuUsage(of job: ActiveJob) -> UInt64? {
        switch job.tracking {
        case .cgroup(let path): return try? cgroups?.hierarchy.cpuUsageMicroseconds(of: path).get()
        case .processTree(let root): return ProcessTreeUsage(procfs: procfs).cpuMicroseconds(root: root)
        }
    }

    func appendSample(_ sample: JobSample) {
        if pendingSamples.count >= Self.pendingSampleLimit {
            pendingSamples.removeFirst(pendingSamples.count / 10)
            logger.error("store unwritable for long: oldest time-series samples dropped (job totals are kept)")
        }
        pendingSamples.append(sample)
    }

    /// Jobs whose processes are all gone without an end request (their `ergo run` died):
    /// closed with no exit status.
    func endVanishedJobs() {
        for (id, job) in active {
            let gone: Bool
            switch job.tracking {
            case .cgroup(let path):
                let events = (try? SysfsFile.readText((cgroups?.hierarchy.directory(of: path) ?? "") + "/cgroup.events").get()) ?? ""
                gone = events.contains("populated 0")
            case .processTree(let root):
                gone = ProcessTreeUsage(procfs: procfs).cpuMicroseconds(root: root) == nil
            }
            if gone {
                logger.warning("job's processes are gone without an end request; closing it", metadata: ["ergometer.job.id": "\(id)"])
                finish(id: id, exitStatus: nil)
            }
        }
    }
}
