/// What `ergo probe` prints: one snapshot, or two with the power and utilization between them.
/// The JSON keys are stable (documented in the README).
public struct ProbeReport: Codable, Sendable {
    public var rapl: [Zone]
    /// hwmon power and energy sensors (GPUs, the box's meter, CPU and other chips).
    public var powerSensors: [PowerSensor]
    public var temperatures: [TemperatureReading]
    public var cpu: CPU?
    public var memory: Memory?
    public var bootID: String?
    public var pci: [PCIDevice]
    public var powerSource: PowerSourceReport
    /// Seconds between the two snapshots (monotonic clock); nil for a single snapshot.
    public var intervalSeconds: Double?
    public var errors: [ProbeIssue]
    /// NVIDIA GPUs through NVML, and the library's status (why none is read, when none is).
    public var gpus: [GPU] = []
    public var nvml: NVMLStatus?

    enum CodingKeys: String, CodingKey {
        case rapl, powerSensors = "power_sensors", temperatures, cpu, memory, bootID = "boot_id", pci, powerSource = "power_source",
            intervalSeconds = "interval_seconds", errors, gpus, nvml
    }

    /// Adds NVML's GPUs (one reading, or two `seconds` apart) and its status.
    public mutating func addGPUs(first: [NVMLGPUReading], second: [NVMLGPUReading]?, seconds: Double?, status: NVMLStatus) {
        nvml = status
        let earlier = Dictionary(first.map { ($0.uuid, $0) }, uniquingKeysWith: { a, _ in a })
        gpus = (second ?? first).map { reading in
            GPU(reading, earlier: second == nil ? nil : earlier[reading.uuid], seconds: seconds, driverVersion: status.driverVersion)
        }
    }

    /// One RAPL zone. Energy is the raw counter in joules; power only over an interval.
    public struct Zone: Codable, Sendable, Equatable {
        public var name: String
        public var kind: RaplDomain
        public var socket: Int?
        public var path: String
        public var energyJoules: Double?
        public var maxEnergyJoules: Double?
        /// Whether the zone is part of host energy (packages and DRAM, not MMIO duplicates).
        public var countedInHost: Bool
        public var powerWatts: Double?
        /// Always `rapl`: a measured counter.
        public var source: PowerSourceKind = .rapl

        enum CodingKeys: String, CodingKey {
            case name, kind, socket, path, energyJoules = "energy_joules", maxEnergyJoules = "max_energy_joules",
                countedInHost = "counted_in_host", powerWatts = "power_watts", source
        }
    }

    /// One hwmon power or energy sensor: its reading now and, over an interval, its power.
    /// `label` and `pci_slot` are null when the chip has none; `watts` is set for power
    /// sensors, `energy_joules` (the raw counter) for energy sensors.
    public struct PowerSensor: Codable, Sendable, Equatable {
        public var chip: String
        public var driver: String
        public var sensor: String
        public var label: String?
        public var kind: PowerSensorKind
        public var `class`: PowerSensorClass
        public var pciSlot: String?
        public var watts: Double?
        public var energyJoules: Double?
        public var source: EnergySource
        public var reader: String
        public var countedInHost: Bool
        /// Why the box's energy does not count it.
        public var note: String?
        /// Power over the interval: the counter's increase over the seconds, or the mean of the
        /// gauge's two readings (the trapezoid); nil for one snapshot or a counter reset.
        public var powerWatts: Double?

        enum CodingKeys: String, CodingKey {
            case chip, driver, sensor, label, kind, `class`, pciSlot = "pci_slot", watts, energyJoules = "energy_joules",
                source, reader, countedInHost = "counted_in_host", note, powerWatts = "power_watts"
        }

