/// What an hwmon chip with power or energy sensors measures, by its driver and device
/// (DESIGN.md, "Reading the machine").
public enum PowerSensorClass: String, Codable, Sendable, CaseIterable {
    /// A GPU: amdgpu, i915, xe, nouveau, or any device of a display/3D/accelerator PCI class.
    case gpu
    /// The box's own meter: ACPI `power_meter`, a PSU driver.
    case platform
    /// CPU energy through hwmon (`amd_energy`, `zenpower`): RAPL reads the same sockets.
    case cpu
    /// Anything else (board rails, hot-swap controllers): shown, never counted.
    case other

    /// hwmon `name`s of GPU drivers.
    public static let gpuDrivers: Set<String> = ["amdgpu", "radeon", "i915", "xe", "nouveau"]
    /// hwmon `name`s of box meters: the ACPI power meter and PSU drivers (corsair-psu names its
    /// chip `corsairpsu`).
    public static let platformDrivers: Set<String> = [
        "power_meter", "corsairpsu", "ibm_cffps", "dps920ab", "fsp3y", "bel_pfe", "acbel_fsg032", "inspur_ipsps1",
    ]
    /// hwmon `name`s of CPU energy drivers.
    public static let cpuDrivers: Set<String> = ["amd_energy", "zenpower"]

    /// Classes a chip by its hwmon `name` and, for PCI devices, its class code.
    public static func classify(driver: String, pciClassCode: UInt32?) -> PowerSensorClass {
        if gpuDrivers.contains(driver) { return .gpu }
        if platformDrivers.contains(driver) || platformDrivers.contains(driver.replacingOccurrences(of: "-", with: "_")) {
            return .platform
        }
        if cpuDrivers.contains(driver) { return .cpu }
        if let code = pciClassCode {
            let base = code >> 16
            if base == 0x03 || base == 0x12 { return .gpu }
        }
        return .other
    }
}

/// Whether an hwmon sensor is a cumulative energy counter or a power gauge.
public enum PowerSensorKind: String, Codable, Sendable {
    /// `energyN_input`, µJ, counts up.
    case energy
    /// `powerN_average` or `powerN_input`, µW, a gauge.
    case power
}

/// One hwmon power or energy sensor as found on a chip.
public struct PowerSensorDescriptor: Equatable, Sendable {
    /// `power1`, `energy2`
    public var sensor: String
    public var index: Int
    public var kind: PowerSensorKind
    /// The file read: `power1_average`, `power1_input`, `energy1_input`.
    public var file: String
    public var label: String?

    public init(sensor: String, index: Int, kind: PowerSensorKind, file: String, label: String?) {
        self.sensor = sensor
        self.index = index
        self.kind = kind
        self.file = file
        self.label = label
    }

    /// The one sensor of a chip that measures the whole chip, so nothing is counted twice:
    /// an energy counter before a power gauge (a counter loses nothing between readings); among
    /// several, the one labelled as the whole (`card` on xe, where `pkg` is inside it; `total`
    /// on PSUs, whose other sensors are its rails), else the lowest index. Gauges: `_average`
    /// before `_input`, as the descriptors come.
    public static func countedSensor(of sensors: [PowerSensorDescriptor]) -> PowerSensorDescriptor? {
        for kind in [PowerSensorKind.energy, .power] {
            let candidates = sensors.filter { $0.kind == kind }
            if candidates.isEmpty { continue }
            let whole = candidates.first { sensor in
                guard let label = sensor.label?.lowercased() else { return false }
                return label == "card" || label.contains("total")
            }
            return whole ?? candidates.min { $0.index < $1.index }
        }
        return nil
    }
}

/// Integrates a power gauge into energy by the trapezoid between consecutive readings:
///
///     E = (P₀ + P₁) / 2 × Δt
///
/// in exact integer arithmetic (µW × ns), carrying the sub-microjoule remainder to the next
/// interval, so that a long run of ticks loses nothing to rounding. The error against the true
/// energy is bounded by |P₁ − P₀| / 2 × Δt per interval (the gauge is only known at its ends).
public struct GaugeIntegral: Equatable, Sendable {
    /// The last reading, µW; nil before the first.
    public private(set) var lastMicrowatts: UInt64?
    /// µW·ns not yet a whole µJ (2·10⁹ µW·ns of the doubled sum make one µJ).
    private var remainder: UInt64 = 0

    public init() {}

