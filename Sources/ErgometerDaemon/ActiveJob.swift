import ErgometerCore
import ErgometerProbes
import ErgometerStore
import ErgometerWire
import Foundation

/// A job being measured: its registration, running totals, and what the next tick needs.
struct ActiveJob {
    enum Tracking {
        /// A cgroup v2 path: ergod's own (`ergo run`) or a scheduler's.
        case cgroup(String)
        /// A path in the v1 cpuacct hierarchy (Slurm on v1 and hybrid hosts).
        case cgroupV1(String)
        case processTree(root: Int32)
    }

    /// Sum, count and maximum of one sensor's readings while the job ran.
    struct TemperatureStat {
        var sum = 0.0
        var count = 0.0
        var max = -Double.infinity
    }

    var stored: StoredJob
    var totals: JobTotals
    var tracking: Tracking
    /// The cumulative CPU counter at the last tick, microseconds.
    var lastUsage: UInt64
    /// The registering process and the cgroup it came from, to move it back at the end.
    var owner: (pid: Int32, cgroup: String)?
    /// The scheduler's job this one runs inside (an `ergo run` in a Slurm job): that job's
    /// counter includes this one's CPU, which is taken out of it each tick.
    var enclosingJob: String?
    /// Per sensor (`chip\tsensor`): sum, count, max of readings before a restart (from the store).
    var temperatures: [String: [Double]]
    /// Readings since this process took the job, by the sampler's sensor index: updated in place
    /// every tick, without a string or a dictionary.
    var temperatureStats: [TemperatureStat] = []
    /// Whether a reading came since `encodeTemperatures` last wrote the totals' text.
    var temperaturesChanged = true
    /// The cgroup's `cpu.stat`, opened on the first tick and kept open while the job runs.
    var cpuStat: KeptOpenFile?
    /// CPU counter read this tick, and the increase since the last one.
    var tickUsage: UInt64 = 0
    var tickDelta: UInt64 = 0
    /// The job's energy over the last closed tick (`ergo top`'s "now"; its CPU is `tickDelta`).
    var lastTickMicrojoules: UInt64 = 0
    /// CPU used since `endVanishedJobs` last looked at this job, and whether its counter failed
    /// to read since (a removed cgroup): a job that used CPU and still reads is not looked at.
    var cpuSinceVanishCheck: UInt64 = 0
    var counterFailedSinceVanishCheck = false
    /// Energy in this ledger period, per domain (the ledger holds the jobs that ended).
    var ledgerByDomain: [UInt64] = []
    /// Energy and its idle share per domain and source, at `domain * sourceCount + source`:
    /// updated in place each tick, turned into `totals.domains` at a checkpoint.
    var domainEnergy: [UInt64] = []
    var domainIdleShare: [UInt64] = []
    /// Cumulative DRM busy time per PCI slot at the last read, and each domain's increase over
    /// the last window (the job's GPU weights; see `Sampler.refreshGPUUseIfDue`).
    /// For NVIDIA GPUs `gpuUse` is the tick's SM weight of the job's processes
    /// (`Sampler.observeNVMLUse`).
    var drmBusy: [String: UInt64] = [:]
    var gpuUse: [UInt64] = []
    /// Seconds the job used each GPU domain, and whether it used one in MIG mode (board-level
    /// power); entries restored for GPUs this run does not have are carried as they were.
    var gpuSeconds: [Double] = []
    var gpuBoardLevel: [Bool] = []
    var carriedGPUs: [JobGPUUse] = []
    /// Rows restored from the store for domains this run does not have (a GPU taken out).
    var carriedDomains: [DomainTotal] = []
    /// Time-weighted carbon intensity: Σ intensity × seconds, and Σ seconds.
    var intensitySeconds: Double = 0
    var measuredSeconds: Double = 0
    /// The per-minute sample being filled once the job is past its first hour, and its energy
    /// per domain and source so far (at `domain * sourceCount + source`, domains named by
    /// `sampleDomainNames`: the domains the accumulators were sized for).
    var minuteSample: JobSample?
    var minuteEnergy: [UInt64] = []
    var sampleDomainNames: [String] = []

