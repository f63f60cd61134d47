import ErgometerCore
import ErgometerProbes
import ErgometerStore
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

extension Sampler {
    /// Saves totals, samples, ended jobs and the counter readings in one transaction, and
    /// returns once they are on disk (after a background write still running). On failure
    /// (disk full, file deleted) everything stays in memory and is saved at the next checkpoint.
    public func checkpoint() {
        collectBackgroundWrite(waiting: true)
        guard let (store, batch) = prepareCheckpoint() else { return }
        do {
            try store.save(batch)
            pending.saved()
            storeWritable()
            pruneIfDue(now: lastCheckpoint)
        } catch {
            noteStoreFailure(error)
        }
    }

    /// The tick's checkpoint: the batch is built here and written on the store's writer queue,
    /// so a tick never waits for SQLite (the second core does the writing). A write still
    /// running when the next is due makes that one wait for a later tick.
    func checkpointInBackground() {
        collectBackgroundWrite(waiting: false)
        guard backgroundWrite == nil, let (store, batch) = prepareCheckpoint(encoding: false) else { return }
        let write = BackgroundWrite()
        backgroundWrite = write
        backgroundWriteTick = ticks
        let samples = pending.raw
        let (zones, domains) = (meters.savedReadings, checkpointDomains)
        pending.handOver(samples: samples)
        // The text (samples' per-domain energy, the counters and the ledger as JSON) is written
        // on the writer's queue: the sampler's thread only hands the numbers over.
        store.saveInBackground(batch) { batch in
            batch.samples = samples.encoded()
            batch.checkpoint.zonesJSON = Self.json(zones)
            batch.checkpoint.domainsJSON = Self.json(domains)
        } completion: { result in write.finish(result) }
    }

    /// Returns once everything pending now has been through a checkpoint: on disk, or, when the
    /// store could not take it, kept in memory with the failure noted, as by any checkpoint. The
    /// write is a background one: ticks and other requests go on while the caller waits (what
    /// `register` and `end` answer after, so that a reply means "saved").
    func pendingSaved() async {
        let before = checkpointsBegun
        while true {
            collectBackgroundWrite(waiting: false)
            if let write = backgroundWrite {  // an earlier one may not hold what is pending: wait, look again
                await write.finished()
                continue
            }
            if checkpointsBegun != before { return }  // one begun since took it (a tick's, an explicit one)
            checkpointInBackground()
        }
    }

    /// Waits for the tick's background checkpoint in flight, if it began at least `ticksAgo`
    /// ticks ago, without holding the sampler, and takes in its outcome (the soak, whose
    /// simulated ticks would otherwise run far ahead of the writer: at real speed it is never
    /// a minute behind).
    public func waitForBackgroundWrite(begunTicksAgo ticksAgo: UInt64 = 0) async {
        guard let write = backgroundWrite, ticks &- backgroundWriteTick >= ticksAgo else { return }
        await write.finished()
        collectBackgroundWrite(waiting: false)
    }

    /// Takes in the outcome of the background write, if it has finished (or once it has, when
    /// `waiting`): what it saved is let go; what it could not is pending again.
    func collectBackgroundWrite(waiting: Bool) {
        guard let write = backgroundWrite, let result = waiting ? write.wait() : write.result else { return }
        backgroundWrite = nil
        switch result {
        case .success:
            pending.handedOverSaved()
            storeWritable()
            pruneIfDue(now: lastCheckpoint)
        case .failure(let error):
            pending.handedOverFailed()
            noteStoreFailure(error)
        }
    }

    /// The batch of a checkpoint now, with each running job's per-domain and temperature
    /// figures written into its totals; nil without a usable store (the failure noted). Not
    /// `encoding`: its samples, counters and ledger are left for the writer to fill in.
    private func prepareCheckpoint(encoding: Bool = true) -> (JobStore, CheckpointBatch)? {
        lastCheckpoint = clock.monotonicNanoseconds()
        checkpointsBegun &+= 1
        guard let store else { return nil }
        do {
            if try store.recoverIfDeleted() {
                logger.warning("the job store was deleted while open; rebuilt it from the open database, nothing lost", metadata: ["ergometer.store": "\(store.path)"])
            }
        } catch {
            noteStoreFailure(error)  // everything stays in memory until the path is usable again
            return nil
        }
        var index = active.startIndex
        while index != active.endIndex {  // by index: `active.indices` would make every job copy
            active.values[index].encodeTemperatures(sensorKeys: sensorKeys)
            active.values[index].encodeDomains(meters.domains)
            active.formIndex(after: &index)
        }
        let checkpoint = Checkpoint(
            bootID: bootID, wallTime: lastWall, ledgerSince: ledger.since, monotonicNanoseconds: Int64(lastMonotonic),
            zonesJSON: encoding ? Self.json(meters.savedReadings) : "", busyMicroseconds: Int64(lastBusyMicroseconds),
            systemMicrojoules: Int64(ledger.systemTotal), idleMicrojoules: Int64(ledger.idleTotal), source: lastSource,
            domainsJSON: encoding ? Self.json(checkpointDomains) : "")
        let totals = active.values.map(\.totals) + pending.endedJobs.values.map(\.1)
        return (
            store,
            CheckpointBatch(
                checkpoint: checkpoint, newJobs: pending.newJobs, totals: totals, samples: encoding ? pending.encodedSamples() : [],
                endedJobs: pending.jobRows)
        )
    }

