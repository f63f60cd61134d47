import ErgometerCore
import ErgometerProbes
import ErgometerStore
import Logging

#if canImport(Glibc)
import Glibc
#endif

extension Sampler {
    /// One tick: read, subtract, attribute, accumulate; checkpoint when one is due.
    public func tick() {
        let began = MonotonicClock.nanoseconds()  // what the tick costs, on the machine's clock
        let now = clock.monotonicNanoseconds()
        let wall = wallClock()
        let seconds = Double(now &- lastMonotonic) / 1e9
        guard seconds > 0 else { return }
        let tickStart = wallTickStart(wall: wall, seconds: seconds)
        let stat = try? (procStatFile.map { ProcStatReader.read(file: $0, buffer: readBuffer) } ?? ProcStatReader.read(procfs: procfs, buffer: readBuffer)).get()
        if stat == nil { exported.count(.procstat) }
        let busy = Self.busyMicroseconds(stat)
        let busyDelta = busy >= lastBusyMicroseconds ? busy - lastBusyMicroseconds : 0
        let capacity = seconds * 1e6 * Double(max(stat?.perCPU.count ?? 1, 1))
        let busyRatio = capacity > 0 ? min(Double(busyDelta) / capacity, 1) : 0

        // Idle power is learned from ticks of about the configured length only: a registration
        // or an end forces a tick of a few microseconds, whose power is noise.
        let learn = seconds >= configuration.intervalSeconds / 2
        meters.measure(MeterTick(seconds: seconds, nanoseconds: now &- lastMonotonic, busyRatio: busyRatio, bootID: bootID, now: now), learn: learn)
        if meters.rapl.problem != nil { exported.count(.rapl) }
        // A GPU or the platform meter that vanished (driver unloaded, device lost): its domain
        // keeps the energy so far and reads 0 until it is back.
        say(meters.hwmon.problem, after: &lastHwmonProblem, probe: .hwmon,
            failing: "an hwmon power or energy sensor cannot be read; its domain counts nothing meanwhile", back: "hwmon sensors readable again: measuring")
        say(meters.nvml.problem, after: &lastNVMLProblem, probe: .nvml,
            failing: "an NVIDIA GPU cannot be read; its domain keeps its energy so far", back: "NVIDIA GPUs readable again: measuring")
        if meters.cpuSource != lastSource {
            if meters.cpuSource == .model {
                logger.warning("RAPL unusable, this tick is estimated by the model", metadata: ["ergometer.reason": "\(meters.rapl.problem ?? "no zones")"])
            } else {
                logger.info("RAPL readable again: measuring")
            }
            lastSource = meters.cpuSource
        }

        // Each job's CPU since the last tick, kept on the job itself (updated in place), and in
        // the order of this walk for the split. Walked by index, not `active.indices`: that view
        // keeps a second reference to the dictionary's storage, and the first write would copy
        // every job. The dictionary is not changed until the second walk ends, so both walks
        // see the jobs in the same order and position k of the split is the k-th job.
        // The weights are filled in a local, moved out of the actor and back (its storage
        // stays unique): one exclusivity check for the walk, not one a job.
        var weights = tickCPU
        tickCPU = []
        weights.removeAll(keepingCapacity: true)
        var failedReads = 0
        var index = active.startIndex
        while index != active.endIndex {
            let delta = readUsage(of: &active.values[index])
            if delta == nil { failedReads += 1 }
            weights.append(delta ?? 0)
            active.formIndex(after: &index)
        }
        tickCPU = weights
        for _ in 0..<failedReads { exported.count(.cgroup) }
        if nestedJobs > 0 { takeNestedJobsOutOfTheirSchedulers() }
        refreshGPUUseIfDue(now: now)
        observeNVMLUse(now: now)
        let split = BoxAttribution.split(
            kinds: meters.kinds, energy: meters.readings.map(\.microjoules), seconds: seconds, jobCPUMicroseconds: tickCPU,
            busyCPUMicroseconds: busyDelta, gpuUse: gpuWeights(), cpuIdleWatts: idleWatts, idleWatts: meters.idleWatts,
            policy: configuration.idlePolicy)
        ledger.recordMeasured(meters.readings)
        ledger.recordBuckets(split)
        if let rest = meters.restIndex {
            meters.observeRest(microjoules: split.energy[rest], seconds: seconds, learn: learn)
            if split.componentsBeyondPlatform > 0 { noteComponentsBeyondPlatform(split.componentsBeyondPlatform) }
        }

        let temperatures = active.isEmpty ? [] : temperatureReadingsIfDue(now: now)
        lastBusyRatio = busyRatio
        let carbonFactors = carbon.factors(from: tickStart, to: wall)
        // The actor's state is read once here, not once a job: each access to a stored
        // property is checked for exclusivity at run time.
        let readings = meters.readings
        tickSeriesKeys.removeAll(keepingCapacity: true)
        for domain in 0..<split.domainCount { tickSeriesKeys.append(seriesKey(domain, readings[domain].source)) }
        let keys = tickSeriesKeys
        index = active.startIndex
        var position = 0
        while index != active.endIndex {
            // One access to the job per tick: its totals, counters, temperatures and sample.
            if let sample = active.values[index].close(
                split, job: position, readings: readings, seconds: seconds, carbon: carbonFactors, temperatures: temperatures,
                start: tickStart, end: wall)
            {
                appendSample(sample, split: sample.perMinute ? nil : split, job: position, keys: keys)
            }
            active.formIndex(after: &index)
            position += 1
        }
        lastMonotonic = now
        lastWall = wall
        lastTickSeconds = seconds
        lastBusyMicroseconds = busy
        ticks += 1
        board.tickCompleted(ticks)
        discoverJobsIfDue(now: now)
        if ticks % 10 == 0 { endVanishedJobs() }
        if ticks % 100 == 0 { removeLeftoverCgroups() }
        if Double(now &- lastCheckpoint) / 1e9 >= configuration.checkpointSeconds { checkpointInBackground() }
        exported.tickSeconds.observe(Double(MonotonicClock.nanoseconds() &- began) / 1e9)
    }

