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

    private func readLocked() -> (temperatures: [TemperatureReading], issues: [ProbeIssue]) {
        var file: UnsafeMutablePointer<FILE>?
        if let configurationFile {
            file = fopen(configurationFile, "r")
            guard file != nil else {
                return ([], [ProbeIssue(path: configurationFile, message: "cannot open the sensors configuration: \(String(cString: strerror(errno)))")])
            }
        }
        defer { if let file { fclose(file) } }
        let status = sensors_init(file)
        guard status == 0 else {
            let reason = String(cString: sensors_strerror(status))
            return ([], [ProbeIssue(path: configurationFile ?? "/etc/sensors3.conf", message: "libsensors could not start: \(reason); check the file with `sensors`")])
        }
        defer { sensors_cleanup() }

        var readings: [TemperatureReading] = []
        var issues: [ProbeIssue] = []
        var chipIndex: Int32 = 0
        while let chip = sensors_get_detected_chips(nil, &chipIndex) {
            let chipName = Self.name(of: chip)
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
                var label = featureName
                if let raw = sensors_get_label(chip, feature) {
                    label = String(cString: raw)
                    free(raw)
                }
                readings.append(TemperatureReading(chip: chipName, sensor: label, celsius: value, feature: featureName, reader: "libsensors"))
            }
        }
        return (readings, issues)
    }

    private static func name(of chip: UnsafePointer<sensors_chip_name>) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
            let length = sensors_snprintf_chip_name(buffer.baseAddress, 256, chip)
            guard length > 0 else { return "unknown" }
            return String(cString: buffer.baseAddress!)
        }
    }
}