        init(_ reading: PowerSensorReading, earlier: PowerSensorReading?, seconds: Double?) {
            chip = reading.chip
            driver = reading.driver
            sensor = reading.descriptor.sensor
            label = reading.descriptor.label
            kind = reading.descriptor.kind
            self.class = reading.sensorClass
            pciSlot = reading.pciSlot
            source = reading.source
            self.reader = reading.reader
            countedInHost = reading.countedInHost
            note = reading.note
            switch kind {
            case .power: watts = Double(reading.value) / 1e6
            case .energy: energyJoules = Double(reading.value) / 1e6
            }
            guard let earlier, let seconds, seconds > 0 else { return }
            switch kind {
            case .power: powerWatts = (Double(earlier.value) + Double(reading.value)) / 2 / 1e6
            case .energy where reading.value >= earlier.value: powerWatts = Double(reading.value - earlier.value) / 1e6 / seconds
            case .energy: break
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(chip, forKey: .chip)
            try container.encode(driver, forKey: .driver)
            try container.encode(sensor, forKey: .sensor)
            try container.encode(label, forKey: .label)  // null, not absent: the key is a contract
            try container.encode(kind, forKey: .kind)
            try container.encode(self.class, forKey: .class)
            try container.encode(pciSlot, forKey: .pciSlot)
            try container.encodeIfPresent(watts, forKey: .watts)
            try container.encodeIfPresent(energyJoules, forKey: .energyJoules)
            try container.encode(source, forKey: .source)
            try container.encode(reader, forKey: .reader)
            try container.encode(countedInHost, forKey: .countedInHost)
            try container.encodeIfPresent(note, forKey: .note)
            try container.encodeIfPresent(powerWatts, forKey: .powerWatts)
        }
    }

    /// Processors and their busy ratio (0...1) over the interval, or since boot for one snapshot.
    public struct CPU: Codable, Sendable, Equatable {
        public var model: String?
        public var logicalCPUs: Int?
        public var sockets: Int?
        public var virtualized: Bool?
        public var busyRatio: Double?
        /// `interval` or `since_boot`.
        public var busyRatioWindow: String
        public var perCPU: [PerCPU]

        public struct PerCPU: Codable, Sendable, Equatable {
            public var cpu: Int
            public var busyRatio: Double?
            enum CodingKeys: String, CodingKey { case cpu, busyRatio = "busy_ratio" }
        }

        enum CodingKeys: String, CodingKey {
            case model, logicalCPUs = "logical_cpus", sockets, virtualized, busyRatio = "busy_ratio",
                busyRatioWindow = "busy_ratio_window", perCPU = "per_cpu"
        }
    }

    public struct Memory: Codable, Sendable, Equatable {
        public var totalBytes: UInt64
        enum CodingKeys: String, CodingKey { case totalBytes = "total_bytes" }
    }

    /// Builds the report of one snapshot, or of the interval from `first` to `second`.
    public init(first: MachineSnapshot, second: MachineSnapshot? = nil, model: PowerModel?) {
        let last = second ?? first
        let seconds = second.map { Double($0.monotonicNanoseconds &- first.monotonicNanoseconds) / 1e9 }
        let earlier = Dictionary(first.rapl.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })

        var zoneWatts: [PowercapZoneID: Double] = [:]
        var resets: [String] = []
        if let second, let seconds, seconds > 0 {
            for zone in second.rapl {
                guard let now = zone.energyMicrojoules, let before = earlier[zone.id]?.energyMicrojoules else { continue }
                let delta = EnergyCounterReading(
                    microjoules: now, maxRangeMicrojoules: zone.maxEnergyRangeMicrojoules, bootID: second.bootID ?? ""
                ).delta(
                    since: EnergyCounterReading(
                        microjoules: before, maxRangeMicrojoules: earlier[zone.id]?.maxEnergyRangeMicrojoules,
                        bootID: first.bootID ?? ""
                    ), overSeconds: seconds)
                if let microjoules = delta.microjoules {
                    zoneWatts[zone.id] = Double(microjoules) / 1e6 / seconds
                } else {
                    resets.append(zone.name)
                }
            }
        }

        rapl = last.rapl.map { zone in
            Zone(
                name: zone.name, kind: zone.domain, socket: zone.socket, path: zone.path,
                energyJoules: zone.energyMicrojoules.map { Double($0) / 1e6 },
                maxEnergyJoules: zone.maxEnergyRangeMicrojoules.map { Double($0) / 1e6 },
                countedInHost: zone.countsTowardHostEnergy, powerWatts: zoneWatts[zone.id]
            )
        }
        let earlierSensors = Dictionary(
            first.powerSensors.map { ($0.chip + "\t" + $0.descriptor.sensor, $0) }, uniquingKeysWith: { a, _ in a })
        powerSensors = last.powerSensors.map { reading in
            PowerSensor(
                reading, earlier: second == nil ? nil : earlierSensors[reading.chip + "\t" + reading.descriptor.sensor], seconds: seconds)
        }
        temperatures = last.temperatures
        pci = last.pci
        memory = last.memoryTotalBytes.map { Memory(totalBytes: $0) }
        bootID = last.bootID
        intervalSeconds = seconds
        errors = second.map { first.issues + $0.issues.filter { !first.issues.contains($0) } } ?? first.issues

