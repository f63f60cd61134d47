import ErgometerTestSupport
import Foundation
import Testing

/// `ergo probe` end to end: the built binary on fixture trees and on this machine.
struct ProbeCommandTests {
    static let ergo = BuiltProducts.executable("ergo")

    static func probe(_ arguments: [String]) throws -> ProcessResult {
        try ProcessResult.run(ergo, ["probe"] + arguments)
    }

    static func json(_ result: ProcessResult) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(result.standardOutput)")
    }

    static func roots(_ tree: String) -> [String] {
        ["--sysfs-root", Fixtures.path(tree) + "/sys", "--procfs-root", Fixtures.path(tree) + "/proc"]
    }

    @Test func jsonOnNodeExportersTreeGivesNodeExportersJoules() throws {
        let result = try Self.probe(["--json"] + Self.roots("shared/node-exporter-sys"))
        #expect(result.status == 0, "\(result.standardError)")
        let report = try Self.json(result)
        for key in ["rapl", "temperatures", "cpu", "pci", "power_source", "errors"] {
            #expect(report[key] != nil, "missing key \(key)")
        }
        let zones = try #require(report["rapl"] as? [[String: Any]])
        let expected = PrometheusSample.parse(
            try String(contentsOfFile: Fixtures.path("shared/node-exporter-sys.expected.prom"), encoding: .utf8))
        let package = try #require(expected.first { $0.name == "node_rapl_package_joules_total" })
        let core = try #require(expected.first { $0.name == "node_rapl_core_joules_total" })
        #expect(zones.map { $0["name"] as? String } == ["package-0", "core"])
        #expect(zones[0]["energy_joules"] as? Double == package.value)
        #expect(zones[1]["energy_joules"] as? Double == core.value)
        for key in ["name", "kind", "socket", "path", "energy_joules", "max_energy_joules"] {
            #expect(zones[0][key] != nil, "zone key \(key)")
        }
        let temperatures = try #require(report["temperatures"] as? [[String: Any]])
        #expect(temperatures.count == expected.filter { $0.name == "node_hwmon_temp_celsius" }.count)
        #expect((report["power_source"] as? [String: Any])?["source"] as? String == "rapl")
    }

    @Test(arguments: [
        ["--interval", "0"],
        ["--interval", "-1"],
        ["--no-such-flag"],
        ["--sysfs-root", "/nonexistent/sys"],
        ["--tdp-watts", "0"],
        ["--tdp-watts", "10", "--idle-watts", "20"],
        ["--temperature-reader", "guess"],
    ])
    func badArgumentsExitTwoAndSayWhy(_ arguments: [String]) throws {
        let result = try Self.probe(arguments)
        #expect(result.status == 2)
        #expect(result.standardError.contains("Error:"))
        #expect(result.standardOutput.isEmpty)
    }

    @Test func nothingReadableExitsOne() throws {
        let empty = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let result = try Self.probe(["--json", "--sysfs-root", empty, "--procfs-root", empty])
        #expect(result.status == 1)
        let errors = try #require(try Self.json(result)["errors"] as? [[String: Any]])
        #expect(errors.contains { ($0["path"] as? String)?.hasSuffix("/stat") == true })
    }

    @Test(.enabled(if: getuid() == 0, "dropping privileges needs root (CI runs as root)"))
    func nonRootReaderIsToldWhyAndGetsTheModel() throws {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        defer { try? FileManager.default.removeItem(atPath: root) }
        // As on kernels with the PLATYPUS fix: energy_uj is 0400 root.
        let powercap = root + "/sys/devices/virtual/powercap"
        try Fixtures.run("/usr/bin/find", [powercap, "-name", "energy_uj", "-exec", "chmod", "0400", "{}", "+"])
        try Fixtures.run("/bin/chmod", ["-R", "a+rX", root + "/sys/class", root + "/proc"])
        try Fixtures.run("/bin/chmod", ["755", root])
        let result = try ProcessResult.run(
            "/usr/bin/setpriv",
            ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", Self.ergo, "probe", "--json"] + [
                "--sysfs-root", root + "/sys", "--procfs-root", root + "/proc",
            ])
        #expect(result.status == 0, "\(result.standardError)")
        let report = try Self.json(result)
        let errors = try #require(report["errors"] as? [[String: Any]])
        let denied = errors.filter { ($0["path"] as? String)?.hasSuffix("intel-rapl:0/energy_uj") == true }
        #expect(denied.count == 1)
        let message = denied.first?["message"] as? String ?? ""
        #expect(message.contains("permission denied"))
        #expect(message.contains("root"))
        #expect(message.contains("PLATYPUS"))
        #expect((report["power_source"] as? [String: Any])?["source"] as? String == "model")
        // The rest of the snapshot still prints: temperatures, CPU, zones by name.
        #expect((report["temperatures"] as? [Any])?.count == 4)
        #expect((report["rapl"] as? [[String: Any]])?.count == 6)
        #expect((report["cpu"] as? [String: Any])?["logical_cpus"] as? Int == 4)
    }

    @Test func intervalOnThisMachineNamesItsSource() throws {
        let result = try Self.probe(["--json", "--interval", "0.2"])
        #expect(result.status == 0, "\(result.standardError)")
        let report = try Self.json(result)
        let power = try #require(report["power_source"] as? [String: Any])
        let watts = try #require(power["host_power_watts"] as? Double)
        #expect(watts > 0)
        #expect(report["interval_seconds"] as? Double ?? 0 >= 0.2)
        let hasRapl = !((report["rapl"] as? [[String: Any]]) ?? []).filter { $0["counted_in_host"] as? Bool == true && $0["energy_joules"] != nil }.isEmpty
        #expect(power["source"] as? String == (hasRapl ? "rapl" : "model"))
        if !hasRapl {
            let errors = try #require(report["errors"] as? [[String: Any]])
            #expect(errors.contains { ($0["path"] as? String)?.hasSuffix("class/powercap") == true || ($0["message"] as? String)?.contains("energy_uj") == true })
        }
    }

    /// intel-1s: RAPL zones and temperatures; gpu-box: hwmon power and energy sensors of every class.
    @Test(arguments: ["intel-1s", "gpu-box"])
    func textOutputMatchesTheSnapshot(tree: String) throws {
        // Relative roots so the snapshot does not depend on where the checkout lives.
        let process = try ProcessResult.run(
            "/bin/sh", ["-c", "cd '\(Fixtures.root)' && exec '\(Self.ergo)' probe --sysfs-root \(tree)/sys --procfs-root \(tree)/proc --nvml-library no-nvml/libnvidia-ml.so.1"])
        #expect(process.status == 0)
        try Snapshot.assert(process.standardOutput, named: "probe-\(tree).txt")
    }
}

/// Golden files under Tests/ergoTests/Snapshots; `RECORD_SNAPSHOTS=1 swift test` re-records them.
enum Snapshot {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots").path

    static func assert(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = directory + "/" + name
        if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1" || !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
            if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] != "1" {
                Issue.record("recorded a new snapshot \(name); check it and run again", sourceLocation: sourceLocation)
            }
            return
        }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        #expect(actual == expected, "differs from Snapshots/\(name); RECORD_SNAPSHOTS=1 to re-record", sourceLocation: sourceLocation)
    }
}

struct BenchCommandTests {
    @Test func benchTimesEachReadAgainstTheBaseline() throws {
        let tree = Fixtures.path("intel-1s")
        let result = try ProcessResult.run(
            BuiltProducts.executable("ergo"),
            ["bench", "--iterations", "20", "--sysfs-root", tree + "/sys", "--procfs-root", tree + "/proc"])
        #expect(result.status == 0, "\(result.standardError)")
        let rows = result.standardOutput.split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.contains("OPERATION") }
        #expect(rows.count == 7)
        #expect(rows.first?.hasSuffix(" 1.0") == true, "the baseline is 1.0 × itself")
        #expect(result.standardOutput.contains("RAPL counters of discovered zones (6)"))
    }
}