    /// Replaces the wall clock from now on (tests step it: only timestamps may follow).
    public func useWallClock(_ clock: @escaping @Sendable () -> Double) {
        wallClock = clock
        lastWall = clock()
    }

    /// Where this tick starts on the wall clock: where the last one ended, unless the wall clock
    /// stepped (NTP, `date -s`, a resume) by more than the tolerance; then the tick is placed
    /// to end now, and running jobs' start times move by the step so their durations stay the
    /// time they were measured.
    func wallTickStart(wall: Double, seconds: Double) -> Double {
        let step = wall - (lastWall + seconds)
        guard abs(step) > Self.clockStepTolerance else { return lastWall }
        logger.warning("the wall clock stepped; intervals come from the monotonic clock, timestamps follow the new time", metadata: [
            "ergometer.step_seconds": "\(step)", "ergometer.jobs": "\(active.count)",
        ])
        var index = active.startIndex
        while index != active.endIndex {
            active.values[index].stored.started += step
            pending.jobRows.append(active.values[index].stored)
            active.formIndex(after: &index)
        }
        return wall - seconds
    }

    /// The CPU domains' idle power: configured, else learned from RAPL, else the model's.
    var idleWatts: Double {
        configuration.idleWatts ?? (lastSource == .rapl ? meters.cpuIdleLearner.idleWatts() : nil) ?? model.idleWatts
    }

    /// The components drew more than the platform meter this tick (meters disagree, or the
    /// platform meter averages over a longer window): `rest` is zero, said once a minute.
    func noteComponentsBeyondPlatform(_ microjoules: UInt64) {
        exported.count(.platformBelowComponents)
        let now = clock.monotonicNanoseconds()
        guard now &- lastPlatformWarning > 60_000_000_000 || lastPlatformWarning == 0 else { return }
        lastPlatformWarning = now
        logger.warning("the components drew more than the platform meter this tick; rest is 0 W", metadata: [
            "ergometer.excess_joules": "\(Double(microjoules) / 1e6)",
        ])
    }

