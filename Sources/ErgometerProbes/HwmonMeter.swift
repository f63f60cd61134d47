public import ErgometerCore

/// The hwmon sensors the box's energy counts (`PowerSensorSelection`) as domains: one `gpu`
/// domain per GPU chip (`gpu-<PCI slot>`), and one `platform` domain for the box's meter (the
/// ACPI power meter, or every PSU summed). Energy counters (`energyN_input`, µJ) are
/// subtracted within a boot, a reading below the last one being a new epoch (driver reload,
/// counter reset: that interval's energy is unknown and counted, never subtracted); power
/// gauges (`powerN_average` / `powerN_input`, µW) are integrated by the trapezoid between the
/// tick's readings. Each sensor file is kept open and re-read with one `pread`.
public struct HwmonMeter: EnergyMeter {
    /// One counted sensor and what the next tick needs from the last.
    struct Sensor: Sendable {
        var reading: PowerSensorReading
        var domain: Int
        var file: KeptOpenFile
        var counter: EnergyCounterReading?
        var gauge = GaugeIntegral()
        var readable = true
    }

    public private(set) var domains: [EnergyDomain] = []
    var sensors: [Sensor] = []
    /// A buffer for the reads (a number attribute is a few bytes).
    let buffer = ReadBuffer(byteCount: 64)
    public private(set) var problem: String?
    /// Intervals whose energy was lost to a counter going backwards or a failed read.
    public private(set) var lostIntervals: UInt64 = 0
    /// Energy counted per domain since the meter started (what /metrics exports).
    public private(set) var totals: [UInt64] = []

    /// The meter over the counted sensors of `readings` (a probe's), one domain per GPU chip and
    /// one for the platform; no domain at all when nothing is counted.
    public init(counting readings: [PowerSensorReading]) {
        var domainIndex: [String: Int] = [:]
        for reading in readings where reading.countedInHost {
            let domain: EnergyDomain
            switch reading.sensorClass {
            case .gpu:
                domain = EnergyDomain(
                    name: "gpu-" + (reading.pciSlot ?? reading.chip), kind: .gpu, pciSlot: reading.pciSlot,
                    detail: "\(reading.chip) \(reading.descriptor.sensor)")
            case .platform:
                domain = EnergyDomain(name: "platform", kind: .platform, detail: "\(reading.chip) \(reading.descriptor.sensor)")
            case .cpu, .other: continue
            }
            let index: Int
            if let known = domainIndex[domain.name] {
                index = known
                domains[index].detail += " + \(reading.chip) \(reading.descriptor.sensor)"
            } else {
                index = domains.count
                domainIndex[domain.name] = index
                domains.append(domain)
            }
            sensors.append(Sensor(reading: reading, domain: index, file: KeptOpenFile(path: reading.path)))
        }
        totals = [UInt64](repeating: 0, count: domains.count)
    }

    /// The source of each domain: its first sensor's.
    public func source(ofDomain index: Int) -> EnergySource {
        sensors.first { $0.domain == index }?.reading.source ?? .hwmonPower
    }

    public mutating func prime(bootID: String) {
        for index in sensors.indices {
            guard let value = read(index) else { continue }
            switch sensors[index].reading.descriptor.kind {
            case .energy: sensors[index].counter = EnergyCounterReading(microjoules: value, maxRangeMicrojoules: nil, bootID: bootID)
            case .power: _ = sensors[index].gauge.add(microwatts: value, afterNanoseconds: 0)
            }
        }
    }

    public mutating func measure(_ tick: MeterTick, into readings: inout [DomainEnergy], at offset: Int) {
        problem = nil
        for domain in domains.indices { readings[offset + domain] = DomainEnergy(microjoules: 0, source: source(ofDomain: domain)) }
        for index in sensors.indices {
            let domain = sensors[index].domain
            guard let value = read(index) else {
                // A gauge's interval is unknown; a counter keeps its last reading, so the next
                // good read covers the gap (same boot).
                sensors[index].gauge.reset()
                problem = "\(sensors[index].reading.path) could not be read"
                if sensors[index].readable { lostIntervals += 1 }
                sensors[index].readable = false
                continue
            }
            sensors[index].readable = true
            var microjoules: UInt64 = 0
            switch sensors[index].reading.descriptor.kind {
            case .energy:
                let current = EnergyCounterReading(microjoules: value, maxRangeMicrojoules: nil, bootID: tick.bootID)
                if let previous = sensors[index].counter {
                    if let delta = current.delta(since: previous).microjoules {
                        microjoules = delta
                    } else {
                        problem = "\(sensors[index].reading.chip) \(sensors[index].reading.descriptor.sensor) went backwards (a new epoch)"
                        lostIntervals += 1
                    }
                }
                sensors[index].counter = current
            case .power:
                microjoules = sensors[index].gauge.add(microwatts: value, afterNanoseconds: tick.nanoseconds)
            }
            readings[offset + domain].microjoules += microjoules
            totals[domain] += microjoules
        }
    }

    private func read(_ index: Int) -> UInt64? {
        guard case .success(let value?) = sensors[index].file.read(into: buffer.bytes, SysfsFile.parseUInt64) else { return nil }
        return value
    }

    public var savedReadings: [String: UInt64] {
        var saved: [String: UInt64] = [:]
        for sensor in sensors { if let counter = sensor.counter { saved[Self.key(sensor.reading)] = counter.microjoules } }
        return saved
    }

    public mutating func restore(_ readings: [String: UInt64], bootID: String) {
        for index in sensors.indices {
            guard let value = readings[Self.key(sensors[index].reading)] else { continue }
            sensors[index].counter = EnergyCounterReading(microjoules: value, maxRangeMicrojoules: nil, bootID: bootID)
        }
    }

    static func key(_ reading: PowerSensorReading) -> String { "hwmon:" + reading.chip + ":" + reading.descriptor.sensor }
}
