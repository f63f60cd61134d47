import ErgometerCore
import ErgometerProbes
import ErgometerTestSupport
import Foundation
import Testing

/// libpci through its sysfs back end on fixture trees, names from Debian's pci.ids.
struct PCIReaderTests {
    @Test func nodeExporterTreeNamesFromPciIDs() throws {
        let (devices, issues) = PCIReader(sysfs: SysFS(root: Fixtures.path("shared/node-exporter-sys/sys"))).read()
        #expect(issues.isEmpty)
        #expect(devices.map(\.slot) == ["0000:00:02.1", "0000:01:00.0", "0000:45:00.0"])
        #expect(devices.map(\.classCode) == ["0x060400", "0x010802", "0x020000"])
        #expect(devices.map(\.vendorID) == ["0x1022", "0xc0a9", "0x8086"])
        #expect(devices[1].class == "Non-Volatile memory controller")
        #expect(devices[2].vendor == "Intel Corporation")
        #expect(devices[2].device.contains("I350"))
        #expect(devices.filter(\.accelerator).isEmpty)
    }

    @Test func acceleratorsAreFlaggedAndTheBMCDisplayIsNot() throws {
        let (devices, issues) = PCIReader(sysfs: SysFS(root: Fixtures.path("amd/sys"))).read()
        #expect(issues.isEmpty)
        let bySlot = Dictionary(uniqueKeysWithValues: devices.map { ($0.slot, $0) })
        #expect(bySlot["0000:c1:00.0"]?.accelerator == true)  // NVIDIA 3D controller
        #expect(bySlot["0000:c1:00.0"]?.vendor == "NVIDIA Corporation")
        #expect(bySlot["0000:c2:00.0"]?.accelerator == false)  // ASPEED VGA
        #expect(bySlot["0000:00:18.3"]?.accelerator == false)
    }

    @Test func aBrokenDeviceDirectoryIsAnIssueNotAnExit() throws {
        let root = try Fixtures.scratchCopy(of: "amd")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.removeItem(atPath: root + "/sys/devices/pci0000:00/0000:00:18.3/vendor")
        // libpci's default handler would call exit(1) here and take the test runner with it.
        let (devices, issues) = PCIReader(sysfs: SysFS(root: root + "/sys")).read()
        #expect(devices.isEmpty)
        let issue = try #require(issues.first)
        #expect(issue.message.contains("libpci"))
        #expect(issue.message.contains("vendor"))
    }

    @Test func aTreeWithoutPCIReadsNothingAndSaysNothing() {
        let (devices, issues) = PCIReader(sysfs: SysFS(root: Fixtures.path("intel-2s/sys"))).read()
        #expect(devices.isEmpty)
        #expect(issues.isEmpty)
    }

    @Test func withoutPciIDsTheNumbersStand() throws {
        let (devices, _) = PCIReader(sysfs: SysFS(root: Fixtures.path("amd/sys")), idsFile: "/nonexistent/pci.ids").read()
        let gpu = try #require(devices.first { $0.slot == "0000:c1:00.0" })
        #expect(gpu.vendor == "Vendor 10de")
        #expect(gpu.device == "Device 2330")
        #expect(gpu.accelerator)
    }
}