    /// Reads the job's CPU counter and keeps it, and its increase, on the job (one access per
    /// tick); nil when it cannot be read, and the tick counts no CPU for it.
    func readUsage(of job: inout ActiveJob) -> UInt64? {
        guard let current = cpuUsage(of: &job) else {
            job.tickUsage = job.lastUsage
            job.tickDelta = 0
            job.counterFailedSinceVanishCheck = true
            return nil
        }
        job.tickUsage = current
        job.tickDelta = current >= job.lastUsage ? current - job.lastUsage : 0
        return job.tickDelta
    }

    func cpuUsage(of job: inout ActiveJob) -> UInt64? {
        switch job.tracking {
        case .cgroup(let path):
            guard let cgroups else { return nil }
            if job.cpuStat == nil { job.cpuStat = KeptOpenFile(path: cgroups.hierarchy.cpuStatPath(of: path)) }
            return try? CgroupV2.cpuUsageMicroseconds(file: job.cpuStat!, buffer: readBuffer).get()
        case .cgroupV1(let path):
            guard let accounting = cgroupsV1 else { return nil }
            if job.cpuStat == nil { job.cpuStat = KeptOpenFile(path: accounting.usagePath(of: path)) }
            return try? CgroupV1Accounting.usageMicroseconds(file: job.cpuStat!, buffer: readBuffer).get()
        case .processTree(let root): return ProcessTreeUsage(procfs: procfs).cpuMicroseconds(root: root)
        }
    }

    /// The sensors' readings as (index, °C) when a read is due, else none.
    func temperatureReadingsIfDue(now: UInt64) -> [(index: Int, celsius: Double)] {
        guard temperaturesDue || Double(now &- lastTemperatureRead) / 1e9 >= Self.temperatureSeconds else { return [] }
        temperaturesDue = false
        return readTemperatures(now: now).map { reading in
            let key = reading.chip + "\t" + reading.sensor
            if let index = sensorIndex[key] { return (index, reading.celsius) }
            sensorIndex[key] = sensorKeys.count
            sensorKeys.append(TemperatureStatisticsJSON.Key(key))
            return (sensorKeys.count - 1, reading.celsius)
        }
    }

    /// Reads the sensors now and keeps the reading for /metrics; a failed read is counted.
    func readTemperatures(now: UInt64) -> [TemperatureReading] {
        let result = temperatureReader.read(now: now)
        if !result.issues.isEmpty { exported.count(.temperature) }
        lastTemperatureRead = now
        lastTemperatures = result.temperatures
        return result.temperatures
    }

    /// The last reading if it is younger than `temperatureSeconds`, else a new one.
    func currentTemperatures(now: UInt64) -> [TemperatureReading] {
        guard lastTemperatureRead == 0 || Double(now &- lastTemperatureRead) / 1e9 >= Self.temperatureSeconds else { return lastTemperatures }
        return readTemperatures(now: now)
    }

    /// The pending-writes key of a domain (by position) and source, cached per slot; the cache
    /// starts again when the meters' domains change.
    func seriesKey(_ domain: Int, _ source: EnergySource) -> Int {
        let slot = domain * ActiveJob.sourceCount + source.ordinal
        if seriesKeySlots.count != meters.domains.count * ActiveJob.sourceCount {
            seriesKeySlots = [Int](repeating: -1, count: meters.domains.count * ActiveJob.sourceCount)
        }
        if seriesKeySlots[slot] < 0 { seriesKeySlots[slot] = pending.seriesKey(domain: meters.domains[domain].name, source: source) }
        return seriesKeySlots[slot]
    }

