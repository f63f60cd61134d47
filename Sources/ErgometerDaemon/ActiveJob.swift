import ErgometerCore
import ErgometerStore
import ErgometerWire
import Foundation

/// A job being measured: its registration, running totals, and what the next tick needs.
struct ActiveJob {
    enum Tracking {
        case cgroup(String)
        case processTree(root: Int32)
    }

    var stored: StoredJob
    var totals: JobTotals
    var tracking: Tracking
    /// The cumulative CPU counter at the last tick, microseconds.
    var lastUsage: UInt64
    /// The registering process and the cgroup it came from, to move it back at the end.
    var owner: (pid: Int32, cgroup: String)?
    /// Per sensor (`chip\tsensor`): sum, count, max of readings while the job ran.
    var temperatures: [String: [Double]]
    /// Time-weighted carbon intensity: Σ intensity × seconds, and Σ seconds.
    var intensitySeconds: Double = 0
    var measuredSeconds: Double = 0
    /// The per-minute sample being filled once the job is past its first hour.
    var minuteSample: JobSample?

    /// Energy, CPU and carbon of one tick into the running totals.
    mutating func add(
        microjoules: UInt64, idleShare: UInt64, cpuMicroseconds: UInt64, meter: EnergyMeter.Reading, seconds: Double,
        carbon: CarbonAccounting, from start: Double, to end: Double
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
        totals.co2Grams += carbon.grams(joules: joules, from: start, to: end)
        totals.cost += carbon.cost(joules: joules, from: start, to: end) ?? 0
        totals.currency = carbon.price == nil ? nil : carbon.currency
        totals.pue = carbon.pue
        if seconds > 0 { totals.peakWatts = max(totals.peakWatts, joules / seconds) }
        intensitySeconds += carbon.intensity.average(from: start, to: end) * seconds
        measuredSeconds += seconds
        totals.intensityGramsPerKWh = measuredSeconds > 0 ? intensitySeconds / measuredSeconds : carbon.intensity.value(at: end)
    }

    mutating func observe(_ readings: [TemperatureReading]) {
        for reading in readings {
            let key = reading.chip + "\t" + reading.sensor
            var stats = temperatures[key] ?? [0, 0, -Double.infinity]
            stats[0] += reading.celsius
            stats[1] += 1
            stats[2] = max(stats[2], reading.celsius)
            temperatures[key] = stats
        }
    }

    /// Writes the temperature statistics into the totals (at a checkpoint, not every tick).
    mutating func encodeTemperatures() {
        if let data = try? JSONEncoder().encode(temperatures) {
            totals.temperaturesJSON = String(decoding: data, as: UTF8.self)
        }
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
