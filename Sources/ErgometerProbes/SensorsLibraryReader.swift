internal import CSensors
public import ErgometerCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads temperatures through libsensors (lm-sensors), on the running kernel's `/sys` only:
/// libsensors cannot be pointed at another tree. It applies the system's sensors3.conf
/// (labels, ignored inputs, compute rules), as `sensors` does.
public struct SensorsLibraryReader: Sendable {
    /// libsensors keeps its chip list in globals: one user at a time.
    private static let library = Mutex(())

    /// A sensors3.conf to use instead of the system's; nil for the system's.
    public var configurationFile: String?

    public init(configurationFile: String? = nil) {
        self.configurationFile = configurationFile
    }

    public func read() -> (temperatures: [TemperatureReading], issues: [ProbeIssue]) {
        Self.library.withLock { _ in readLocked() }
    }

    /// Power and energy sensors (`SENSORS_FEATURE_POWER`: the average, else the input;
    /// `SENSORS_FEATURE_ENERGY`: the input), in µW and µJ, with each chip's driver and PCI class
    /// read beside libsensors' own path. Not yet marked as counted.
    public func readPowerSensors() -> (sensors: [PowerSensorReading], issues: [ProbeIssue]) {
        Self.library.withLock { _ in
            var sensors: [PowerSensorReading] = []
            let issues = withLibrary { chip, chipName in
                var featureIndex: Int32 = 0
                var issues: [ProbeIssue] = []
                let chipPath = chip.pointee.path.map { String(cString: $0) } ?? ""
                let device = FilePath.join(chipPath, "device")
                let slot = Int32(chip.pointee.bus.type) == SENSORS_BUS_TYPE_PCI ? Directory.linkTarget(device).map(FilePath.lastComponent) : nil
                let driver = String(cString: chip.pointee.prefix)
                let sensorClass = PowerSensorClass.classify(
                    driver: driver, pciClassCode: slot.flatMap { _ in HwmonPowerReader.pciClassCode(deviceDirectory: device) })
                while let feature = sensors_get_features(chip, &featureIndex) {
                    let kind: PowerSensorKind
                    let subfeature: UnsafePointer<sensors_subfeature>?
                    switch feature.pointee.type {
                    case SENSORS_FEATURE_POWER:
                        kind = .power
                        subfeature = sensors_get_subfeature(chip, feature, SENSORS_SUBFEATURE_POWER_AVERAGE)
                            ?? sensors_get_subfeature(chip, feature, SENSORS_SUBFEATURE_POWER_INPUT)
                    case SENSORS_FEATURE_ENERGY:
                        kind = .energy
                        subfeature = sensors_get_subfeature(chip, feature, SENSORS_SUBFEATURE_ENERGY_INPUT)
                    default: continue
                    }
                    guard let subfeature else { continue }
                    let featureName = String(cString: feature.pointee.name)
                    let file = String(cString: subfeature.pointee.name)
                    var value = 0.0
                    let result = sensors_get_value(chip, subfeature.pointee.number, &value)
                    guard result == 0, value >= 0, value < 1.8e13 else {
                        let message = result == 0 ? "a negative or impossible reading" : String(cString: sensors_strerror(result))
                        issues.append(ProbeIssue(path: FilePath.join(chipPath, file), message: "\(message); this power sensor is skipped"))
                        continue
                    }
                    let label = Self.label(chip, feature).flatMap { $0 == featureName ? nil : $0 }
                    let index = Int(featureName.drop { !$0.isNumber }) ?? 0
                    let descriptor = PowerSensorDescriptor(sensor: featureName, index: index, kind: kind, file: file, label: label)
                    sensors.append(
                        PowerSensorReading(
                            chip: chipName, driver: driver, descriptor: descriptor, sensorClass: sensorClass, pciSlot: slot,
                            value: UInt64((value * 1e6).rounded()), reader: "libsensors", path: FilePath.join(chipPath, file)))
                }
                return issues
            }
            return (sensors, issues)
        }
    }

    private func readLocked() -> (temperatures: [TemperatureReading], issues: [ProbeIssue]) {
        var readings: [TemperatureReading] = []
        let issues = withLibrary { chip, chipName in
            var issues: [ProbeIssue] = []
            var featureIndex: Int32 = 0
            while let feature = sensors_get_features(chip, &featureIndex) {
                guard feature.pointee.type == SENSORS_FEATURE_TEMP,
                    let input = sensors_get_subfeature(chip, feature, SENSORS_SUBFEATURE_TEMP_INPUT)
                else { continue }
                var value = 0.0
                let result = sensors_get_value(chip, input.pointee.number, &value)
                let featureName = String(cString: feature.pointee.name)
                guard result == 0 else {
                    let path = chip.pointee.path.map { String(cString: $0) + "/" + String(cString: input.pointee.name) }
                    issues.append(ProbeIssue(path: path ?? chipName, message: "\(String(cString: sensors_strerror(result))); this sensor is skipped"))
                    continue
                }
                let label = Self.label(chip, feature) ?? featureName
                readings.append(TemperatureReading(chip: chipName, sensor: label, celsius: value, feature: featureName, reader: "libsensors"))
            }
            return issues
        }
        return (readings, issues)
    }

    /// Starts libsensors (with the configured file), hands every detected chip and its name to
    /// `body`, and cleans up; the issues of a failed start, or those `body` found.
    private func withLibrary(_ body: (UnsafePointer<sensors_chip_name>, String) -> [ProbeIssue]) -> [ProbeIssue] {
        var file: UnsafeMutablePointer<FILE>?
        if let configurationFile {
            file = fopen(configurationFile, "r")
            guard file != nil else {
                return [ProbeIssue(path: configurationFile, message: "cannot open the sensors configuration: \(String(cString: strerror(errno)))")]
            }
        }
        defer { if let file { fclose(file) } }
        let status = sensors_init(file)
        guard status == 0 else {
            let reason = String(cString: sensors_strerror(status))
            return [ProbeIssue(path: configurationFile ?? "/etc/sensors3.conf", message: "libsensors could not start: \(reason); check the file with `sensors`")]
        }
        defer { sensors_cleanup() }
        var issues: [ProbeIssue] = []
        var chipIndex: Int32 = 0
        while let chip = sensors_get_detected_chips(nil, &chipIndex) {
            issues += body(chip, Self.name(of: chip))
        }
        return issues
    }

    /// The feature's label (sensors3.conf's, the `_label` file, or the feature name); freed here.
    private static func label(_ chip: UnsafePointer<sensors_chip_name>, _ feature: UnsafePointer<sensors_feature>) -> String? {
        guard let raw = sensors_get_label(chip, feature) else { return nil }
        defer { free(raw) }
        return String(cString: raw)
    }

    private static func name(of chip: UnsafePointer<sensors_chip_name>) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
            let length = sensors_snprintf_chip_name(buffer.baseAddress, 256, chip)
            guard length > 0 else { return "unknown" }
            return String(cString: buffer.baseAddress!)
        }
    }
}
