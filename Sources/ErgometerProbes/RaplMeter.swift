public import ErgometerCore

/// The CPU packages' and DRAM's energy between two ticks, as two domains (`cpu-package`: every
/// package summed; `dram`): RAPL when every one of those counters can be read and subtracted,
/// else the power model for that tick (source `model`, all of it in `cpu-package`).
public struct RaplMeter: EnergyMeter {
    /// One tick's energy.
    public struct Reading: Sendable {
        public var microjoules: UInt64
        public var packageMicrojoules: UInt64
        public var dramMicrojoules: UInt64
        public var source: EnergySource
        /// Why the model was used though RAPL zones exist (a zone vanished, a counter reset).
        public var fallbackReason: String?
    }

    public let domains = [
        EnergyDomain(name: "cpu-package", kind: .cpuPackage, detail: "RAPL packages, else the power model"),
        EnergyDomain(name: "dram", kind: .dram, detail: "RAPL DRAM"),
    ]
    let sysfs: SysFS
    public let model: PowerModel
    /// Zones summed into host energy, found at start and again after a read fails.
    public private(set) var zones: [PowercapZone] = []
    /// Each zone's `energy_uj` kept open where the kernel generates it (real sysfs), else nil:
    /// opened for each read (a fixture tree).
    private var energyFiles: [KeptOpenFile?] = []
    private(set) var last: [PowercapZoneID: EnergyCounterReading] = [:]
    private var rediscoverAfterNanoseconds: UInt64 = 0
    /// Energy counted per zone since ergod started (what /metrics exports per zone).
    public private(set) var zoneTotals: [PowercapZoneID: UInt64] = [:]
    /// Energy of the ticks the model estimated.
    public private(set) var modelTotal: UInt64 = 0
    /// Why the last tick was estimated though RAPL zones exist.
    public private(set) var problem: String?
    /// Highest power a single zone is believed able to draw; a wrap implying more is a reset.
    public static let plausibleZoneWatts = EnergyCounterReading.plausibleZoneWatts

    public init(sysfs: SysFS, model: PowerModel) {
        self.sysfs = sysfs
        self.model = model
        setZones(Self.hostZones(sysfs: sysfs))
    }

    private mutating func setZones(_ found: [PowercapZone]) {
        zones = found
        energyFiles = found.map { KernelFileSystem.keptOpenIfSafe($0.energyPath, treeChangesInPlace: sysfs.changesInPlace) }
    }

    /// A zone's counter now: a `pread` of its kept descriptor, or an open and read.
    private func readEnergy(_ index: Int) -> Result<UInt64, FileReadError> {
        guard let file = energyFiles[index] else { return zones[index].readEnergy() }
        return withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { buffer in
            file.read(into: buffer, SysfsFile.parseUInt64).flatMap { value in
                value.map { .success($0) } ?? .failure(FileReadError(path: file.path, errno: 0, detail: "(not a number)"))
            }
        }
    }

    static func hostZones(sysfs: SysFS) -> [PowercapZone] {
        PowercapReader(sysfs: sysfs).discover().zones.filter { !$0.id.isDuplicateInterface && ($0.domain == .package || $0.domain == .dram) }
    }

    public var hasRapl: Bool { !zones.isEmpty }

    /// The shortest time in which a zone's counter could wrap twice unseen, at plausible power.
    public var shortestWrapSeconds: Double? {
        zones.compactMap { $0.maxEnergyRangeMicrojoules }.map { Double($0) / 1e6 / Self.plausibleZoneWatts }.min()
    }

    /// Restores the counter readings saved at a checkpoint (same boot only).
    public mutating func restore(_ readings: [String: UInt64], bootID: String) {
        for zone in zones {
            guard let value = readings[Self.key(zone.id)] else { continue }
            last[zone.id] = EnergyCounterReading(microjoules: value, maxRangeMicrojoules: zone.maxEnergyRangeMicrojoules, bootID: bootID)
        }
    }

    /// The readings to save at a checkpoint.
    public var savedReadings: [String: UInt64] {
        Dictionary(uniqueKeysWithValues: last.map { (Self.key($0.key), $0.value.microjoules) })
    }

    public static func key(_ id: PowercapZoneID) -> String {
        id.controlType + ":" + id.path.map { String($0, radix: 16) }.joined(separator: ":")
    }

    /// Reads every counter to set the baseline of the next `measure`.
    public mutating func prime(bootID: String) {
        for zone in zones {
            if case .success(let value) = zone.readEnergy() {
                last[zone.id] = EnergyCounterReading(microjoules: value, maxRangeMicrojoules: zone.maxEnergyRangeMicrojoules, bootID: bootID)
            }
        }
    }

    /// Reads every zone now and returns the host energy since the previous reading. When any
    /// counted zone cannot be read or subtracted, the whole tick is estimated by the model, so
    /// the tick's figure has one source.
    public mutating func measure(_ tick: MeterTick, into readings: inout [DomainEnergy], at offset: Int) {
        let reading = measure(seconds: tick.seconds, busyRatio: tick.busyRatio, bootID: tick.bootID, now: tick.now)
        problem = reading.fallbackReason
        readings[offset] = DomainEnergy(microjoules: reading.packageMicrojoules, source: reading.source)
        readings[offset + 1] = DomainEnergy(microjoules: reading.dramMicrojoules, source: reading.source)
    }

    public mutating func measure(seconds: Double, busyRatio: Double, bootID: String, now: UInt64) -> Reading {
        if now >= rediscoverAfterNanoseconds && (zones.isEmpty || zones.count != last.count) {
            setZones(Self.hostZones(sysfs: sysfs))
            rediscoverAfterNanoseconds = now + 10_000_000_000
        }
        var package: UInt64 = 0
        var dram: UInt64 = 0
        var reason: String?
        for (index, zone) in zones.enumerated() {
            guard case .success(let value) = readEnergy(index) else {
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
            guard let delta = reading.delta(since: previous, overSeconds: seconds).microjoules else {
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