    static let sourceCount = EnergySource.allCases.count

    /// Sizes the per-domain accumulators for the sampler's domains and loads what the store
    /// had for them (a restart), keeping rows of unknown domains as they were.
    mutating func adopt(domains: [EnergyDomain]) {
        // A minute being filled keeps what it has under the old domains' names.
        if var minute = minuteSample {
            minute.domains = SampleDomainsColumn.sum(minute.domains, takeMinuteEnergy())
            minuteSample = minute
        }
        sampleDomainNames = domains.map(\.name)
        minuteEnergy = [UInt64](repeating: 0, count: domains.count * Self.sourceCount)
        ledgerByDomain = [UInt64](repeating: 0, count: domains.count)
        domainEnergy = [UInt64](repeating: 0, count: domains.count * Self.sourceCount)
        domainIdleShare = domainEnergy
        carriedDomains = []
        gpuSeconds = [Double](repeating: 0, count: domains.count)
        gpuBoardLevel = [Bool](repeating: false, count: domains.count)
        carriedGPUs = []
        for gpu in totals.gpus {
            guard let index = domains.firstIndex(where: { $0.name == gpu.domain }) else {
                carriedGPUs.append(gpu)
                continue
            }
            gpuSeconds[index] += gpu.gpuSeconds
            gpuBoardLevel[index] = gpuBoardLevel[index] || gpu.boardLevel
        }
        for row in totals.domains {
            guard let index = domains.firstIndex(where: { $0.name == row.domain }) else {
                carriedDomains.append(row)
                continue
            }
            domainEnergy[index * Self.sourceCount + row.source.ordinal] += UInt64(max(row.energyMicrojoules, 0))
            domainIdleShare[index * Self.sourceCount + row.source.ordinal] += UInt64(max(row.idleShareMicrojoules, 0))
        }
    }

    /// Writes the per-domain accumulators into `totals.domains` (at a checkpoint and the end).
    mutating func encodeDomains(_ domains: [EnergyDomain]) {
        totals.domains = domainTotals(domains)
        let gpus = gpuTotals(domains)
        // Most jobs use no GPU: their "[]" stays, without a JSON encoder each checkpoint.
        if !(gpus.isEmpty && totals.gpusJSON == "[]") { totals.gpus = gpus }
    }

    /// The totals with the per-domain accumulators written in (a live report).
    func currentTotals(_ domains: [EnergyDomain]) -> JobTotals {
        var current = totals
        current.domains = domainTotals(domains)
        current.gpus = gpuTotals(domains)
        return current
    }

    /// The GPUs the job used, with the entries carried from a restart.
    func gpuTotals(_ domains: [EnergyDomain]) -> [JobGPUUse] {
        var gpus = carriedGPUs
        for (index, domain) in domains.enumerated() where index < gpuSeconds.count && gpuSeconds[index] > 0 {
            gpus.append(JobGPUUse(
                domain: domain.name, uuid: domain.uuid, name: domain.deviceName, pciSlot: domain.pciSlot, gpuSeconds: gpuSeconds[index],
                boardLevel: gpuBoardLevel[index]))
        }
        return gpus
    }

    /// The per-domain accumulators as store rows, with the rows carried from a restart.
    func domainTotals(_ domains: [EnergyDomain]) -> [DomainTotal] {
        var rows = carriedDomains
        for (index, domain) in domains.enumerated() {
            for source in EnergySource.allCases {
                let slot = index * Self.sourceCount + source.ordinal
                guard domainEnergy[slot] > 0 else { continue }
                rows.append(DomainTotal(
                    domain: domain.name, kind: domain.kind, source: source, energyMicrojoules: Int64(domainEnergy[slot]),
                    idleShareMicrojoules: Int64(domainIdleShare[slot])))
            }
        }
        return rows
    }

