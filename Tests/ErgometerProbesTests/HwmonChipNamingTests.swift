import ErgometerCore
import ErgometerProbes
import ErgometerTestSupport
import Testing

/// Chip names follow lm-sensors (`<name>-<bus>-<address>`), derived from the device link, so they
/// survive the `hwmonN` renumbering of a reboot.
struct HwmonChipNamingTests {
    func chips(_ tree: String) -> [String] {
        var names: [String] = []
        for reading in HwmonSysfsReader(sysfs: SysFS(root: Fixtures.path(tree))).read().temperatures where !names.contains(reading.chip) {
            names.append(reading.chip)
        }
        return names
    }

    @Test func platformAndVirtualChips() {
        #expect(chips("intel-1s/sys") == ["acpitz-virtual-0", "coretemp-isa-0000"])
    }

    @Test func pciChipAddressEncodesDomainBusSlotFunction() {
        #expect(chips("amd/sys") == ["k10temp-pci-00c3"])
    }

    @Test func danglingDeviceLinksStillName() {
        // Telegraf's tree: device links whose targets are not in the fixture.
        #expect(chips("shared/telegraf-temp/with_device_tag/sys") == ["nvme-isa-0000", "nvme-isa-0000", "k10temp-pci-00c3"].uniqued())
    }

    @Test func platformInstanceNumberIsTheAddress() {
        // nct6775.656 → 0x290; asus-nb-wmi has no instance → 0; hwmon4 has no name at all.
        let names = chips("shared/node-exporter-sys/sys")
        #expect(names.contains("coretemp-isa-0001"))
        #expect(names.contains("hwmon4"))
    }

    @Test func renumberedHwmonKeepsItsName() throws {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        try Fixtures.run("/bin/mv", [root + "/sys/class/hwmon/hwmon2", root + "/sys/class/hwmon/hwmon7"])
        let readings = HwmonSysfsReader(sysfs: SysFS(root: root + "/sys")).read().temperatures
        #expect(Set(readings.map(\.chip)) == ["acpitz-virtual-0", "coretemp-isa-0000"])
        try Fixtures.run("/bin/rm", ["-rf", root])
    }

    @Test func unreadableSensorIsAnIssueAndOthersStillRead() throws {
        let root = try Fixtures.scratchCopy(of: "amd")
        let input = root + "/sys/devices/pci0000:00/0000:00:18.3/hwmon/hwmon1/temp1_input"
        try Fixtures.run("/bin/rm", [input])
        try Fixtures.run("/bin/mkdir", [input])  // a read now fails with EISDIR
        let (readings, issues) = HwmonSysfsReader(sysfs: SysFS(root: root + "/sys")).read()
        #expect(readings.map(\.sensor) == ["Tccd1"])
        #expect(issues.map(\.path) == [root + "/sys/class/hwmon/hwmon1/temp1_input"])  // as reached through class/hwmon
        try Fixtures.run("/bin/rm", ["-rf", root])
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
