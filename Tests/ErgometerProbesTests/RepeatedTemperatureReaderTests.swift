import ErgometerCore
import ErgometerProbes
import ErgometerTestSupport
import Foundation
import Testing

/// ergod's temperature reads keep the hwmon walk and read only the inputs; what they return
/// must stay what a fresh walk returns as chips change, go and come.
struct RepeatedTemperatureReaderTests {
    static let second: UInt64 = 1_000_000_000

    func tree() throws -> (sys: String, reader: RepeatedTemperatureReader) {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        let sys = root + "/sys"
        return (sys, RepeatedTemperatureReader(probe: MachineProbe(sysfs: SysFS(root: sys), temperatureReader: .sysfs), rescanSeconds: 60))
    }

    /// What a walk of the tree reads now: the reference each kept read is held against.
    func fresh(_ sys: String) -> [TemperatureReading] {
        HwmonSysfsReader(sysfs: SysFS(root: sys)).read().temperatures
    }

    func write(_ text: String, _ path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    @Test func aChangedInputIsReadWithoutAnotherWalk() throws {
        let (sys, reader) = try tree()
        let first = reader.read(now: Self.second)
        #expect(first.issues.isEmpty)
        #expect(first.temperatures == fresh(sys))
        #expect(first.temperatures.count == 4, "\(first.temperatures)")
        try write("87500\n", sys + "/devices/platform/coretemp.0/hwmon/hwmon2/temp2_input")
        let second = reader.read(now: 6 * Self.second)
        #expect(reader.walks == 1)
        #expect(second.temperatures == fresh(sys))
        #expect(second.temperatures.contains { $0.chip == "coretemp-isa-0000" && $0.feature == "temp2" && $0.celsius == 87.5 })
    }

    @Test func aChipThatGoesIsDroppedAtOnce() throws {
        let (sys, reader) = try tree()
        _ = reader.read(now: Self.second)
        try FileManager.default.removeItem(atPath: sys + "/class/hwmon/hwmon2")
        try FileManager.default.removeItem(atPath: sys + "/devices/platform/coretemp.0")
        let after = reader.read(now: 2 * Self.second)
        #expect(reader.walks == 2)
        #expect(after.issues.isEmpty, "\(after.issues)")
        #expect(after.temperatures == fresh(sys))
        #expect(after.temperatures.map(\.chip) == ["acpitz-virtual-0"])
    }

    @Test func aChipThatComesIsSeenAtTheNextRescan() throws {
        let (sys, reader) = try tree()
        let before = reader.read(now: Self.second)
        try FileManager.default.copyItem(atPath: sys + "/devices/virtual/thermal/thermal_zone0", toPath: sys + "/devices/virtual/thermal/thermal_zone1")
        try FileManager.default.moveItem(
            atPath: sys + "/devices/virtual/thermal/thermal_zone1/hwmon0", toPath: sys + "/devices/virtual/thermal/thermal_zone1/hwmon5")
        try FileManager.default.createSymbolicLink(
            atPath: sys + "/class/hwmon/hwmon5", withDestinationPath: "../../devices/virtual/thermal/thermal_zone1/hwmon5")
        #expect(reader.read(now: 30 * Self.second).temperatures == before.temperatures)  // within the minute: the walk kept
        let rescanned = reader.read(now: 62 * Self.second)
        #expect(reader.walks == 2)
        #expect(rescanned.temperatures == fresh(sys))
        #expect(rescanned.temperatures.count == before.temperatures.count + 1)
    }

    @Test func aSensorThatAlwaysFailsIsNoReasonToWalkAgain() throws {
        let (sys, reader) = try tree()
        let input = sys + "/devices/platform/coretemp.0/hwmon/hwmon2/temp6_input"
        try FileManager.default.removeItem(atPath: input)
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: false)  // reads fail (EISDIR)
        for tick in 1...5 {
            let result = reader.read(now: UInt64(tick * 5) * Self.second)
            #expect(result.issues.count == 1, "\(result.issues)")
            #expect(result.temperatures.count == 3)
        }
        #expect(reader.walks == 1)
    }
}
