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
    var probeErrors: [String: UInt64] = ["rapl": 0, "procstat": 0, "cgroup": 0, "temperature": 0, "store": 0]
    var lastPublishNanoseconds: UInt64?
    /// Exported (floored) energy per zone key or job id at the last publication.
    var lastExported: [String: UInt64] = [:]
    /// Ended jobs still shown, with when they leave (monotonic nanoseconds).
    var ended: [String: (job: StoredJob, totals: JobTotals, leaves: UInt64)] = [:]

    init(resolution: EnergyResolution) {
        self.resolution = resolution
    }

    mutating func count(_ probe: String) {
        probeErrors[probe, default: 0] += 1
    }
}

extension Sampler {
    /// Publishes the state of the last tick when the page is missing or stale; a scrape calls
    /// this only after the board said so, and concurrent scrapes find it fresh here.
    public func publishMetricsIfStale() {
        let now = MonotonicClock.nanoseconds()
        if board.current(now: now) != nil { return }
        publishMetrics(now: now)
    }

    /// Publishes now, whatever the page's age (benchmarks; tests).
    public func publishMetricsNow() {
        publishMetrics(now: MonotonicClock.nanoseconds())
    }

    /// Keeps an ended job on the page for the grace period.
    func keepForMetrics(_ job: StoredJob, totals: JobTotals) {
        let now = MonotonicClock.nanoseconds()
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
        for zone in meter.zones {
            let key = EnergyMeter.key(zone.id)
            let (microjoules, watts) = export(key, meter.zoneTotals[zone.id] ?? 0)
            snapshot.zones.append(.init(zone: key, domain: zone.domain.rawValue, socket: zone.socket, source: .rapl, microjoules: microjoules, watts: watts))
        }
        if meter.modelTotal > 0 || meter.zones.isEmpty {
            let (microjoules, watts) = export("model", meter.modelTotal)
            snapshot.zones.append(.init(zone: "model", domain: "host", socket: nil, source: .model, microjoules: microjoules, watts: watts))
        }
        snapshot.temperatures = currentTemperatures(now: now)
        snapshot.cpuBusyRatio = lastBusyRatio

        var jobs: [String: MetricsSnapshot.Job] = [:]
        func add(_ stored: StoredJob, _ totals: JobTotals, running: Bool) {
            var (microjoules, watts) = export("job:" + stored.id, UInt64(max(totals.energyMicrojoules, 0)))
            if !running { watts = 0 }
            let row = MetricsSnapshot.Job(
                id: stored.jobID, name: stored.name, user: stored.user, microjoules: microjoules, watts: watts,
                cpuMicroseconds: UInt64(max(totals.cpuMicroseconds, 0)), co2Grams: totals.co2Grams)
            let key = row.id + "\u{0}" + row.name + "\u{0}" + row.user
            if var same = jobs[key] {  // one fleet-wide job id registered twice here: one series
                same.microjoules += row.microjoules
                same.watts += row.watts
                same.cpuMicroseconds += row.cpuMicroseconds
                same.co2Grams += row.co2Grams
                jobs[key] = same
            } else {
                jobs[key] = row
            }
        }
        for job in active.values { add(job.stored, job.totals, running: true) }
        for (id, entry) in exported.ended {
            if entry.leaves <= now {
                exported.ended.removeValue(forKey: id)
            } else {
                add(entry.job, entry.totals, running: false)
            }
        }
        snapshot.jobs = jobs.values.sorted { ($0.id, $0.name, $0.user) < ($1.id, $1.name, $1.user) }
        snapshot.idleMicrojoules = resolution.coarsen(idleMicrojoules)
        snapshot.systemMicrojoules = resolution.coarsen(systemMicrojoules)
        snapshot.tickSeconds = exported.tickSeconds
        snapshot.tickLatenessSeconds = exported.tickLateness
        snapshot.probeErrors = exported.probeErrors

        exported.lastExported = current
        exported.lastPublishNanoseconds = now
        board.publish(MetricsExposition.render(snapshot), tick: ticks, at: now)
    }
}