        let cpu = Self.cpuReport(first: first, second: second)
        self.cpu = cpu
        powerSource = PowerSourceReport(
            snapshot: last, zoneWatts: second == nil ? nil : zoneWatts, resetZones: resets,
            busyRatio: second == nil ? nil : cpu?.busyRatio, model: model
        )
    }

    private static func cpuReport(first: MachineSnapshot, second: MachineSnapshot?) -> CPU? {
        let last = second ?? first
        guard last.cpuStat != nil || last.cpuInfo != nil else { return nil }
        var busy: Double?
        var perCPU: [CPU.PerCPU] = []
        if let now = last.cpuStat {
            if let second, let before = first.cpuStat, second.cpuStat != nil {
                busy = now.total.busyRatio(since: before.total)
                let earlier = Dictionary(before.perCPU.map { ($0.cpu, $0.times) }, uniquingKeysWith: { a, _ in a })
                perCPU = now.perCPU.map { entry in
                    CPU.PerCPU(cpu: entry.cpu, busyRatio: earlier[entry.cpu].flatMap { entry.times.busyRatio(since: $0) })
                }
            } else {
                busy = now.total.busyRatio
                perCPU = now.perCPU.map { CPU.PerCPU(cpu: $0.cpu, busyRatio: $0.times.busyRatio) }
            }
        }
        return CPU(
            model: last.cpuInfo?.model, logicalCPUs: last.cpuInfo?.logicalCPUs, sockets: last.cpuInfo?.sockets,
            virtualized: last.cpuInfo?.virtualized, busyRatio: busy,
            busyRatioWindow: second == nil ? "since_boot" : "interval", perCPU: perCPU
        )
    }
}


/// Which power source a daemon would use on this machine, and the host power over the interval.
public struct PowerSourceReport: Codable, Sendable, Equatable {
    public var source: PowerSourceKind
    /// Why this source: the zones summed, or why RAPL cannot be used.
    public var reason: String
    /// Names of the zones summed into host power (packages and DRAM).
    public var zones: [String]
    /// Host power over the interval; nil for a single snapshot or when unknown.
    public var hostPowerWatts: Double?
    /// The model used (source `model`), or the one the daemon would fall back to.
    public var model: PowerModel?

    enum CodingKeys: String, CodingKey {
        case source, reason, zones, hostPowerWatts = "host_power_watts", model
    }

    init(
        snapshot: MachineSnapshot, zoneWatts: [PowercapZoneID: Double]?, resetZones: [String], busyRatio: Double?,
        model: PowerModel?
    ) {
        let hostZones = snapshot.readableHostZones
        self.model = model
        if !hostZones.isEmpty {
            source = .rapl
            zones = hostZones.map(\.name)
            reason = "RAPL energy counters readable: host energy = packages + DRAM"
            if let zoneWatts {
                let watts = hostZones.map { zoneWatts[$0.id] }
                hostPowerWatts = watts.contains(where: { $0 == nil }) ? nil : watts.reduce(0) { $0 + $1! }
                if !resetZones.isEmpty {
                    reason += "; counter reset during the interval in \(resetZones.joined(separator: ", ")), power unknown"
                }
            }
            return
        }
        source = .model
        zones = []
        let unreadable = snapshot.rapl.filter { $0.countsTowardHostEnergy && $0.energyMicrojoules == nil }
        reason =
            unreadable.isEmpty
            ? "no RAPL package or DRAM zone on this machine: power estimated from CPU utilization"
            : "RAPL zones present but unreadable (\(unreadable.map(\.name).joined(separator: ", "))): power estimated from CPU utilization"
        if let busyRatio, let model {
            hostPowerWatts = model.watts(utilization: busyRatio)
        }
    }
}
