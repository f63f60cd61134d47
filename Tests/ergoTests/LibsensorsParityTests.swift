import ErgometerTestSupport
import Foundation
import Testing

/// The real libsensors, reading a fixture tree through `/sys/class` in a private mount namespace,
/// must agree with Ergometer's direct sysfs reader on the same tree: same chips, sensors, values.
@Suite(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"),
    "needs root for unshare -m and bind mounts over /sys/class (CI runs as root)"))
struct LibsensorsParityTests {
    struct Reading: Hashable, CustomStringConvertible {
        var chip: String
        var feature: String
        var sensor: String
        var celsius: Double
        var description: String { "\(chip)/\(feature) \(sensor)=\(celsius)" }
    }

    static func readings(_ result: ProcessResult) throws -> [Reading] {
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        let temperatures = try #require(object?["temperatures"] as? [[String: Any]], "\(result.standardError)")
        return temperatures.map {
            Reading(
                chip: $0["chip"] as? String ?? "", feature: $0["feature"] as? String ?? "",
                sensor: $0["sensor"] as? String ?? "", celsius: $0["celsius"] as? Double ?? .nan)
        }
    }

    @Test(arguments: ["shared/node-exporter-sys", "intel-1s", "amd", "shared/telegraf-temp/general"])
    func libsensorsAgreesWithTheSysfsReader(tree: String) throws {
        let sys = Fixtures.path(tree) + "/sys"
        let ergo = BuiltProducts.executable("ergo")
        var mounts = "mount --bind '\(sys)/class' /sys/class"
        if FileManager.default.fileExists(atPath: sys + "/devices") {
            mounts += " && mount --bind '\(sys)/devices' /sys/devices"
        }
        let viaLibrary = try ProcessResult.run(
            "/usr/bin/unshare",
            ["-m", "/bin/sh", "-c", "\(mounts) && exec '\(ergo)' probe --json --temperature-reader libsensors"])
        #expect(viaLibrary.status == 0, "\(viaLibrary.standardError)")
        let viaSysfs = try ProcessResult.run(ergo, ["probe", "--json", "--sysfs-root", sys, "--temperature-reader", "sysfs"])
        let library = try Self.readings(viaLibrary)
        let direct = try Self.readings(viaSysfs)
        #expect(!library.isEmpty)
        // Every reading libsensors makes, the sysfs reader makes identically.
        #expect(Set(library).subtracting(direct).isEmpty, "only in libsensors: \(Set(library).subtracting(direct))")
        // What only the sysfs reader sees are chips libsensors ignores: no `name` file.
        let onlyDirect = Set(direct).subtracting(library)
        #expect(onlyDirect.allSatisfy { $0.chip.hasPrefix("hwmon") }, "only in sysfs: \(onlyDirect)")
    }
}