    private func storeWritable() {
        guard storeError != nil else { return }
        logger.info("job store writable again; everything kept in memory is saved")
        storeError = nil
    }

    /// The ledger per domain, as the checkpoint keeps it.
    var checkpointDomains: [CheckpointDomain] {
        ledger.domains.indices.map { index in
            CheckpointDomain(
                domain: ledger.domains[index].name, kind: ledger.domains[index].kind, source: meters.readings[index].source,
                measuredMicrojoules: ledger.measured[index], systemMicrojoules: ledger.system[index], idleMicrojoules: ledger.idle[index],
                componentsBeyondPlatformMicrojoules: ledger.domains[index].kind == .rest ? ledger.componentsBeyondPlatformMicrojoules : nil)
        }
    }

    func noteStoreFailure(_ error: any Error) {
        let message = "\(error)"
        exported.count(.store)
        if storeError != message {
            logger.error("cannot write the job store; sampling goes on in memory and is saved when it can be", metadata: ["ergometer.error": "\(message)"])
        }
        storeError = message
    }

    /// Continues from the last checkpoint of this boot: the ledger, the running jobs, and the
    /// counter readings, so that the next tick covers the whole gap. Jobs left open by an
    /// earlier boot are closed. Then checkpoints at once: a kill before the first periodic
    /// checkpoint must find this start's counter readings (and its jobs) saved, or the energy
    /// since start would be lost. Runs before the control socket takes requests.
    public func restore() {
        restoreFromCheckpoint()
        removeLeftoverCgroups()
        checkpoint()
    }

    private func restoreFromCheckpoint() {
        guard let store else { return }
        do {
            for (job, _) in try store.jobs(includeEnded: false, limit: Int.max) where job.bootID != bootID {
                try close(job, in: store, reason: "it ran in an earlier boot")
            }
            guard let saved = try store.checkpoint(), saved.bootID == bootID else { return }
            let readings = (try? JSONDecoder().decode([String: UInt64].self, from: Data(saved.zonesJSON.utf8))) ?? [:]
            meters.restore(readings, bootID: bootID)
            lastMonotonic = UInt64(saved.monotonicNanoseconds)
            lastWall = saved.wallTime
            lastBusyMicroseconds = UInt64(saved.busyMicroseconds)
            ledger.since = saved.ledgerSince
            let running = try store.jobs(includeEnded: false, limit: Int.max).filter { $0.0.bootID == bootID }
            let ended = try store.endedJobEnergy(startedSince: saved.ledgerSince, keepingLatest: DomainLedger.endedJobsKept)
            restoreLedger(saved, ended: ended, expired: try store.expiredJobEnergy(ledgerSince: saved.ledgerSince), running: running.map(\.1))
            temperaturesDue = true
            for (job, totals) in running {
                let tracking: ActiveJob.Tracking =
                    job.cgroup.map { job.tracking == .cgroupV1 ? .cgroupV1($0) : .cgroup($0) } ?? .processTree(root: Int32(job.pid))
                let temperatures = TemperatureStatisticsJSON.decode(totals.temperaturesJSON) ?? [:]
                var restored = ActiveJob(
                    stored: job, totals: totals, tracking: tracking, lastUsage: UInt64(totals.lastUsageMicroseconds),
                    owner: job.ownerCgroup.map { (Int32(job.pid), $0) }, temperatures: temperatures)
                restored.adopt(domains: meters.domains)
                restored.ledgerByDomain = byDomain(totals.domains)
                // The carbon intensity's time weighting goes on from what the totals hold.
                restored.measuredSeconds = max(saved.wallTime - job.started, 0)
                restored.intensitySeconds = totals.intensityGramsPerKWh * restored.measuredSeconds
                active[job.id] = restored
                runningJobsChanges &+= 1
            }
            // Which jobs run inside a scheduler's job is seen again from where their processes are.
            for key in Array(active.keys) where active[key]?.stored.scheduler == nil {
                guard let pid = active[key].map({ Int32($0.stored.pid) }), let enclosing = schedulerJob(holding: pid), enclosing != key else { continue }
                active[key]?.enclosingJob = enclosing
                nestedJobs += 1
            }
            logger.info("continuing from the checkpoint of this boot; the gap is one tick", metadata: [
                "ergometer.gap_seconds": "\(Double(clock.monotonicNanoseconds() &- lastMonotonic) / 1e9)",
                "ergometer.jobs": "\(active.count)",
            ])
        } catch {
            noteStoreFailure(error)
        }
    }
}