    /// Takes a reading `nanoseconds` after the previous one; returns the energy between them,
    /// µJ (0 for the first reading).
    public mutating func add(microwatts: UInt64, afterNanoseconds nanoseconds: UInt64) -> UInt64 {
        defer { lastMicrowatts = microwatts }
        guard let previous = lastMicrowatts else { return 0 }
        // (P₀ + P₁) × Δt / 2 / 10⁹: µW·ns → µJ. The product can pass 64 bits: divide it whole.
        let sum = previous &+ microwatts
        let product = sum.multipliedFullWidth(by: nanoseconds)
        let (low, carry) = product.low.addingReportingOverflow(remainder)
        let divisor: UInt64 = 2_000_000_000
        let high = product.high &+ (carry ? 1 : 0)
        guard high < divisor else { return UInt64.max }  // beyond any real power and interval
        let (quotient, rest) = divisor.dividingFullWidth((high: high, low: low))
        remainder = rest
        return quotient
    }

    /// Forgets the last reading (the sensor vanished): the next reading starts a new interval.
    public mutating func reset() {
        lastMicrowatts = nil
        remainder = 0
    }
}

/// One reading of an hwmon power or energy sensor, with what it is and whether it counts.
public struct PowerSensorReading: Equatable, Sendable {
    /// The chip as lm-sensors names it (`amdgpu-pci-0300`), else as `TemperatureReading.chip`.
    public var chip: String
    /// The chip's hwmon `name` (its driver): `amdgpu`, `power_meter`.
    public var driver: String
    public var descriptor: PowerSensorDescriptor
    public var sensorClass: PowerSensorClass
    /// The PCI function the chip hangs off (`0000:03:00.0`); nil for other buses.
    public var pciSlot: String?
    /// µW for a power sensor, µJ for an energy sensor.
    public var value: UInt64
    /// `sysfs` or `libsensors`.
    public var reader: String
    /// The file read, for a meter to keep open.
    public var path: String
    /// Whether the box's energy counts this sensor (see `PowerSensorSelection`).
    public var countedInHost: Bool = false
    /// Why it is not counted, when it is not.
    public var note: String?

    public init(
        chip: String, driver: String, descriptor: PowerSensorDescriptor, sensorClass: PowerSensorClass, pciSlot: String?,
        value: UInt64, reader: String, path: String
    ) {
        self.chip = chip
        self.driver = driver
        self.descriptor = descriptor
        self.sensorClass = sensorClass
        self.pciSlot = pciSlot
        self.value = value
        self.reader = reader
        self.path = path
    }

    public var source: EnergySource { descriptor.kind == .energy ? .hwmonEnergy : .hwmonPower }
}

/// Decides which hwmon sensors the box's energy counts (DESIGN.md, "Meters, domains"):
/// - each GPU chip: its one whole-chip sensor (`PowerSensorDescriptor.countedSensor`);
/// - the platform: the ACPI power meter where there is one (it sees the whole box, PSUs
///   included), else every PSU's whole-PSU sensor;
/// - CPU chips never (RAPL, or the model, measures the sockets), other chips never.
public enum PowerSensorSelection {
    public static func mark(_ readings: inout [PowerSensorReading], raplCoversCPU: Bool) {
        var counted = Set<String>()  // chip + sensor
        let chips = Dictionary(grouping: readings.indices, by: { readings[$0].chip })
        let hasACPIMeter = readings.contains { $0.driver == "power_meter" }
        for (chip, indices) in chips {
            let first = readings[indices[0]]
            let eligible: Bool
            switch first.sensorClass {
            case .gpu: eligible = true
            case .platform: eligible = !hasACPIMeter || first.driver == "power_meter"
            case .cpu, .other: eligible = false
            }
            guard eligible, let chosen = PowerSensorDescriptor.countedSensor(of: indices.map { readings[$0].descriptor }) else {
                continue
            }
            counted.insert(chip + "\t" + chosen.sensor)
        }
        for index in readings.indices {
            let reading = readings[index]
            if counted.contains(reading.chip + "\t" + reading.descriptor.sensor) {
                readings[index].countedInHost = true
                continue
            }
            readings[index].note =
                switch reading.sensorClass {
                case .cpu: raplCoversCPU ? "RAPL covers this socket" : "CPU chips are shown only; the power model estimates the CPUs"
                case .other: "not a GPU or the box's meter"
                case .platform where hasACPIMeter && reading.driver != "power_meter": "the ACPI power meter measures the whole box"
                case .gpu, .platform: "inside the chip's \(countedSensorName(chip: reading.chip, readings) ?? "counted") sensor"
                }
        }
    }

    private static func countedSensorName(chip: String, _ readings: [PowerSensorReading]) -> String? {
        PowerSensorDescriptor.countedSensor(of: readings.filter { $0.chip == chip }.map(\.descriptor))?.sensor
    }
}
