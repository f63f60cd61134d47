import ErgometerCore
import ErgometerProbes
import ErgometerTestSupport
import Foundation
import Testing

/// Some archivers store a symlink as a small file holding its target (`../../devices/...`), as
/// the shared fixture copy does. Such a tree must read exactly like the one with real links.
struct CapturedLinkTests {
    static func flattenedCopy(of tree: String) throws -> String {
        let root = try Fixtures.scratchCopy(of: tree)
        let links = try Fixtures.run("/usr/bin/find", [root, "-type", "l"]).split(separator: "\n").map(String.init)
        #expect(!links.isEmpty)
        for link in links {
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: link)
            try FileManager.default.removeItem(atPath: link)
            try target.write(toFile: link, atomically: false, encoding: .utf8)
        }
        return root
    }

    @Test func flattenedTreeReadsLikeTheLinkedOne() throws {
        let flattened = try Self.flattenedCopy(of: "shared/node-exporter-sys")
        defer { try? FileManager.default.removeItem(atPath: flattened) }
        let original = SysFS(root: Fixtures.path("shared/node-exporter-sys/sys"))
        let captured = SysFS(root: flattened + "/sys")

        #expect(HwmonSysfsReader(sysfs: captured).read().temperatures == HwmonSysfsReader(sysfs: original).read().temperatures)
        #expect(HwmonSysfsReader(sysfs: captured).read().temperatures.count == 15)
        #expect(PowercapReader(sysfs: captured).read().samples.map(\.energyMicrojoules)
            == PowercapReader(sysfs: original).read().samples.map(\.energyMicrojoules))
        let (devices, issues) = PCIReader(sysfs: captured).read()
        #expect(issues.isEmpty)
        #expect(devices == PCIReader(sysfs: original).read().devices)
        #expect(devices.count == 3)
    }
}
