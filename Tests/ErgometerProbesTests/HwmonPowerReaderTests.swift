import ErgometerCore
import ErgometerProbes
import ErgometerTestSupport
import Testing

/// The gpu-box fixture: an amdgpu gauge, an i915 counter, an xe card with `card` and `pkg`
/// counters, an ACPI power meter, a Corsair PSU with rails, and amd_energy beside RAPL.
struct HwmonPowerReaderTests {
    static let sysfs = SysFS(root: Fixtures.path("gpu-box/sys"))

    static func sensors() -> [PowerSensorReading] {
        let (sensors, issues) = MachineProbe(sysfs: sysfs, procfs: ProcFS(root: Fixtures.path("gpu-box/proc"))).powerSensors(raplCoversCPU: true)
        #expect(issues.isEmpty, "\(issues)")
        return sensors
    }

    @Test func everySensorIsFoundNamedAndClassed() {
        let found = Self.sensors().map { "\($0.chip) \($0.descriptor.sensor) \($0.descriptor.file) \($0.sensorClass) \($0.pciSlot ?? "-") \($0.value)" }
        #expect(found.sorted() == [
            "amd_energy-isa-0000 energy1 energy1_input cpu - 1234567890",
            "amd_energy-isa-0000 energy2 energy2_input cpu - 9876543210",
            "amdgpu-pci-0300 power1 power1_average gpu 0000:03:00.0 45000000",
            "corsairpsu-hid-3-1 power1 power1_input platform - 342000000",
            "corsairpsu-hid-3-1 power2 power2_input platform - 290000000",
            "corsairpsu-hid-3-1 power3 power3_input platform - 30000000",
            "i915-pci-0400 energy1 energy1_input gpu 0000:04:00.0 3456789012",
            "power_meter-acpi-0 power1 power1_average platform - 310000000",
            "xe-pci-0500 energy1 energy1_input gpu 0000:05:00.0 987654321",
            "xe-pci-0500 energy2 energy2_input gpu 0000:05:00.0 654321000",
        ])
    }

    @Test func eachPartOfTheBoxIsCountedOnce() {
        let sensors = Self.sensors()
        let counted = sensors.filter(\.countedInHost).map { "\($0.chip) \($0.descriptor.sensor)" }
        // xe's pkg is inside card; the PSU is inside the ACPI meter; amd_energy is RAPL's socket.
        #expect(counted.sorted() == ["amdgpu-pci-0300 power1", "i915-pci-0400 energy1", "power_meter-acpi-0 power1", "xe-pci-0500 energy1"])
        #expect(sensors.first { $0.chip.hasPrefix("xe") && $0.descriptor.sensor == "energy2" }?.note == "inside the chip's energy1 sensor")
        #expect(sensors.first { $0.driver == "amd_energy" }?.note == "RAPL covers this socket")
        #expect(sensors.first { $0.driver == "corsairpsu" }?.note == "the ACPI power meter measures the whole box")
    }

    @Test func withoutAnACPIMeterThePSUsWholeSensorCounts() {
        var sensors = Self.sensors().filter { $0.driver != "power_meter" }
        PowerSensorSelection.mark(&sensors, raplCoversCPU: true)
        #expect(sensors.filter { $0.driver == "corsairpsu" && $0.countedInHost }.map(\.descriptor.sensor) == ["power1"], "the total, not a rail")
    }

    @Test(arguments: [
        ("amdgpu", nil, PowerSensorClass.gpu), ("nouveau", nil, .gpu), ("xe", nil, .gpu), ("power_meter", nil, .platform),
        ("corsairpsu", nil, .platform), ("zenpower", nil, .cpu), ("nct6798", nil, .other), ("somedriver", 0x030200, .gpu),
        ("habanalabs", 0x120000, .gpu), ("nvme", 0x010802, .other),
    ] as [(String, UInt32?, PowerSensorClass)])
    func chipsAreClassedByDriverAndPCIClass(driver: String, classCode: UInt32?, expected: PowerSensorClass) {
        #expect(PowerSensorClass.classify(driver: driver, pciClassCode: classCode) == expected)
    }
}
