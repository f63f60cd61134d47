public import ErgometerCore

/// Reads hwmon power and energy sensors straight from `class/hwmon` (kernel docs:
/// Documentation/hwmon/sysfs-interface.rst): `energyN_input` in µJ (a counter), `powerN_average`
/// and `powerN_input` in µW (gauges; `_average` preferred when a chip has both).
///
/// Used under a fixture root, where libsensors cannot look, and as the reference libsensors is
/// tested against; chips are named and found as `HwmonSysfsReader` names and finds them, and
/// classed by driver and PCI class (`PowerSensorClass`).
public struct HwmonPowerReader: Sendable {
    public var sysfs: SysFS

    public init(sysfs: SysFS) {
        self.sysfs = sysfs
    }

    /// Every power and energy sensor with its value now, in chip order; not yet marked as
    /// counted (`PowerSensorSelection.mark` does that, knowing whether RAPL is there).
    public func read() -> (sensors: [PowerSensorReading], issues: [ProbeIssue]) {
        let base = sysfs.path("class/hwmon")
        let entries: [String]
        switch Directory.entries(base) {
        case .success(let names): entries = names
        case .failure(let error) where error.isMissing: return ([], [])
        case .failure(let error):
            return ([], [ProbeIssueMessages.unreadable(error, consequence: "no hwmon power or energy read")])
        }
        let temperatures = HwmonSysfsReader(sysfs: sysfs)
        var sensors: [PowerSensorReading] = []
        var issues: [ProbeIssue] = []
        for entry in entries {
            guard let chip = temperatures.chip(at: FilePath.join(base, entry), hwmonName: entry) else { continue }
            let found = Self.descriptors(in: [chip.attributeDirectory] + chip.extraDirectories)
            guard !found.isEmpty else { continue }
            let driver = chip.name ?? entry
            let classCode = chip.deviceDirectory.flatMap { Self.pciClassCode(deviceDirectory: $0) }
            let sensorClass = PowerSensorClass.classify(driver: driver, pciClassCode: classCode)
            for (directory, descriptor) in found {
                let path = FilePath.join(directory, descriptor.file)
                switch SysfsFile.readUInt64(path) {
                case .success(let value):
                    sensors.append(
                        PowerSensorReading(
                            chip: chip.displayName, driver: driver, descriptor: descriptor, sensorClass: sensorClass,
                            pciSlot: chip.pciSlot, value: value, reader: "sysfs", path: path))
                case .failure(let error):
                    issues.append(ProbeIssueMessages.unreadable(error, consequence: "this power sensor is skipped"))
                }
            }
        }
        return (sensors, issues)
    }

    /// The power and energy sensors of a chip's attribute directories, by index, each sensor
    /// once (the first directory that has it), with its label when there is one.
    static func descriptors(in directories: [String]) -> [(directory: String, descriptor: PowerSensorDescriptor)] {
        var found: [(String, PowerSensorDescriptor)] = []
        var seen = Set<String>()
        for directory in directories {
            guard case .success(let names) = Directory.entries(directory) else { continue }
            let files = Set(names)
            var candidates: [(String, Int, PowerSensorKind, String)] = []
            for name in names {
                if let index = Self.index(name, prefix: "energy", suffix: "_input") {
                    candidates.append(("energy\(index)", index, .energy, name))
                } else if let index = Self.index(name, prefix: "power", suffix: "_average") {
                    candidates.append(("power\(index)", index, .power, name))
                } else if let index = Self.index(name, prefix: "power", suffix: "_input"), !files.contains("power\(index)_average") {
                    candidates.append(("power\(index)", index, .power, name))
                }
            }
            candidates.sort { ($0.2 == .energy ? 0 : 1, $0.1) < ($1.2 == .energy ? 0 : 1, $1.1) }
            for (sensor, index, kind, file) in candidates where seen.insert(sensor).inserted {
                let label = try? SysfsFile.readLine(FilePath.join(directory, "\(sensor)_label")).get()
                found.append((directory, PowerSensorDescriptor(sensor: sensor, index: index, kind: kind, file: file, label: label)))
            }
        }
        return found
    }

    /// N of `<prefix>N<suffix>`; nil for any other name.
    static func index(_ name: String, prefix: String, suffix: String) -> Int? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else { return nil }
        return Int(name.dropFirst(prefix.count).dropLast(suffix.count))
    }

    /// A PCI device's `class` file (`0x030000`); nil for devices that are not PCI functions.
    static func pciClassCode(deviceDirectory: String) -> UInt32? {
        guard let text = try? SysfsFile.readLine(FilePath.join(deviceDirectory, "class")).get(), text.hasPrefix("0x") else {
            return nil
        }
        return UInt32(text.dropFirst(2), radix: 16)
    }
}
