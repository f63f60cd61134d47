import ErgometerCore
import ErgometerDaemon
import ErgometerTestSupport
import Foundation
import Testing

/// The /metrics page as the real `promtool` and a parser read it: hostile job names and users,
/// a thousand jobs, every family with HELP and TYPE.
struct MetricsExpositionTests {
    static func snapshot(jobs: Int) -> MetricsSnapshot {
        var snapshot = MetricsSnapshot(version: "0.0-test")
        snapshot.domains = [
            .init(domain: "cpu-package", kind: .cpuPackage, source: .rapl, microjoules: 123_456_000, watts: 41.5),
            .init(domain: "dram", kind: .dram, source: .rapl, microjoules: 7_000, watts: 2.25),
            .init(domain: "gpu-0000:03:00.0", kind: .gpu, source: .hwmonPower, microjoules: 450_000_000, watts: 45),
            .init(domain: "platform", kind: .platform, source: .hwmonPower, microjoules: 900_000_000, watts: 310),
            .init(domain: "rest", kind: .rest, source: .hwmonPower, microjoules: 326_537_000, watts: 221.25),
        ]
        snapshot.zones = [
            .init(zone: "intel-rapl:0", domain: "package", socket: 0, source: .rapl, microjoules: 123_456_000, watts: 41.5),
            .init(zone: "intel-rapl:0:0", domain: "dram", socket: 0, source: .rapl, microjoules: 7_000, watts: 2.25),
        ]
        snapshot.temperatures = [TemperatureReading(chip: "coretemp-isa-0000", sensor: "Package id 0", celsius: 61, feature: "temp1", reader: "sysfs")]
        snapshot.cpuBusyRatio = 0.5
        let hostile = ["plain", "with \"quotes\"", "back\\slash", "new\nline", "ünïcødé ✓", "", "{braces}=,"]
        for index in 0..<jobs {
            var job = MetricsSnapshot.Job(
                id: "box-\(index)", name: hostile[index % hostile.count] + " \(index)", user: hostile[(index + 3) % hostile.count],
                microjoules: UInt64(index) * 1_000_000, watts: Double(index) / 10, cpuMicroseconds: UInt64(index) * 250_000,
                co2Grams: Double(index) * 0.125)
            // cpu-package, dram, gpu, platform (never a job's), rest, other
            job.microjoulesByKind = [UInt64(index) * 600_000, UInt64(index) * 100_000, UInt64(index) * 200_000, 0, UInt64(index) * 100_000, 0]
            snapshot.jobs.append(job)
        }
        snapshot.idleMicrojoules = 5_000_000
        snapshot.systemMicrojoules = 1_000
        snapshot.tickSeconds.observe(0.00004)
        snapshot.tickLatenessSeconds.observe(0.0002)
        snapshot.probeErrors = [.rapl: 2, .store: 0, .hwmon: 1]
        return snapshot
    }

    @Test func promtoolAcceptsAThousandJobsWithHostileLabels() throws {
        let page = MetricsExposition.render(Self.snapshot(jobs: 1000))
        let check = try ProcessResult.run("/usr/bin/promtool", ["check", "metrics"], input: page)
        #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")
        #expect(check.standardOutput.isEmpty && check.standardError.isEmpty, "\(check.standardOutput)\(check.standardError)")
    }

    @Test func everyValueReadsBack() {
        let snapshot = Self.snapshot(jobs: 50)
        let samples = PrometheusSample.parse(String(decoding: MetricsExposition.render(snapshot), as: UTF8.self))
        for job in snapshot.jobs {
            let series = samples.filter { $0.labels["job_id"] == job.id }
            let energy = series.filter { $0.name == "ergometer_job_energy_joules_total" }
            let expectedKinds: Set<String> = job.microjoules == 0 ? [] : ["cpu-package", "dram", "gpu", "rest"]
            #expect(Set(energy.compactMap { $0.labels["kind"] }) == expectedKinds, "a series per kind the job used")
            #expect(abs(energy.reduce(0) { $0 + $1.value } - Double(job.microjoules) / 1e6) < 1e-9, "the kinds sum to the job's energy")
            #expect(energy.allSatisfy { $0.labels["user"] == job.user.replacingOccurrences(of: "\n", with: "n") }, "the parser keeps escapes' letters")
            #expect(series.first { $0.name == "ergometer_job_cpu_seconds_total" }?.value == Double(job.cpuMicroseconds) / 1e6)
            #expect(series.first { $0.name == "ergometer_job_co2_grams_total" }?.value == job.co2Grams)
        }
        #expect(samples.first { $0.name == "ergometer_rapl_zone_energy_joules_total" && $0.labels["zone"] == "intel-rapl:0" }?.value == 123.456)
        let domains = samples.filter { $0.name == "ergometer_energy_joules_total" }
        #expect(domains.map { "\($0.labels["domain"]!) \($0.labels["kind"]!) \($0.labels["source"]!)" } == [
            "cpu-package cpu-package rapl", "dram dram rapl", "gpu-0000:03:00.0 gpu hwmon-power", "platform platform hwmon-power", "rest rest hwmon-power",
        ])
        #expect(samples.first { $0.name == "ergometer_power_watts" && $0.labels["domain"] == "rest" }?.value == 221.25)
        #expect(samples.first { $0.name == "ergometer_probe_errors_total" && $0.labels["probe"] == "rapl" }?.value == 2)
        #expect(samples.first { $0.name == "ergometer_build_info" }?.labels["version"] == "0.0-test")
    }

    @Test func everyFamilyHasHelpAndType() {
        let page = String(decoding: MetricsExposition.render(Self.snapshot(jobs: 1)), as: UTF8.self)
        for family in MetricsExposition.familyNames {
            #expect(page.contains("# HELP \(family) "), "\(family)")
            #expect(page.contains("# TYPE \(family) "), "\(family)")
        }
    }

    @Test func theDashboardAndScrapeConfigUseOnlyExportedFamilies() throws {
        let dashboard = try String(contentsOfFile: Fixtures.packageRoot + "/Config/grafana-dashboard.json", encoding: .utf8)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(dashboard.utf8)) as? [String: Any])
        let panels = try #require(json["panels"] as? [[String: Any]])
        #expect(panels.count >= 6)
        let names = Set(dashboard.matches(of: /ergometer_[a-z0-9_]+/).map { String($0.output) })
        #expect(!names.isEmpty)
        for name in names {
            let family = name.replacing(/_(bucket|sum|count)$/, with: "")
            #expect(MetricsExposition.familyNames.contains(family), "the dashboard names \(name), which ergod does not export")
        }
        for required in ["ergometer_power_watts", "ergometer_temperature_celsius", "ergometer_job_power_watts", "ergometer_job_energy_joules_total", "ergometer_job_co2_grams_total"] {
            #expect(names.contains(required), "the dashboard should show \(required)")
        }
        let check = try ProcessResult.run("/usr/bin/promtool", ["check", "config", Fixtures.packageRoot + "/Config/prometheus.yml"])
        #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")
    }
}