    /// Closes a tick for this job (position `job` of the split): its share of each domain into
    /// the totals, the CPU counter read this tick becomes the baseline, temperatures when read;
    /// returns the sample to keep.
    mutating func close(
        _ split: BoxAttribution, job position: Int, readings: [DomainEnergy], seconds: Double, carbon: CarbonAccounting.TickFactors,
        temperatures: [(index: Int, celsius: Double)], start: Double, end: Double
    ) -> JobSample? {
        let microjoules = add(split, job: position, readings: readings, seconds: seconds, carbon: carbon)
        lastTickMicrojoules = microjoules
        lastUsage = tickUsage
        cpuSinceVanishCheck &+= tickDelta
        totals.lastUsageMicroseconds = Int64(tickUsage)
        var hottest: Double?
        if !temperatures.isEmpty {
            observe(temperatures)
            for reading in temperatures { hottest = Swift.max(hottest ?? reading.celsius, reading.celsius) }
        }
        return sample(split, job: position, readings: readings, start: start, end: end, microjoules: microjoules, hottest: hottest)
    }

    /// Energy, CPU and carbon of one tick into the running totals; returns the tick's energy.
    /// Domains 0 and 1 are the CPU packages and DRAM (`BoxMeters`).
    mutating func add(
        _ split: BoxAttribution, job position: Int, readings: [DomainEnergy], seconds: Double, carbon: CarbonAccounting.TickFactors
    ) -> UInt64 {
        var microjoules: UInt64 = 0
        var idleShare: UInt64 = 0
        for domain in 0..<split.domainCount {
            let energy = split.job(position, domain: domain)
            guard energy > 0 else { continue }
            let idle = split.jobIdleShares[position * split.domainCount + domain]
            let slot = domain * Self.sourceCount + readings[domain].source.ordinal
            domainEnergy[slot] += energy
            domainIdleShare[slot] += idle
            ledgerByDomain[domain] += energy
            microjoules += energy
            idleShare += idle
        }
        if !gpuUse.isEmpty {
            for domain in gpuUse.indices where gpuUse[domain] > 0 { gpuSeconds[domain] += seconds }
        }
        let package = split.job(position, domain: 0)
        let dram = split.job(position, domain: 1)
        totals.packageMicrojoules += Int64(package)
        totals.dramMicrojoules += Int64(dram)
        if readings[0].source == .rapl { totals.raplMicrojoules += Int64(package + dram) } else { totals.modelMicrojoules += Int64(package + dram) }
        let joules = Double(microjoules) / 1e6
        totals.energyMicrojoules += Int64(microjoules)
        totals.idleShareMicrojoules += Int64(idleShare)
        totals.cpuMicroseconds += Int64(tickDelta)
        totals.co2Grams += joules * carbon.gramsPerJoule
        totals.cost += joules * (carbon.costPerJoule ?? 0)
        totals.currency = carbon.currency
        totals.pue = carbon.pue
        if seconds > 0 { totals.peakWatts = max(totals.peakWatts, joules / seconds) }
        intensitySeconds += carbon.intensity * seconds
        measuredSeconds += seconds
        totals.intensityGramsPerKWh = measuredSeconds > 0 ? intensitySeconds / measuredSeconds : carbon.intensity
        return microjoules
    }

    /// One tick's readings, as (sensor index, °C).
    mutating func observe(_ readings: [(index: Int, celsius: Double)]) {
        if !readings.isEmpty { temperaturesChanged = true }
        for reading in readings {
            if reading.index >= temperatureStats.count {
                temperatureStats += Array(repeating: TemperatureStat(), count: reading.index + 1 - temperatureStats.count)
            }
            temperatureStats[reading.index].sum += reading.celsius
            temperatureStats[reading.index].count += 1
            temperatureStats[reading.index].max = Swift.max(temperatureStats[reading.index].max, reading.celsius)
        }
    }