extension Sampler {
    /// A job's per-domain rows as energies in this run's domain order (rows of domains this
    /// run does not have are left out of the ledger; the job's totals keep them).
    func byDomain(_ rows: [DomainTotal]) -> [UInt64] {
        var energies = [UInt64](repeating: 0, count: meters.domains.count)
        for row in rows {
            if let index = meters.domains.firstIndex(where: { $0.name == row.domain }) { energies[index] += UInt64(max(row.energyMicrojoules, 0)) }
        }
        return energies
    }

    /// The per-domain ledger of the checkpoint and the buckets of its period's ended jobs (the
    /// latest one by one, earlier ones and those retention dropped as sums); one saved before
    /// there were domains held the CPU packages only, and continues as `cpu-package`.
    func restoreLedger(_ checkpoint: Checkpoint, ended: EndedJobEnergy, expired: [String: UInt64], running: [JobTotals]) {
        var measured: [String: UInt64] = [:]
        var system: [String: UInt64] = [:]
        var idle: [String: UInt64] = [:]
        let saved = checkpoint.domains
        if saved.isEmpty {
            let endedEnergy = ended.latest.reduce(ended.earlier.values.reduce(0, +)) { total, job in
                job.domains.reduce(total) { $0 + UInt64(max($1.energyMicrojoules, 0)) }
            }
            let jobEnergy = running.reduce(endedEnergy + expired.values.reduce(0, +)) { $0 + UInt64(max($1.energyMicrojoules, 0)) }
            measured["cpu-package"] = UInt64(checkpoint.systemMicrojoules) + UInt64(checkpoint.idleMicrojoules) + jobEnergy
            system["cpu-package"] = UInt64(checkpoint.systemMicrojoules)
            idle["cpu-package"] = UInt64(checkpoint.idleMicrojoules)
        }
        var beyond: UInt64 = 0
        for domain in saved {
            measured[domain.domain] = domain.measuredMicrojoules
            system[domain.domain] = domain.systemMicrojoules
            idle[domain.domain] = domain.idleMicrojoules
            beyond += domain.componentsBeyondPlatformMicrojoules ?? 0
        }
        ledger.restore(measured: measured, system: system, idle: idle, componentsBeyondPlatformMicrojoules: beyond)
        var earlier = ended.earlier
        for (domain, energy) in expired { earlier[domain, default: 0] += energy }
        ledger.addEarlierJobs(meters.domains.map { earlier[$0.name] ?? 0 })
        for job in ended.latest { ledger.jobEnded(job.id, byDomain: byDomain(job.domains)) }
    }
}

extension Sampler {
    /// For `ergo run` without a daemon: jobs a crashed earlier run left open, whose process is
    /// gone or which ran in another boot, are closed (their totals as last saved).
    public func closeAbandonedJobs() {
        guard let store, let open = try? store.jobs(includeEnded: false, limit: Int.max) else { return }
        for (job, _) in open where job.bootID != bootID || kill(pid_t(job.pid), 0) != 0 {
            try? close(job, in: store, reason: "its process is gone")
        }
    }

    func close(_ job: StoredJob, in store: JobStore, reason: String) throws {
        var closed = job
        closed.ended = (try? store.samples(job: job.id))?.last?.end ?? job.started  // its last measured moment
        try store.update(closed)
        logger.warning("open job closed: \(reason)", metadata: ["ergometer.job.id": "\(job.id)"])
    }
}

extension Sampler {
    /// Job cgroups of jobs no longer running (left behind by a crash, or still populated when
    /// their job ended) are removed once empty.
    func removeLeftoverCgroups() {
        guard let cgroups else { return }
        let parent = cgroups.hierarchy.directory(of: "/" + cgroups.subtree)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        let running = Set(active.keys.map { "job-" + $0 })
        for entry in entries where entry.hasPrefix("job-") && !running.contains(entry) {
            rmdir(parent + "/" + entry)  // fails, harmlessly, while processes remain
        }
    }
}
