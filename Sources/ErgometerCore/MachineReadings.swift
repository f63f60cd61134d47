/// One reading of a powercap zone: identity from the tree, counter from `energy_uj`.
public struct RaplZoneSample: Equatable, Sendable {
    public var id: PowercapZoneID
    /// The `name` file: `package-0`, `core`, `dram`, `psys`, ...
    public var name: String
    public var domain: RaplDomain
    /// Socket of the package this zone belongs to (its own for `package-N`, its parent's for subzones).
    public var socket: Int?
    /// The zone directory as read.
    public var path: String
    /// `energy_uj`; nil when it could not be read (the reason is in the snapshot's issues).
    public var energyMicrojoules: UInt64?
    /// `max_energy_range_uj`; nil when missing or unreadable.
    public var maxEnergyRangeMicrojoules: UInt64?

    public init(
        id: PowercapZoneID, name: String, domain: RaplDomain, socket: Int?, path: String,
        energyMicrojoules: UInt64?, maxEnergyRangeMicrojoules: UInt64?
    ) {
        self.id = id
        self.name = name
        self.domain = domain
        self.socket = socket
        self.path = path
        self.energyMicrojoules = energyMicrojoules
        self.maxEnergyRangeMicrojoules = maxEnergyRangeMicrojoules
    }

    /// Host energy = packages + DRAM, each counted once: core and uncore are inside their package,
    /// psys overlaps the packages, MMIO zones repeat a package.
    public var countsTowardHostEnergy: Bool {
        !id.isDuplicateInterface && (domain == .package || domain == .dram)
    }
}

/// Busy and idle CPU time of one CPU line of `/proc/stat`, in USER_HZ ticks.
///
/// busy = user + nice + system + irq + softirq (guest time is already inside user and nice);
/// idle = idle + iowait; steal (time the hypervisor gave to others) is kept apart.
public struct CPUTimes: Equatable, Sendable {
    public var busyTicks: UInt64
    public var idleTicks: UInt64
    public var stealTicks: UInt64

    public init(busyTicks: UInt64, idleTicks: UInt64, stealTicks: UInt64 = 0) {
        self.busyTicks = busyTicks
        self.idleTicks = idleTicks
        self.stealTicks = stealTicks
    }

    /// busy / (busy + idle + steal) over the time between `previous` and `self`; nil when no
    /// time passed or a counter went backwards (CPU hot-unplug, reboot).
    public func busyRatio(since previous: CPUTimes) -> Double? {
        guard busyTicks >= previous.busyTicks, idleTicks >= previous.idleTicks,
            stealTicks >= previous.stealTicks
        else { return nil }
        return CPUTimes(
            busyTicks: busyTicks - previous.busyTicks,
            idleTicks: idleTicks - previous.idleTicks,
            stealTicks: stealTicks - previous.stealTicks
        ).busyRatio
    }

    /// busy / (busy + idle + steal) since the counters started (boot); nil when all are zero.
    public var busyRatio: Double? {
        let total = busyTicks + idleTicks + stealTicks
        guard total > 0 else { return nil }
        return Double(busyTicks) / Double(total)
    }
}

/// The CPU lines of `/proc/stat`: the aggregate `cpu` line and one per logical CPU.
public struct CPUStat: Equatable, Sendable {
    public var total: CPUTimes
    /// Keyed by CPU number (`cpu3` → 3), in file order.
    public var perCPU: [(cpu: Int, times: CPUTimes)]

    public init(total: CPUTimes, perCPU: [(cpu: Int, times: CPUTimes)]) {
        self.total = total
        self.perCPU = perCPU
    }

    public static func == (lhs: CPUStat, rhs: CPUStat) -> Bool {
        lhs.total == rhs.total && lhs.perCPU.elementsEqual(rhs.perCPU) { $0.cpu == $1.cpu && $0.times == $1.times }
    }
}

/// What `/proc/cpuinfo` says about the processors.
public struct CPUInfo: Equatable, Sendable {
    /// `model name` of the first processor (`AMD EPYC 7543 32-Core Processor`), or `unknown`.
    public var model: String
    public var logicalCPUs: Int
    /// Distinct `physical id` values; 1 when the file does not say.
    public var sockets: Int
    /// The `hypervisor` flag: a virtual machine sees a share of the physical CPU.
    public var virtualized: Bool

