public import ErgometerCore

/// Temperatures read again and again (ergod reads them every few seconds): under a fixture root
/// the walk of `class/hwmon` (listings, links, names, labels: ~20 system calls a chip) is kept,
/// and a read opens only the inputs. The walk is done again after `rescanSeconds` (a chip that
/// appears is seen within that), and at once when more inputs fail to read than right after the
/// last walk (a chip that went away, a driver rebound under another hwmon number; a sensor
/// that always fails, as some do, is no reason to walk again). libsensors, on the live `/sys`, is
/// read as `MachineProbe.temperatures()` reads it.
public final class RepeatedTemperatureReader {
    public let probe: MachineProbe
    public let rescanSeconds: Double
    private var sensors: [HwmonSysfsReader.Sensor] = []
    private var walkedAt: UInt64?
    private var failuresAfterWalk = 0
    /// Walks of `class/hwmon` so far (for tests and benchmarks).
    public private(set) var walks = 0

    public init(probe: MachineProbe, rescanSeconds: Double = 60) {
        self.probe = probe
        self.rescanSeconds = rescanSeconds
    }

    /// The readings at monotonic time `now` (ns), as `MachineProbe.temperatures()` gives them.
    public func read(now: UInt64) -> (temperatures: [TemperatureReading], issues: [ProbeIssue]) {
        guard !probe.usesLibsensors else { return probe.temperatures() }
        if let walkedAt, Double(now &- walkedAt) / 1e9 < rescanSeconds {
            let kept = HwmonSysfsReader.read(sensors)
            if kept.issues.count <= failuresAfterWalk { return kept }
        }
        let reader = HwmonSysfsReader(sysfs: probe.sysfs)
        let (found, listingIssues) = reader.sensors()
        walks += 1
        sensors = found
        walkedAt = listingIssues.isEmpty ? now : nil  // a listing that failed is tried again next time
        let (temperatures, issues) = HwmonSysfsReader.read(found)
        failuresAfterWalk = issues.count
        return (temperatures, listingIssues + issues)
    }
}
