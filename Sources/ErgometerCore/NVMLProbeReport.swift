/// One NVIDIA GPU as NVML answered at one moment: raw values, nil where a call failed or is
/// not supported (`notes` says which).
public struct NVMLGPUReading: Sendable, Equatable {
    public var index: Int
    public var uuid: String
    public var name: String
    public var pciSlot: String?
    public var energyMillijoules: UInt64?
    public var powerMilliwatts: UInt32?
    public var gpuUtilizationPercent: UInt32?
    public var memoryUtilizationPercent: UInt32?
    public var processes: [Process]
    public var migEnabled: Bool?
    public var lost: Bool
    public var notes: [String]

    /// A compute process on the GPU, with its SM utilization when NVML has a recent sample.
    public struct Process: Sendable, Equatable, Codable {
        public var pid: Int32
        public var usedMemoryBytes: UInt64?
        public var smPercent: UInt32?

        public init(pid: Int32, usedMemoryBytes: UInt64?, smPercent: UInt32?) {
            self.pid = pid
            self.usedMemoryBytes = usedMemoryBytes
            self.smPercent = smPercent
        }

        enum CodingKeys: String, CodingKey { case pid, usedMemoryBytes = "used_memory_bytes", smPercent = "sm_percent" }
    }

    public init(index: Int, uuid: String, name: String, pciSlot: String?) {
        self.index = index
        self.uuid = uuid
        self.name = name
        self.pciSlot = pciSlot
        processes = []
        lost = false
        notes = []
    }
}

/// What NVML gave `ergo probe`: the library, and why no NVIDIA GPU is read when none is.
public struct NVMLStatus: Codable, Sendable, Equatable {
    public var library: String
    public var readable: Bool
    /// "no NVIDIA GPU readable: …" (no library, nvmlInit_v2 failing, no GPU); nil when readable.
    public var reason: String?
    public var driverVersion: String?
    /// Optional entry points the library lacks.
    public var missingEntryPoints: [String]

    public init(library: String, readable: Bool, reason: String?, driverVersion: String?, missingEntryPoints: [String]) {
        self.library = library
        self.readable = readable
        self.reason = reason
        self.driverVersion = driverVersion
        self.missingEntryPoints = missingEntryPoints
    }

    enum CodingKeys: String, CodingKey {
        case library, readable, reason, driverVersion = "driver_version", missingEntryPoints = "missing_entry_points"
    }
}

extension ProbeReport {
    /// One NVIDIA GPU in `ergo probe`: the energy counter (J since the driver loaded) or the
    /// power reading (W), and over an interval the power from the counter's increase.
    public struct GPU: Codable, Sendable, Equatable {
        public var index: Int
        public var uuid: String
        public var name: String
        public var pciSlot: String?
        public var driverVersion: String?
        /// `nvml-energy` where the counter reads, else `nvml-power`.
        public var source: EnergySource
        public var energyJoules: Double?
        public var watts: Double?
        /// Over the interval: the counter's increase over the seconds (nvml-energy), or the mean
        /// of the two power readings (nvml-power, each a 1-s average on most boards).
        public var powerWatts: Double?
        public var utilizationRatio: Double?
        public var memoryUtilizationRatio: Double?
        public var processes: [NVMLGPUReading.Process]
        public var migMode: Bool?
        public var lost: Bool
        public var notes: [String]

        enum CodingKeys: String, CodingKey {
            case index, uuid, name, pciSlot = "pci_slot", driverVersion = "driver_version", source, energyJoules = "energy_joules", watts,
                powerWatts = "power_watts", utilizationRatio = "utilization_ratio", memoryUtilizationRatio = "memory_utilization_ratio",
                processes, migMode = "mig_mode", lost, notes
        }

        public init(_ reading: NVMLGPUReading, earlier: NVMLGPUReading?, seconds: Double?, driverVersion: String?) {
            index = reading.index
            uuid = reading.uuid
            name = reading.name
            pciSlot = reading.pciSlot
            self.driverVersion = driverVersion
            source = reading.energyMillijoules != nil ? .nvmlEnergy : .nvmlPower
            energyJoules = reading.energyMillijoules.map { Double($0) / 1000 }
            watts = reading.powerMilliwatts.map { Double($0) / 1000 }
            utilizationRatio = reading.gpuUtilizationPercent.map { Double($0) / 100 }
            memoryUtilizationRatio = reading.memoryUtilizationPercent.map { Double($0) / 100 }
            processes = reading.processes
            migMode = reading.migEnabled
            lost = reading.lost
            notes = reading.notes
            guard let earlier, let seconds, seconds > 0 else { return }
            if let now = reading.energyMillijoules, let before = earlier.energyMillijoules {
                // Below the last reading: the driver reloaded in between, power unknown.
                if now >= before { powerWatts = Double(now - before) / 1000 / seconds }
            } else if let now = reading.powerMilliwatts, let before = earlier.powerMilliwatts {
                powerWatts = (Double(now) + Double(before)) / 2 / 1000
            }
        }
    }
}