    /// Writes the temperature statistics into the totals (at a checkpoint, not every tick):
    /// what was restored plus what this process saw, keyed by `sensorKeys`.
    mutating func encodeTemperatures(sensorKeys: [TemperatureStatisticsJSON.Key]) {
        guard temperaturesChanged else { return }  // the same statistics, the same text
        temperaturesChanged = false
        var writer = TemperatureStatisticsJSON.Writer(entries: temperatureStats.count + temperatures.count)
        var merged = 0
        for (index, stat) in temperatureStats.enumerated() where stat.count > 0 && index < sensorKeys.count {
            var (sum, count, max) = (stat.sum, stat.count, stat.max)
            if let restored = temperatures[sensorKeys[index].text], restored.count == 3 {
                (sum, count, max) = (sum + restored[0], count + restored[1], Swift.max(max, restored[2]))
                merged += 1
            }
            writer.append(sensorKeys[index], sum: sum, count: count, max: max)
        }
        if merged < temperatures.count {  // sensors read before the restart and not since
            var current = Set<String>()
            for (index, stat) in temperatureStats.enumerated() where stat.count > 0 && index < sensorKeys.count { current.insert(sensorKeys[index].text) }
            for (key, values) in temperatures where !current.contains(key) { writer.append(key, values) }
        }
        totals.temperaturesJSON = writer.text
    }

    /// The samples this tick adds to the time series: one per tick for the first hour, then one
    /// per minute (returned when the minute is complete, its energy per domain and source
    /// written in). Each carries the hottest sensor read during it.
    mutating func sample(
        _ split: BoxAttribution, job position: Int, readings: [DomainEnergy], start: Double, end: Double, microjoules: UInt64, hottest: Double?
    ) -> JobSample? {
        // The first hour's ticks: their energy per domain goes beside the sample, as numbers
        // (`Sampler.appendSample`); no text is built on the tick.
        guard end - stored.started > 3600 else {
            return JobSample(
                jobID: stored.id, start: start, end: end, energyMicrojoules: Int64(microjoules), cpuMicroseconds: Int64(tickDelta),
                maxCelsius: hottest)
        }
        // A tick belongs to the minute it started in, so each per-minute sample is one bucket.
        let minute = (start / 60).rounded(.down)
        var finished: JobSample?
        if var current = minuteSample, (current.start / 60).rounded(.down) == minute {
            current.end = end
            current.energyMicrojoules += Int64(microjoules)
            current.cpuMicroseconds += Int64(tickDelta)
            if let hottest { current.maxCelsius = Swift.max(current.maxCelsius ?? hottest, hottest) }
            minuteSample = current
        } else {
            finished = flushMinute()
            minuteSample = JobSample(
                jobID: stored.id, start: start, end: end, energyMicrojoules: Int64(microjoules), cpuMicroseconds: Int64(tickDelta),
                perMinute: true, maxCelsius: hottest)
        }
        for domain in 0..<Swift.min(split.domainCount, sampleDomainNames.count) {
            minuteEnergy[domain * Self.sourceCount + readings[domain].source.ordinal] += split.job(position, domain: domain)
        }
        return finished
    }

    /// The minute being filled (at its end, or the job's), with its energy per domain written in.
    mutating func flushMinute() -> JobSample? {
        guard var minute = minuteSample else { return nil }
        minute.domains = SampleDomainsColumn.sum(minute.domains, takeMinuteEnergy())
        minuteSample = nil
        return minute
    }

    /// The minute's per-domain energy as the column's text; the accumulators start again at zero.
    private mutating func takeMinuteEnergy() -> String {
        var text = ""
        for slot in minuteEnergy.indices where minuteEnergy[slot] > 0 {
            let domain = slot / Self.sourceCount
            guard domain < sampleDomainNames.count else { continue }
            SampleDomainsColumn.append(
                domain: sampleDomainNames[domain], source: EnergySource.allCases[slot % Self.sourceCount], microjoules: minuteEnergy[slot], to: &text)
            minuteEnergy[slot] = 0
        }
        return text
    }
}
