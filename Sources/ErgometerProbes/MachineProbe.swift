public import ErgometerCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Takes one snapshot of everything the machine exposes, through configurable roots.
///
/// Each reader's failure becomes an issue in the snapshot; the others still run. Temperatures
/// come from libsensors on the live `/sys`, from the hwmon files directly under a fixture root.
public struct MachineProbe: Sendable {
    public var sysfs: SysFS
    public var procfs: ProcFS
    public var temperatureReader: TemperatureReaderChoice

    /// Which reader produces temperatures.
    public enum TemperatureReaderChoice: String, Sendable, CaseIterable {
        /// libsensors on the live `/sys`, the sysfs files under any other root.
        case automatic
        case libsensors
        case sysfs
    }

    public init(sysfs: SysFS = SysFS(), procfs: ProcFS = ProcFS(), temperatureReader: TemperatureReaderChoice = .automatic) {
        self.sysfs = sysfs
        self.procfs = procfs
        self.temperatureReader = temperatureReader
    }

    /// Whether temperatures come from libsensors (live `/sys`) or the hwmon files.
    public var usesLibsensors: Bool {
        temperatureReader == .libsensors || (temperatureReader == .automatic && sysfs.isLiveSystem)
    }

    /// Temperatures from the reader this probe uses (see `usesLibsensors`).
    public func temperatures() -> (temperatures: [TemperatureReading], issues: [ProbeIssue]) {
        usesLibsensors ? SensorsLibraryReader().read() : HwmonSysfsReader(sysfs: sysfs).read()
    }

    /// hwmon power and energy sensors from the same reader as temperatures, marked as counted
    /// or not (`PowerSensorSelection`; `raplCoversCPU`: a readable RAPL package zone exists).
    public func powerSensors(raplCoversCPU: Bool) -> (sensors: [PowerSensorReading], issues: [ProbeIssue]) {
        var (sensors, issues) = usesLibsensors ? SensorsLibraryReader().readPowerSensors() : HwmonPowerReader(sysfs: sysfs).read()
        PowerSensorSelection.mark(&sensors, raplCoversCPU: raplCoversCPU)
        return (sensors, issues)
    }

    /// The counters only (RAPL, hwmon power and energy, /proc/stat, boot id), read as close
    /// together as possible.
    /// This is what an interval needs at its two ends.
    public func counters() -> MachineSnapshot {
        var snapshot = MachineSnapshot()
        snapshot.monotonicNanoseconds = MonotonicClock.nanoseconds()
        let (zones, raplIssues) = PowercapReader(sysfs: sysfs).read()
        snapshot.rapl = zones
        snapshot.issues += raplIssues
        let (power, powerIssues) = powerSensors(raplCoversCPU: zones.contains { $0.domain == .package && $0.energyMicrojoules != nil })
        snapshot.powerSensors = power
        snapshot.issues += powerIssues
        switch ProcStatReader.read(procfs: procfs) {
        case .success(let stat): snapshot.cpuStat = stat
        case .failure(let error):
            snapshot.issues.append(ProbeIssueMessages.unreadable(error, consequence: "no CPU utilization, so no model estimate"))
        }
        switch KernelIdentityReader.bootID(procfs: procfs) {
        case .success(let id): snapshot.bootID = id
        case .failure(let error):
            snapshot.issues.append(ProbeIssueMessages.unreadable(error, consequence: "reboots cannot be detected; counters are trusted across them"))
        }
        return snapshot
    }

    /// A full snapshot: the counters plus the slower inventory (CPU model, memory, sensors, PCI).
    public func snapshot() -> MachineSnapshot {
        var snapshot = counters()
        switch CPUInfoReader.read(procfs: procfs) {
        case .success(let info): snapshot.cpuInfo = info
        case .failure(let error):
            snapshot.issues.append(ProbeIssueMessages.unreadable(error, consequence: "CPU model unknown; the power model uses per-CPU averages"))
        }
        switch KernelIdentityReader.memoryTotalBytes(procfs: procfs) {
        case .success(let bytes): snapshot.memoryTotalBytes = bytes
        case .failure(let error):
            snapshot.issues.append(ProbeIssueMessages.unreadable(error, consequence: "memory size unknown"))
        }
        let (temperatures, temperatureIssues) = self.temperatures()
        snapshot.temperatures = temperatures
        snapshot.issues += temperatureIssues
        let (devices, pciIssues) = PCIReader(sysfs: sysfs).read()
        snapshot.pci = devices
        snapshot.issues += pciIssues
        return snapshot
    }
}

/// CLOCK_MONOTONIC: intervals that a wall-clock step cannot bend.
public enum MonotonicClock {
    public static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

/// CLOCK_REALTIME in Unix seconds: timestamps people read (job start, samples, carbon series).
public enum WallClock {
    public static func seconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
