import ErgometerTestSupport
import Foundation
import Testing

/// `ergo probe --json`'s `power_sensors` on the gpu-box tree (amdgpu gauge, i915 and xe
/// counters, an ACPI power meter, a Corsair PSU, amd_energy) against its peers reading the same
/// tree: Debian's prometheus-node-exporter (hwmon collector), and the real libsensors in a
/// private mount namespace.
@Suite(.serialized)
struct HwmonPowerParityTests {
    struct Sensor: Hashable, CustomStringConvertible {
        var driver: String
        var sensor: String
        var value: Double
        var description: String { "\(driver)/\(sensor)=\(value)" }
    }

    static let sys = Fixtures.path("gpu-box/sys")

    /// `ergo probe --json ARGUMENTS`, run after `mounts` (shell commands) in a private mount
    /// namespace when there are any.
    static func probe(_ arguments: [String], after mounts: String? = nil) throws -> [[String: Any]] {
        let ergo = BuiltProducts.executable("ergo")
        let result =
            if let mounts {
                try ProcessResult.run("/usr/bin/unshare", ["-m", "/bin/sh", "-c", "\(mounts) && exec '\(ergo)' probe --json \(arguments.joined(separator: " "))"])
            } else {
                try ProcessResult.run(ergo, ["probe", "--json"] + arguments)
            }
        #expect(result.status == 0, "\(result.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        return try #require(object?["power_sensors"] as? [[String: Any]], "\(result.standardOutput)")
    }

    static func values(_ sensors: [[String: Any]]) -> Set<Sensor> {
        Set(sensors.map { entry in
            Sensor(driver: entry["driver"] as? String ?? "", sensor: entry["sensor"] as? String ?? "",
                   value: (entry["watts"] as? Double) ?? (entry["energy_joules"] as? Double) ?? .nan)
        })
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus-node-exporter"), "needs prometheus-node-exporter (scripts/install-deps)"))
    func equalsWhatNodeExporterReadsFromTheSameTree() throws {
        let port = try Loopback.freePort()
        let exporter = Process()
        exporter.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus-node-exporter")
        exporter.arguments = ["--path.sysfs=\(Self.sys)", "--collector.disable-defaults", "--collector.hwmon", "--web.listen-address=127.0.0.1:\(port)"]
        exporter.standardOutput = FileHandle.nullDevice
        exporter.standardError = FileHandle.nullDevice
        try exporter.run()
        defer { exporter.terminate() }
        try Loopback.waitForListener("http://127.0.0.1:\(port)/metrics")
        let samples = PrometheusSample.parse(try Loopback.get("http://127.0.0.1:\(port)/metrics").standardOutput)
        // node_exporter labels chips by device path; its chip_names metric gives the driver name.
        var drivers: [String: String] = [:]
        for sample in samples where sample.name == "node_hwmon_chip_names" { drivers[sample.labels["chip"]!] = sample.labels["chip_name"]! }
        var theirs = Set<Sensor>()
        var gauges: [String: Double] = [:]  // driver/sensor → _average, else _input
        for sample in samples {
            let key = "\(drivers[sample.labels["chip"] ?? ""] ?? "?")/\(sample.labels["sensor"] ?? "")"
            switch sample.name {
            case "node_hwmon_energy_joule_total":
                theirs.insert(Sensor(driver: String(key.split(separator: "/")[0]), sensor: sample.labels["sensor"]!, value: sample.value))
            case "node_hwmon_power_average_watt": gauges[key] = sample.value
            case "node_hwmon_power_watt": if gauges[key] == nil { gauges[key] = sample.value }
            default: break
            }
        }
        for (key, value) in gauges {
            let parts = key.split(separator: "/")
            theirs.insert(Sensor(driver: String(parts[0]), sensor: String(parts[1]), value: value))
        }
        let ours = Self.values(try Self.probe(["--sysfs-root", Self.sys, "--procfs-root", Fixtures.path("gpu-box/proc")]))
        #expect(theirs.count == 10, "\(theirs)")
        #expect(ours == theirs, "only ours: \(ours.subtracting(theirs)); only node_exporter's: \(theirs.subtracting(ours))")
    }

    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"), "needs root for unshare -m"))
    func libsensorsAgreesWithTheSysfsReader() throws {
        let mounts = "mount --bind '\(Self.sys)/class' /sys/class && mount --bind '\(Self.sys)/devices' /sys/devices"
        let library = try Self.probe(["--temperature-reader", "libsensors"], after: mounts)
        let direct = try Self.probe(["--sysfs-root", Self.sys, "--temperature-reader", "sysfs"])
        #expect(library.allSatisfy { $0["reader"] as? String == "libsensors" })
        func comparable(_ sensors: [[String: Any]]) -> Set<String> {
            Set(sensors.map { entry in
                ["chip", "sensor", "label", "kind", "class", "pci_slot", "counted_in_host", "watts", "energy_joules"]
                    .map { "\(entry[$0] ?? "absent")" }.joined(separator: " ")
            })
        }
        #expect(comparable(library).count == 10)
        #expect(comparable(library) == comparable(direct), "only libsensors: \(comparable(library).subtracting(comparable(direct))); only sysfs: \(comparable(direct).subtracting(comparable(library)))")
    }
}