    /// Keeps a sample for the next checkpoint, with a full-resolution one's energy per domain
    /// (position `job` of `split`, under this tick's `keys`).
    func appendSample(_ sample: JobSample, split: BoxAttribution? = nil, job position: Int = 0, keys: [Int] = []) {
        if pending.append(sample, split: split, job: position, keys: keys) {
            logger.error("store unwritable for long: oldest time-series samples dropped (job totals are kept)")
        }
    }

    /// Jobs whose processes are all gone without an end request (their `ergo run` died):
    /// closed with no exit status. A cgroup job whose counter read and rose since the last look
    /// is not asked (its processes were there moments ago; the next look catches it), so busy
    /// jobs cost this nothing; one whose counter failed to read is asked at once.
    func endVanishedJobs() {
        var gone: [String] = []
        var index = active.startIndex
        while index != active.endIndex {
            defer { active.formIndex(after: &index) }
            switch active.values[index].tracking {
            case .cgroup, .cgroupV1:
                let busy = active.values[index].cpuSinceVanishCheck > 0 && !active.values[index].counterFailedSinceVanishCheck
                active.values[index].cpuSinceVanishCheck = 0
                active.values[index].counterFailedSinceVanishCheck = false
                if busy { continue }
                // Empty, or removed from under us (rmdir by an admin, a cgroup manager, the scheduler).
                if let folder = cgroupFolder(of: active.values[index].tracking), folder.isEmptyOrGone { gone.append(active.keys[index]) }
            case .processTree(let root):
                if ProcessTreeUsage(procfs: procfs).cpuMicroseconds(root: root) == nil { gone.append(active.keys[index]) }
            }
        }
        for id in gone { endGone(id) }
    }

    /// Ends a job whose processes are gone: a scheduler's job ends so (no exit status), an
    /// `ergo run` job that got no end request is said to.
    func endGone(_ id: String) {
        if let scheduler = active[id]?.stored.scheduler {
            logger.info("scheduler's job ended: its cgroup is empty or gone", metadata: ["ergometer.job.id": "\(id)", "ergometer.scheduler": "\(scheduler.rawValue)"])
        } else {
            logger.warning("job's processes are gone without an end request; closing it", metadata: ["ergometer.job.id": "\(id)"])
        }
        finish(id: id, exitStatus: nil)
    }

    /// A job inside a scheduler's job (an `ergo run` in a Slurm job) has its CPU this tick in
    /// both counters: the scheduler's job's weight keeps only the rest, so each process counts
    /// once, in the innermost job.
    func takeNestedJobsOutOfTheirSchedulers() {
        var positions: [String: Int] = [:]
        var index = active.startIndex
        var position = 0
        while index != active.endIndex {
            positions[active.keys[index]] = position
            active.formIndex(after: &index)
            position += 1
        }
        index = active.startIndex
        position = 0
        while index != active.endIndex {
            if let enclosing = active.values[index].enclosingJob, let outer = positions[enclosing] {
                tickCPU[outer] -= min(tickCPU[outer], tickCPU[position])
            }
            active.formIndex(after: &index)
            position += 1
        }
    }

    /// The folder of a cgroup job, in its hierarchy.
    func cgroupFolder(of tracking: ActiveJob.Tracking) -> SchedulerCgroupFolder? {
        switch tracking {
        case .cgroup(let path): cgroups.map { SchedulerCgroupFolder(directory: $0.hierarchy.directory(of: path), hierarchy: .unified) }
        case .cgroupV1(let path): cgroupsV1.map { SchedulerCgroupFolder(directory: $0.directory(of: path), hierarchy: .cpuacct) }
        case .processTree: nil
        }
    }

    /// Logs a meter's problem when it changes (a warning with the reason, or that it is
    /// readable again) and counts each tick that has one.
    private func say(_ problem: String?, after last: inout String?, probe: ProbeKind, failing: Logger.Message, back: Logger.Message) {
        if problem != last {
            if let problem {
                logger.warning(failing, metadata: ["ergometer.reason": "\(problem)"])
            } else {
                logger.info(back)
            }
            last = problem
        }
        if problem != nil { exported.count(probe) }
    }
}
