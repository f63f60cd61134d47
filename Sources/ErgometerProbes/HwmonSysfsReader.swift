public import ErgometerCore

/// Reads temperatures straight from `class/hwmon` (kernel docs: Documentation/hwmon/sysfs-interface.rst).
///
/// Used under a fixture root, where libsensors cannot look, and as the reference libsensors is
/// tested against. `tempN_input` is in millidegrees Celsius; the sensor is `tempN_label` or `tempN`.
/// Like node_exporter it reads chips lm-sensors skips (no `name`, unknown bus), and the
/// `device/` directory of old drivers.
public struct HwmonSysfsReader: Sendable {
    public var sysfs: SysFS

    public init(sysfs: SysFS) {
        self.sysfs = sysfs
    }

    public func read() -> (temperatures: [TemperatureReading], issues: [ProbeIssue]) {
        let (sensors, listingIssues) = sensors()
        let (temperatures, issues) = Self.read(sensors)
        return (temperatures, listingIssues + issues)
    }

    /// A temperature input found by a walk of `class/hwmon`: what to call it and where to read it.
    public struct Sensor: Sendable, Equatable {
        public var chip: String
        public var sensor: String
        public var feature: String
        public var inputPath: String
    }

    /// Walks `class/hwmon` for every `tempN_input` (labels read once, here): the costly part of
    /// a read, which a caller may keep and read again (`read(_:)`) while the chips stay as they are.
    public func sensors() -> (sensors: [Sensor], issues: [ProbeIssue]) {
        let base = sysfs.path("class/hwmon")
        let entries: [String]
        switch Directory.entries(base) {
        case .success(let names): entries = names
        case .failure(let error) where error.isMissing: return ([], [])  // no hwmon drivers: nothing to say
        case .failure(let error):
            return ([], [ProbeIssueMessages.unreadable(error, consequence: "no temperatures read")])
        }
        var sensors: [Sensor] = []
        for entry in entries {
            guard let chip = chip(at: FilePath.join(base, entry), hwmonName: entry) else { continue }
            var seen = Set<Int>()
            for directory in [chip.attributeDirectory] + chip.extraDirectories {
                for feature in temperatureFeatures(in: directory) where seen.insert(feature).inserted {
                    let label = try? SysfsFile.readLine(FilePath.join(directory, "temp\(feature)_label")).get()
                    sensors.append(
                        Sensor(
                            chip: chip.displayName, sensor: label ?? "temp\(feature)", feature: "temp\(feature)",
                            inputPath: FilePath.join(directory, "temp\(feature)_input")))
                }
            }
        }
        return (sensors, [])
    }

    /// Each sensor's `tempN_input` now; an unreadable one is skipped with an issue.
    public static func read(_ sensors: [Sensor]) -> (temperatures: [TemperatureReading], issues: [ProbeIssue]) {
        var readings: [TemperatureReading] = []
        var issues: [ProbeIssue] = []
        readings.reserveCapacity(sensors.count)
        for sensor in sensors {
            switch SysfsFile.readInt64(sensor.inputPath) {
            case .success(let millidegrees):
                readings.append(
                    TemperatureReading(
                        chip: sensor.chip, sensor: sensor.sensor, celsius: Double(millidegrees) / 1000, feature: sensor.feature, reader: "sysfs"))
            case .failure(let error):
                issues.append(ProbeIssueMessages.unreadable(error, consequence: "this sensor is skipped"))
            }
        }
        return (readings, issues)
    }

    /// Works out a chip's identity the way lm-sensors does (lib/sysfs.c).
    func chip(at entry: String, hwmonName: String) -> HwmonChip? {
        guard let directory = Directory.resolve(entry).directory else { return nil }
        let deviceLink = FilePath.join(directory, "device")
        let deviceTarget = Directory.linkTarget(deviceLink)
        let deviceDirectory = deviceTarget.flatMap { _ in Directory.resolve(deviceLink).directory }
        var attributeDirectory = directory
        var extra: [String] = []
        var name = try? SysfsFile.readLine(FilePath.join(directory, "name")).get()
        if let deviceDirectory {
            if name == nil, let deviceName = try? SysfsFile.readLine(FilePath.join(deviceDirectory, "name")).get() {
                name = deviceName
                attributeDirectory = deviceDirectory
            } else {
                extra.append(deviceDirectory)
            }
        }
        let subsystem = deviceDirectory.flatMap { Directory.linkTarget(FilePath.join($0, "subsystem")) }
            .map(FilePath.lastComponent)
        let deviceName = deviceTarget.map(FilePath.lastComponent)
        var adapterName: String?
        if subsystem == nil || subsystem == "i2c", let deviceName, let (bus, _) = ScanLite.decimalDashHex(deviceName) {
            adapterName = try? SysfsFile.readLine(sysfs.path("class/i2c-adapter/i2c-\(bus)/device/name")).get()
        }
        return HwmonChip(
            hwmonName: hwmonName, attributeDirectory: attributeDirectory, extraDirectories: extra, name: name,
            deviceName: deviceName, subsystem: subsystem, i2cAdapterName: adapterName, deviceDirectory: deviceDirectory
        )
    }

    /// The N of every `tempN_input` in a directory, ascending.
    private func temperatureFeatures(in directory: String) -> [Int] {
        guard case .success(let names) = Directory.entries(directory) else { return [] }
        return names.compactMap { name -> Int? in
            guard name.hasPrefix("temp"), name.hasSuffix("_input") else { return nil }
            return Int(name.dropFirst(4).dropLast(6))
        }.sorted()
    }
}