    public init(model: String, logicalCPUs: Int, sockets: Int, virtualized: Bool) {
        self.model = model
        self.logicalCPUs = logicalCPUs
        self.sockets = sockets
        self.virtualized = virtualized
    }
}

/// One temperature sensor.
public struct TemperatureReading: Codable, Equatable, Sendable {
    /// The chip as lm-sensors names it (`coretemp-isa-0000`, `nvme-pci-0100`); chips lm-sensors
    /// cannot name keep their hwmon directory name (`hwmon4`).
    public var chip: String
    /// The sensor's label (`Core 0`, `Tctl`), or its feature name (`temp1`) when unlabelled.
    public var sensor: String
    public var celsius: Double
    /// The sysfs feature, `temp1`.
    public var feature: String
    /// Which reader produced it: `libsensors` or `sysfs`.
    public var reader: String

    public init(chip: String, sensor: String, celsius: Double, feature: String, reader: String) {
        self.chip = chip
        self.sensor = sensor
        self.celsius = celsius
        self.feature = feature
        self.reader = reader
    }
}

/// One PCI function with its names from pci.ids.
public struct PCIDevice: Codable, Equatable, Sendable {
    /// `0000:01:00.0`
    public var slot: String
    /// Class name from pci.ids (`Non-Volatile memory controller`), or the code when unknown.
    public var `class`: String
    /// base class, subclass and programming interface: `0x010802`.
    public var classCode: String
    public var vendor: String
    public var vendorID: String
    public var device: String
    public var deviceID: String
    /// A compute accelerator: a 3D or display controller of a GPU vendor, or a processing accelerator.
    public var accelerator: Bool

    public init(
        slot: String, class className: String, classCode: String, vendor: String, vendorID: String,
        device: String, deviceID: String, accelerator: Bool
    ) {
        self.slot = slot
        self.class = className
        self.classCode = classCode
        self.vendor = vendor
        self.vendorID = vendorID
        self.device = device
        self.deviceID = deviceID
        self.accelerator = accelerator
    }

    enum CodingKeys: String, CodingKey {
        case slot, `class`, classCode = "class_code", vendor, vendorID = "vendor_id", device,
            deviceID = "device_id", accelerator
    }
}

/// A file or directory that could not be read, with what to do about it.
public struct ProbeIssue: Codable, Equatable, Sendable {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

/// Everything one probe of the machine read, at one instant.
public struct MachineSnapshot: Sendable {
    public var rapl: [RaplZoneSample]
    /// hwmon power and energy sensors, marked as counted in the box's energy or not.
    public var powerSensors: [PowerSensorReading] = []
    public var temperatures: [TemperatureReading]
    public var cpuStat: CPUStat?
    public var cpuInfo: CPUInfo?
    public var memoryTotalBytes: UInt64?
    public var bootID: String?
    public var pci: [PCIDevice]
    public var issues: [ProbeIssue]
    /// CLOCK_MONOTONIC at the time of the counter reads, for intervals immune to clock steps.
    public var monotonicNanoseconds: UInt64

    public init(
        rapl: [RaplZoneSample] = [], temperatures: [TemperatureReading] = [], cpuStat: CPUStat? = nil,
        cpuInfo: CPUInfo? = nil, memoryTotalBytes: UInt64? = nil, bootID: String? = nil,
        pci: [PCIDevice] = [], issues: [ProbeIssue] = [], monotonicNanoseconds: UInt64 = 0
    ) {
        self.rapl = rapl
        self.temperatures = temperatures
        self.cpuStat = cpuStat
        self.cpuInfo = cpuInfo
        self.memoryTotalBytes = memoryTotalBytes
        self.bootID = bootID
        self.pci = pci
        self.issues = issues
        self.monotonicNanoseconds = monotonicNanoseconds
    }

    /// True when at least one reader produced data.
    public var readAnything: Bool {
        !rapl.isEmpty || !powerSensors.isEmpty || !temperatures.isEmpty || cpuStat != nil || cpuInfo != nil
            || memoryTotalBytes != nil || bootID != nil || !pci.isEmpty
    }

    /// The zones whose energy counter could be read and counts toward the host's energy.
    public var readableHostZones: [RaplZoneSample] {
        rapl.filter { $0.countsTowardHostEnergy && $0.energyMicrojoules != nil }
    }
}
