import ErgometerCore
import ErgometerProbes
import ErgometerTestSupport
import Foundation
import Testing

/// Our readings of node_exporter's own fixture tree must equal what node_exporter reports for it
/// (Tests/Fixtures/shared/node-exporter-sys.expected*.prom, from node_exporter's e2e test).
struct NodeExporterParityTests {
    static let tree = Fixtures.path("shared/node-exporter-sys")

    static func expected(_ file: String) throws -> [PrometheusSample] {
        PrometheusSample.parse(try String(contentsOfFile: Fixtures.path("shared/\(file)"), encoding: .utf8))
    }

    @Test func raplJoulesMatch() throws {
        let (zones, issues) = PowercapReader(sysfs: SysFS(root: Self.tree + "/sys")).read()
        #expect(issues.isEmpty)
        let expected = try Self.expected("node-exporter-sys.expected.prom").filter { $0.name.hasPrefix("node_rapl_") }
        #expect(expected.count == 2)
        // node_exporter: metric node_rapl_<name without -N>_joules_total, index = N or the count of earlier same names.
        var seen: [String: Int] = [:]
        var ours: [String: Double] = [:]
        for zone in zones {
            let parts = zone.name.split(separator: "-", maxSplits: 1)
            let base = String(parts[0])
            let index = parts.count == 2 ? Int(parts[1])! : seen[base, default: 0]
            seen[base, default: 0] += 1
            ours["node_rapl_\(base)_joules_total/\(index)"] = Double(zone.energyMicrojoules!) / 1e6
        }
        for sample in expected {
            #expect(ours["\(sample.name)/\(sample.labels["index"]!)"] == sample.value, "\(sample.name)")
        }
        #expect(ours.count == expected.count)
    }

    /// node_exporter's chip label for each of our chip names in this tree (its rule is in the
    /// fixtures README: device parent and name, else the `name` file, else the hwmon directory).
    static let chipNames = [
        "platform_coretemp_0": "coretemp-isa-0000",
        "platform_coretemp_1": "coretemp-isa-0001",
        "hwmon4": "hwmon4",
        "ieee80211_phy0_mt7996_phy0_0": "mt7996_phy0_0-isa-0000",
        "ieee80211_phy0_mt7996_phy0_1": "mt7996_phy0_1-isa-0000",
        "ieee80211_phy0_mt7996_phy0_2": "mt7996_phy0_2-isa-0000",
    ]

    @Test func temperaturesAndLabelsMatch() throws {
        let (readings, issues) = HwmonSysfsReader(sysfs: SysFS(root: Self.tree + "/sys")).read()
        #expect(issues.isEmpty)
        let samples = try Self.expected("node-exporter-sys.expected.prom")
        let temperatures = samples.filter { $0.name == "node_hwmon_temp_celsius" }
        #expect(temperatures.count == 15)
        #expect(readings.count == temperatures.count)
        for sample in temperatures {
            let chip = try #require(Self.chipNames[sample.labels["chip"]!])
            let feature = sample.labels["sensor"]!
            let reading = readings.first { $0.chip == chip && $0.feature == feature }
            #expect(reading?.celsius == sample.value, "\(chip) \(feature)")
            if let label = samples.first(where: {
                $0.name == "node_hwmon_sensor_label" && $0.labels["chip"] == sample.labels["chip"]
                    && $0.labels["sensor"] == feature
            })?.labels["label"] {
                #expect(reading?.sensor == label, "\(chip) \(feature)")
            } else {
                #expect(reading?.sensor == feature, "an unlabelled sensor is named by its feature")
            }
        }
    }

    @Test func procStatMatchesNodeCPUSeconds() throws {
        let stat = try ProcStatReader.read(procfs: ProcFS(root: Self.tree + "/proc")).get()
        let seconds = try Self.expected("node-exporter-sys.expected-extra.prom").filter { $0.name == "node_cpu_seconds_total" }
        #expect(stat.perCPU.count == 8)
        for (cpu, times) in stat.perCPU {
            func mode(_ name: String) -> Double {
                seconds.first { $0.labels["cpu"] == String(cpu) && $0.labels["mode"] == name }?.value ?? .nan
            }
            let busy = ["user", "nice", "system", "irq", "softirq"].map(mode).reduce(0, +)
            let idle = mode("idle") + mode("iowait")
            #expect(abs(Double(times.busyTicks) / 100 - busy) < 1e-6, "cpu\(cpu) busy")
            #expect(abs(Double(times.idleTicks) / 100 - idle) < 1e-6, "cpu\(cpu) idle")
            #expect(abs(Double(times.stealTicks) / 100 - mode("steal")) < 1e-6, "cpu\(cpu) steal")
        }
    }

    @Test func telegrafAMDTreesMatchTelegraf() throws {
        for (tree, expectedFile) in [("general", "general/expected_v2.out"), ("with_device_tag", "with_device_tag/expected_v2.out")] {
            let (readings, _) = HwmonSysfsReader(sysfs: SysFS(root: Fixtures.path("shared/telegraf-temp/\(tree)/sys"))).read()
            let lines = try String(contentsOfFile: Fixtures.path("shared/telegraf-temp/\(expectedFile)"), encoding: .utf8)
                .split(separator: "\n")
            // Telegraf's sensor tag is "<chip name>_<label>" lower-cased with spaces as underscores.
            let expected = lines.map { line -> (String, Double) in
                let sensor = line.split(separator: "sensor=")[1].split(separator: " ")[0]
                return (String(sensor), Double(line.split(separator: "temp=")[1])!)
            }
            let ours = readings.map { reading -> (String, Double) in
                let chip = reading.chip.split(separator: "-")[0]
                return ("\(chip)_\(reading.sensor)".lowercased().replacingOccurrences(of: " ", with: "_"), reading.celsius)
            }
            #expect(ours.map(\.0).sorted() == expected.map(\.0).sorted(), "\(tree)")
            #expect(ours.map(\.1).sorted() == expected.map(\.1).sorted(), "\(tree)")
        }
    }
}
