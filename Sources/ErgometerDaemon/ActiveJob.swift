import ErgometerCore
import ErgometerProbes
import ErgometerStore
import ErgometerWire
import Foundation

/// A job being measured: its registration, running totals, and what the next tick needs.
struct ActiveJob {
    enum Tracking {
        case cgroup(String)
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
    /// Per sensor (`chip\tsensor`): sum, count, max of readings before a restart (from the store).
    var temperatures: [String: [Double]]
    /// Readings since this process took the job, by the sampler's sensor index: updated in place
    /// every tick, without a string or a dictionary.
    var temperatureStats: [TemperatureStat] = []
    /// The cgroup's `cpu.stat`, opened on the first tick and kept open while the job runs.
    var cpuStat: KeptOpenFile?
    /// CPU counter read this tick, and the increase since the last one.
    var tickUsage: UInt64 = 0
    var tickDelta: UInt64 = 0
    /// CPU used since `endVanishedJobs` last looked at this job, and whether its counter failed
    /// to read since (a removed cgroup): a job that used CPU and still reads is not looked at.
    var cpuSinceVanishCheck: UInt64 = 0
    var counterFailedSinceVanishCheck = false
    /// Energy in this ledger period (`Sampler.ledgerJobs` holds the jobs that ended).
    var ledgerMicrojoules: UInt64 = 0
    /// Time-weighted carbon intensity: Σ intensity × seconds, and Σ seconds.
    var intensitySeconds: Double = 0
    var measuredSeconds: Double = 0
    /// The per-minute sample being filled once the job is past its first hour.
    var minuteSample: JobSample?

    /// Closes a tick for this job: its share of the energy into the totals, the CPU counter
    /// read this tick becomes the baseline, temperatures when read; returns the sample to keep.
    mutating func close(
        tick microjoules: UInt64, idleShare: UInt64, meter: EnergyMeter.Reading, seconds: Double, carbon: CarbonAccounting.TickFactors,
        temperatures: [(index: Int, celsius: Double)], start: Double, end: Double
    ) -> JobSample? {
        add(microjoules: microjoules, idleShare: idleShare, cpuMicroseconds: tickDelta, meter: meter, seconds: seconds, carbon: carbon)
        lastUsage = tickUsage
        cpuSinceVanishCheck &+= tickDelta
        ledgerMicrojoules += microjoules
        totals.lastUsageMicroseconds = Int64(tickUsage)
        if !temperatures.isEmpty { observe(temperatures) }
        return sample(start: start, end: end, microjoules: microjoules, cpuMicroseconds: tickDelta)
    }

    /// Energy, CPU and carbon of one tick into the running totals.
    mutating func add(
        microjoules: UInt64, idleShare: UInt64, cpuMicroseconds: UInt64, meter: EnergyMeter.Reading, seconds: Double,
        carbon: CarbonAccounting.TickFactors
    ) {
        let joules = Double(microjoules) / 1e6
        totals.energyMicrojoules += Int64(microjoules)
        if meter.microjoules > 0 {
            let dramPart = UInt64((Double(microjoules) * Double(meter.dramMicrojoules) / Double(meter.microjoules)).rounded())
            totals.dramMicrojoules += Int64(min(dramPart, microjoules))
            totals.packageMicrojoules += Int64(microjoules - min(dramPart, microjoules))
        }
        totals.idleShareMicrojoules += Int64(idleShare)
        if meter.source == .rapl { totals.raplMicrojoules += Int64(microjoules) } else { totals.modelMicrojoules += Int64(microjoules) }
        totals.cpuMicroseconds += Int64(cpuMicroseconds)
        totals.co2Grams += joules * carbon.gramsPerJoule
        totals.cost += joules * (carbon.costPerJoule ?? 0)
        totals.currency = carbon.currency
        totals.pue = carbon.pue
        if seconds > 0 { totals.peakWatts = max(totals.peakWatts, joules / seconds) }
        intensitySeconds += carbon.intensity * seconds
        measuredSeconds += seconds
        totals.intensityGramsPerKWh = measuredSeconds > 0 ? intensitySeconds / measuredSeconds : carbon.intensity
    }

    /// One tick's readings, as (sensor index, °C).
    mutating func observe(_ readings: [(index: Int, celsius: Double)]) {
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
    mutating func encodeTemperatures(sensorKeys: [String]) {
        var merged = temperatures
        for (index, stat) in temperatureStats.enumerated() where stat.count > 0 && index < sensorKeys.count {
            var entry = merged[sensorKeys[index]] ?? [0, 0, -Double.infinity]
            entry[0] += stat.sum
            entry[1] += stat.count
            entry[2] = Swift.max(entry[2], stat.max)
            merged[sensorKeys[index]] = entry
        }
        totals.temperaturesJSON = TemperatureStatisticsJSON.encode(merged)
    }

    /// The samples this tick adds to the time series: one per tick for the first hour, then one
    /// per minute (returned when the minute is complete).
    mutating func sample(start: Double, end: Double, microjoules: UInt64, cpuMicroseconds: UInt64) -> JobSample? {
        let tick = JobSample(jobID: stored.id, start: start, end: end, energyMicrojoules: Int64(microjoules), cpuMicroseconds: Int64(cpuMicroseconds))
        guard end - stored.started > 3600 else { return tick }
        // A tick belongs to the minute it started in, so each per-minute sample is one bucket.
        let minute = (start / 60).rounded(.down)
        if var current = minuteSample, (current.start / 60).rounded(.down) == minute {
            current.end = end
            current.energyMicrojoules += tick.energyMicrojoules
            current.cpuMicroseconds += tick.cpuMicroseconds
            minuteSample = current
            return nil
        }
        let finished = minuteSample
        minuteSample = tick
        return finished
    }

    /// The minute being filled, at the job's end.
    mutating func flushMinute() -> JobSample? {
        defer { minuteSample = nil }
        return minuteSample
    }
}
