import ErgometerCore
import ErgometerProbes

/// The host's energy between two ticks: RAPL packages + DRAM when every one of those counters
/// can be read and subtracted, else the power model for that tick (marked `model`).
struct EnergyMeter {
    /// One tick's host energy.
    struct Reading {
        var microjoules: UInt64
        var packageMicrojoules: UInt64
        var dramMicrojoules: UInt64
        var source: PowerSourceKind
        /// Why the model was used though RAPL zones exist (a zone vanished, a counter reset).
        var fallbackReason: String?
    }

    let sysfs: SysFS
    let model: PowerModel
    /// Zones summed into host energy, found at start and again after a read fails.
    private(set) var zones: [PowercapZone] = []
    private(set) var last: [PowercapZoneID: EnergyCounterReading] = [:]
    private var rediscoverAfterNanoseconds: UInt64 = 0
    /// Energy counted per zone since ergod started (what /metrics exports per zone).
    private(set) var zoneTotals: [PowercapZoneID: UInt64] = [:]
    /// Energy of the ticks the model estimated.
    private(set) var modelTotal: UInt64 = 0
    /// Highest power a single zone is believed able to draw; a wrap implying more is a reset.
    static let plausibleZoneWatts = 4000.0

    init(sysfs: SysFS, model: PowerModel) {
        self.sysfs = sysfs
        self.model = model
        zones = Self.hostZones(sysfs: sysfs)
    }

    static func hostZones(sysfs: SysFS) -> [PowercapZone] {
        PowercapReader(sysfs: sysfs).discover().zones.filter { !$0.id.isDuplicateInterface && ($0.domain == .package || $0.domain == .dram) }
    }

    var hasRapl: Bool { !zones.isEmpty }

    /// The shortest time in which a zone's counter could wrap twice unseen, at plausible power.
    var shortestWrapSeconds: Double? {
        zones.compactMap { $0.maxEnergyRangeMicrojoules }.map { Double($0) / 1e6 / Self.plausibleZoneWatts }.min()
    }

    /// Restores the counter readings saved at a checkpoint (same boot only).
    mutating func restore(_ readings: [String: UInt64], bootID: String) {
        for zone in zones {
            guard let value = readings[Self.key(zone.id)] else { continue }
            last[zone.id] = EnergyCounterReading(microjoules: value, maxRangeMicrojoules: zone.maxEnergyRangeMicrojoules, bootID: bootID)
        }
    }

    /// The readings to save at a checkpoint.
    var savedReadings: [String: UInt64] {
        Dictionary(uniqueKeysWithValues: last.map { (Self.key($0.key), $0.value.microjoules) })
    }

    static func key(_ id: PowercapZoneID) -> String {
        id.controlType + ":" + id.path.map { String($0, radix: 16) }.joined(separator: ":")
    }

    /// Reads every counter to set the baseline of the next `measure`.
    mutating func prime(bootID: String) {
        for zone in zones {
            if case .success(let value) = zone.readEnergy() {
                last[zone.id] = EnergyCounterReading(microjoules: value, maxRangeMicrojoules: zone.maxEnergyRangeMicrojoules, bootID: bootID)
            }
        }
    }

    /// Reads every zone now and returns the host energy since the previous reading. When any
    /// counted zone cannot be read or subtracted, the whole tick is estimated by the model, so
    /// the tick's figure has one source.
    mutating func measure(seconds: Double, busyRatio: Double, bootID: String, now: UInt64) -> Reading {
        if now >= rediscoverAfterNanoseconds && (zones.isEmpty || zones.count != last.count) {
            zones = Self.hostZones(sysfs: sysfs)
            rediscoverAfterNanoseconds = now + 10_000_000_000
        }
        var package: UInt64 = 0
        var dram: UInt64 = 0
        var reason: String?
        let ceiling = UInt64(Self.plausibleZoneWatts * max(seconds, 0.001) * 1e6)
        for zone in zones {
            guard case .success(let value) = zone.readEnergy() else {
                reason = "\(zone.name) at \(zone.path) could not be read"
                last.removeValue(forKey: zone.id)
                continue
            }
            let reading = EnergyCounterReading(microjoules: value, maxRangeMicrojoules: zone.maxEnergyRangeMicrojoules, bootID: bootID)
            let previous = last.updateValue(reading, forKey: zone.id)
            guard let previous else {
                reason = reason ?? "\(zone.name) has no earlier reading"
                continue
            }
            guard let delta = reading.delta(since: previous, ceilingMicrojoules: ceiling).microjoules else {
                reason = reason ?? "\(zone.name) counter went backwards (reset)"
                continue
            }
            if zone.domain == .dram { dram += delta } else { package += delta }
            zoneTotals[zone.id, default: 0] += delta
        }
        if !zones.isEmpty && reason == nil {
            return Reading(microjoules: package + dram, packageMicrojoules: package, dramMicrojoules: dram, source: .rapl)
        }
        let estimate = UInt64((model.watts(utilization: busyRatio) * max(seconds, 0) * 1e6).rounded())
        modelTotal += estimate
        return Reading(microjoules: estimate, packageMicrojoules: estimate, dramMicrojoules: 0, source: .model, fallbackReason: reason)
    }
}
