import ErgometerCore
import ErgometerProbes
import ErgometerStore
import ErgometerWire

/// The sampler's bookkeeping for /metrics: tick histograms, probe error counts, the values of
/// the last publication (for power), and ended jobs kept for the grace period.
struct MetricsExportState {
    var resolution: EnergyResolution
    var tickSeconds = Histogram.tickSeconds()
    var tickLateness = Histogram.tickSeconds()
    var probeErrors: [ProbeKind: UInt64] = Dictionary(uniqueKeysWithValues: ProbeKind.allCases.map { ($0, 0) })
    var lastPublishNanoseconds: UInt64?
    /// Exported (floored) energy per zone key or job id at the last publication.
    var lastExported: [String: UInt64] = [:]
    /// Ended jobs still shown, with when they leave (monotonic nanoseconds).
    var ended: [String: (job: StoredJob, totals: JobTotals, leaves: UInt64)] = [:]

    init(resolution: EnergyResolution) {
        self.resolution = resolution
    }

    mutating func count(_ probe: ProbeKind) {
        probeErrors[probe, default: 0] += 1
    }
}

extension Sampler {
    /// Publishes the state of the last tick when the page is missing or stale; a scrape calls
    /// this only after the board said so, and concurrent scrapes find it fresh here.
    public func publishMetricsIfStale() {
        let now = clock.monotonicNanoseconds()
        if board.current(now: now) != nil { return }
        publishMetrics(now: now)
    }

    /// Publishes now, whatever the page's age (benchmarks; tests).
    public func publishMetricsNow() {
        publishMetrics(now: clock.monotonicNanoseconds())
    }

    /// Publishes now and returns the page as text (tests).
    public func metricsText() -> String {
        publishMetricsNow()
        guard let page = board.latest() else { return "" }
        return String(decoding: page.readableBytesView, as: UTF8.self)
    }

    /// Keeps an ended job on the page for the grace period.
    func keepForMetrics(_ job: StoredJob, totals: JobTotals) {
        let now = clock.monotonicNanoseconds()
        exported.ended = exported.ended.filter { $0.value.leaves > now }  // bounded even if nobody scrapes
        exported.ended[job.id] = (job, totals, now &+ UInt64(configuration.endedJobGraceSeconds * 1e9))
    }

    func publishMetrics(now: UInt64) {
        let resolution = exported.resolution
        let seconds = exported.lastPublishNanoseconds.map { Double(now &- $0) / 1e9 } ?? 0
        var previous = exported.lastExported
        var current: [String: UInt64] = [:]
        current.reserveCapacity(previous.count)

        func export(_ key: String, _ microjoules: UInt64) -> (UInt64, Double) {
            let last = previous.removeValue(forKey: key)
            // Never below the last export: a reload to a coarser resolution must not read as a reset.
            let floored = max(resolution.coarsen(microjoules), last ?? 0)
            current[key] = floored
            let before = last ?? floored
            let watts = seconds > 0 && floored >= before ? Double(floored - before) / 1e6 / seconds : 0
            return (floored, (watts * 1000).rounded() / 1000)  // mW: finer would only be noise
        }

        var snapshot = MetricsSnapshot(version: ErgometerVersion.current)
        for (index, domain) in meters.domains.enumerated() {
            for source in EnergySource.allCases {
                let total = meters.totals[index * ActiveJob.sourceCount + source.ordinal]
                // A domain's series for each source it has used, and its current one from the start.
                guard total > 0 || source == meters.readings[index].source else { continue }
                let (microjoules, watts) = export("domain:" + domain.name + ":" + source.rawValue, total)
                snapshot.domains.append(.init(domain: domain.name, kind: domain.kind, source: source, microjoules: microjoules, watts: watts))
            }
        }
        for zone in meters.rapl.zones {
            let key = RaplMeter.key(zone.id)
            let (microjoules, watts) = export(key, meters.rapl.zoneTotals[zone.id] ?? 0)
            snapshot.zones.append(.init(zone: key, domain: zone.domain.rawValue, socket: zone.socket, source: .rapl, microjoules: microjoules, watts: watts))
        }
        for (index, gpu) in meters.nvml.gpus.enumerated() {
            snapshot.gpus.append(.init(
                uuid: gpu.device.uuid, domain: meters.domains[meters.nvmlDomains.lowerBound + index].name,
                utilizationRatio: gpu.utilizationPercent.map { Double($0) / 100 }, lost: gpu.lost))
        }
        snapshot.temperatures = currentTemperatures(now: now)
        snapshot.cpuBusyRatio = lastBusyRatio

        var jobs: [String: MetricsSnapshot.Job] = [:]
        func add(_ stored: StoredJob, _ totals: JobTotals, byKind: [UInt64], running: Bool) {
            var (microjoules, watts) = export("job:" + stored.id, UInt64(max(totals.energyMicrojoules, 0)))
            if !running { watts = 0 }
            var row = MetricsSnapshot.Job(
                id: stored.jobID, name: stored.name, user: stored.user, microjoules: microjoules, watts: watts,
                cpuMicroseconds: UInt64(max(totals.cpuMicroseconds, 0)), co2Grams: totals.co2Grams)
            row.microjoulesByKind = byKind.indices.map { export("job:" + stored.id + ":" + DomainKind.allCases[$0].rawValue, byKind[$0]).0 }
            let key = row.id + "\u{0}" + row.name + "\u{0}" + row.user
            if var same = jobs[key] {  // one fleet-wide job id registered twice here: one series
                same.microjoules += row.microjoules
                same.watts += row.watts
                same.cpuMicroseconds += row.cpuMicroseconds
                same.co2Grams += row.co2Grams
                for kind in same.microjoulesByKind.indices { same.microjoulesByKind[kind] += row.microjoulesByKind[kind] }
                jobs[key] = same
            } else {
                jobs[key] = row
            }
        }
        let kindOf = meters.domains.map { domain in DomainKind.allCases.firstIndex(of: domain.kind)! }
        for job in active.values {
            var byKind = [UInt64](repeating: 0, count: DomainKind.allCases.count)
            for slot in job.domainEnergy.indices { byKind[kindOf[slot / ActiveJob.sourceCount]] += job.domainEnergy[slot] }
            add(job.stored, job.totals, byKind: byKind, running: true)
        }
        for (id, entry) in exported.ended {
            if entry.leaves <= now {
                exported.ended.removeValue(forKey: id)
            } else {
                var byKind = [UInt64](repeating: 0, count: DomainKind.allCases.count)
                for row in entry.totals.domains { byKind[DomainKind.allCases.firstIndex(of: row.kind)!] += UInt64(max(row.energyMicrojoules, 0)) }
                add(entry.job, entry.totals, byKind: byKind, running: false)
            }
        }
        snapshot.jobs = jobs.values.sorted { ($0.id, $0.name, $0.user) < ($1.id, $1.name, $1.user) }
        snapshot.idleMicrojoules = resolution.coarsen(ledger.idleTotal)
        snapshot.systemMicrojoules = resolution.coarsen(ledger.systemTotal)
        snapshot.tickSeconds = exported.tickSeconds
        snapshot.tickLatenessSeconds = exported.tickLateness
        snapshot.probeErrors = exported.probeErrors

        exported.lastExported = current
        exported.lastPublishNanoseconds = now
        board.publish(MetricsExposition.render(snapshot), tick: ticks, at: now)
    }
}
