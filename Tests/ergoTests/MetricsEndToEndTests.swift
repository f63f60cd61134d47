import ErgometerCore
import ErgometerTestSupport
import ErgometerWire
import Foundation
import Testing

extension LoadSensitiveSuites {
    /// ergod's /metrics on loopback, read by curl, the real `promtool` and a real Prometheus server,
    /// while `ergo run` jobs run on a fixture tree whose RAPL counters a simulated meter advances.
    @Suite(.serialized, .enabled(if: getuid() == 0, "job cgroups need root (CI runs as root)"))
    struct MetricsEndToEndTests {
        static func configuration(_ metrics: String) -> String {
            "[daemon]\ninterval_seconds = 0.1\ncheckpoint_seconds = 0.5\n[metrics]\n" + metrics + "\n"
        }

        static func samples(_ url: String) throws -> [PrometheusSample] {
            let page = try Loopback.get(url)
            #expect(page.status == 0, "\(page.standardError)")
            return PrometheusSample.parse(page.standardOutput)
        }

        /// ergod listening on a free loopback port, on a fixture tree whose counters a simulated
        /// meter advances (10 W idle + 20 W per busy core on the package, 5 W DRAM).
        final class MeteredDaemon {
            let root: String
            let meter: SimulatedRAPL
            let daemon: RunningDaemon
            let url: String

            init(metrics: String) throws {
                root = try Fixtures.scratchCopy(of: "intel-1s")
                meter = try SimulatedRAPL(sysfs: root + "/sys", idleWatts: 10, wattsPerBusyCore: 20, dramWatts: 5, packageStartBelowWrap: 50_000_000)
                meter.start()
                let port = try Loopback.freePort()
                daemon = try RunningDaemon(root: root, configuration: MetricsEndToEndTests.configuration(metrics), listen: "127.0.0.1:\(port)")
                url = "http://127.0.0.1:\(port)/metrics"
                try Loopback.waitForListener(url)
            }

            deinit {
                daemon.stop()
                meter.stop()
                try? FileManager.default.removeItem(atPath: root)
            }
        }

        /// Both servers (/metrics and the control socket) say who they are and when, the date
        /// made per response (no cache that wakes every second): read by Foundation's own
        /// RFC 1123 parser, within seconds of now, and a second later a second later.
        @Test func bothServersSayTheirNameAndTheCurrentDate() throws {
            let metered = try MeteredDaemon(metrics: "")
            let parser = DateFormatter()
            parser.locale = Locale(identifier: "en_US_POSIX")
            parser.timeZone = TimeZone(identifier: "GMT")
            parser.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            func headers(_ arguments: [String]) throws -> (date: Date, server: String?) {
                let result = try ProcessResult.run("/usr/bin/curl", ["-sS", "--max-time", "10", "-o", "/dev/null", "-D", "-"] + arguments)
                #expect(result.status == 0, "\(result.standardError)")
                var fields: [String: String] = [:]
                for line in result.standardOutput.split(whereSeparator: \.isNewline) {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let date = try #require(fields["date"].flatMap(parser.date(from:)), "\(result.standardOutput)")
                return (date, fields["server"])
            }
            for arguments in [[metered.url], ["--unix-socket", metered.daemon.socket, "http://ergod/v1/health"]] {
                let first = try headers(arguments)
                #expect(first.server == "ergod")
                #expect(abs(first.date.timeIntervalSinceNow) < 5, "\(first.date)")
                usleep(1_100_000)
                let later = try headers(arguments)
                #expect(later.date.timeIntervalSince(first.date) >= 1, "\(first.date) then \(later.date)")
            }
        }

        @Test func promtoolFindsNothingAndEndedJobsLeaveAfterTheGrace() throws {
            let metered = try MeteredDaemon(metrics: "ended_job_grace_seconds = 2")
            let (daemon, url) = (metered.daemon, metered.url)

            let run = try daemon.ergo(["run", "--name", "a \"quoted\" name\\", "--", "/bin/sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])
            #expect(run.status == 0, "\(run.standardError)")
            let page = try Loopback.get(url)
            let check = try ProcessResult.run("/usr/bin/promtool", ["check", "metrics"], input: Array(page.standardOutput.utf8))
            #expect(check.status == 0 && check.standardOutput.isEmpty && check.standardError.isEmpty, "promtool: \(check.standardOutput)\(check.standardError)")

            let samples = PrometheusSample.parse(page.standardOutput)
            let job = try #require(samples.first { $0.name == "ergometer_job_energy_joules_total" }, "the ended job stays for the grace period")
            #expect(job.labels["job_name"] == "a \"quoted\" name\\")
            #expect(job.labels["user"] == "root")
            #expect(job.value > 0)
            for sample in samples where sample.name.hasSuffix("_joules_total") {
                let millijoules = sample.value * 1000
                #expect(abs(millijoules - millijoules.rounded()) < 1e-6, "\(sample.name) = \(sample.value) is finer than 1 mJ")
            }
            let zones = samples.filter { $0.name == "ergometer_rapl_zone_energy_joules_total" }
            #expect(Set(zones.map { $0.labels["domain"] ?? "" }) == ["package", "dram"])
            #expect(zones.allSatisfy { $0.labels["source"] == "rapl" && $0.labels["socket"] == "0" })
            let domains = samples.filter { $0.name == "ergometer_energy_joules_total" }
            #expect(domains.map { "\($0.labels["domain"]!)/\($0.labels["kind"]!)/\($0.labels["source"]!)" }.sorted() == ["cpu-package/cpu-package/rapl", "dram/dram/rapl"])
            let zoneSum = zones.reduce(0) { $0 + $1.value }
            #expect(abs(domains.reduce(0) { $0 + $1.value } - zoneSum) < 0.0021, "the domains are the zones summed (each floored to 1 mJ)")
            #expect(samples.contains { $0.name == "ergometer_temperature_celsius" && $0.labels["chip"] == "coretemp-isa-0000" })

            usleep(2_600_000)
            let later = try Self.samples(url)
            #expect(!later.contains { $0.name == "ergometer_job_energy_joules_total" }, "past the grace period the job's series leave")
            let report = try daemon.ergo(["report", "1", "--json"])
            #expect(report.status == 0 && report.standardOutput.contains("\"energy_joules\""), "its totals stay in the store")
        }

        @Test func valuesChangeNoFasterThanConfiguredAndNoFinerThanTheResolution() throws {
            let metered = try MeteredDaemon(metrics: "energy_resolution_joules = 0.5\nupdate_interval_seconds = 1")
            let url = metered.url
            var values: [Double] = []
            let start = Date()
            while Date().timeIntervalSince(start) < 2.5 {
                let package = try #require(try Self.samples(url).first { $0.name == "ergometer_energy_joules_total" && $0.labels["domain"] == "cpu-package" })
                values.append(package.value)
                usleep(50_000)
            }
            #expect(values.count > 20)
            #expect(values.allSatisfy { ($0 * 2).rounded() == $0 * 2 }, "multiples of 0.5 J: \(values)")
            let changes = zip(values, values.dropFirst()).filter { $0 != $1 }.count
            #expect(changes >= 1 && changes <= 3, "at most one change per second over 2.5 s (the meter draws 15 W): \(values)")
            #expect(zip(values, values.dropFirst()).allSatisfy { $0 <= $1 }, "a counter never goes down")
        }

        @Test func aRealPrometheusReadsTheJobsEnergyAsReported() throws {
            let metered = try MeteredDaemon(metrics: "ended_job_grace_seconds = 60")
            let (daemon, root) = (metered.daemon, metered.root)
            let target = String(metered.url.dropFirst("http://".count).dropLast("/metrics".count))

            let prometheus = try RunningPrometheus(directory: root, targets: [target])
            let api = prometheus.api
            defer { withExtendedLifetime(prometheus) {} }  // serving until the test ends

            let run = try daemon.ergo(["run", "--name", "scraped", "--", "/bin/sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"])
            #expect(run.status == 0, "\(run.standardError)")
            let ended = Date().timeIntervalSince1970
            let report = try #require(try JSONSerialization.jsonObject(with: Data(try daemon.ergo(["report", "1", "--json"]).standardOutput.utf8)) as? [String: Any])
            let reported = try #require(report["energy_joules"] as? Double)

            // Wait for a scrape after the job's end, then ask Prometheus's query API.
            var scraped: (timestamp: Double, joules: Double)?
            for _ in 0..<50 {
                // The job's energy is one series per domain kind: summed as a fleet query sums it.
                let query = "sum by (job_id, job_name, user) (ergometer_job_energy_joules_total{job_name=\"scraped\"})"
                let answer = try Loopback.get(api + "/api/v1/query?query=" + query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
                if let json = try? JSONSerialization.jsonObject(with: Data(answer.standardOutput.utf8)) as? [String: Any],
                    let data = json["data"] as? [String: Any], let result = (data["result"] as? [[String: Any]])?.first,
                    let value = result["value"] as? [Any], let timestamp = value[0] as? Double, let text = value[1] as? String,
                    let joules = Double(text), timestamp > ended + 1
                {
                    #expect((result["metric"] as? [String: String])?["user"] == "root")
                    scraped = (timestamp, joules)
                    break
                }
                usleep(200_000)
            }
            let fromPrometheus = try #require(scraped, "Prometheus never stored a sample after the job ended")
            // One tick of this meter: at most (10 + 20 × 2 cores + 5) W × 0.1 s; after the end the
            // only difference left is the 1 mJ floor of each kind's series (cpu-package and dram).
            #expect(abs(fromPrometheus.joules - reported) < 0.002 + 1e-9, "Prometheus \(fromPrometheus.joules) J, ergo report \(reported) J")
            #expect(reported > 0)
        }
    }

    /// One job on two boxes: two ergods (two fixture trees, state dirs and ports) each run a part
    /// of it under the same job_id, a real Prometheus scrapes both, and `ergo report
    /// --prometheus` gives the sum of the two boxes' own reports and names both boxes.
    @Suite(.serialized)
    struct FleetReportTests {
        @Test func oneJobOnTwoBoxesIsTheSumOfTheirReports() throws {
            let boxes = [try MetricsEndToEndTests.MeteredDaemon(metrics: "ended_job_grace_seconds = 120"),
                         try MetricsEndToEndTests.MeteredDaemon(metrics: "ended_job_grace_seconds = 120")]
            let targets = boxes.map { String($0.url.dropFirst("http://".count).dropLast("/metrics".count)) }
            let root = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let prometheus = try RunningPrometheus(directory: root, targets: targets, ruleFiles: [Fixtures.packageRoot + "/Config/prometheus-rules.yml"])
            let api = prometheus.api
            defer { withExtendedLifetime(prometheus) {} }  // serving until the test ends

            let jobID = "fleet-\(UUID().uuidString.prefix(8))"
            var reported: [Double] = []
            for (index, box) in boxes.enumerated() {
                let run = try box.daemon.ergo([
                    "run", "--job-id", jobID, "--name", "part \(index)", "--", "/bin/sh", "-c", "i=0; while [ $i -lt \(200_000 * (index + 1)) ]; do i=$((i+1)); done",
                ])
                #expect(run.status == 0, "\(run.standardError)")
                let report = try JSONDecoder().decode(JobReport.self, from: Data(try box.daemon.ergo(["report", "1", "--json"]).standardOutput.utf8))
                #expect(report.jobID == jobID)
                reported.append(report.energyJoules)
            }
            let ended = Date()
            // Once Prometheus has scraped both boxes after the ends, the fleet's answer is final.
            var fleet: FleetJobReport?
            for _ in 0..<60 {
                usleep(250_000)
                let answer = try boxes[0].daemon.ergo(["report", "--prometheus", api, jobID, "--json"])
                guard answer.status == 0, let report = try? JSONDecoder().decode(FleetJobReport.self, from: Data(answer.standardOutput.utf8)) else { continue }
                if report.boxes.count == 2, Date().timeIntervalSince(ended) > 2.5 {
                    fleet = report
                    break
                }
            }
            let report = try #require(fleet, "Prometheus never had both boxes")
            #expect(Set(report.boxes.map(\.instance)) == Set(targets))
            // Each box's series are floored to 1 mJ per domain kind (cpu-package and dram): 4 mJ in all at most.
            #expect(abs(report.energyJoules - reported.reduce(0, +)) <= 0.004 + 1e-9, "Prometheus \(report.energyJoules) J, the boxes \(reported) J")
            for (target, joules) in zip(targets, reported) {
                let box = try #require(report.boxes.first { $0.instance == target })
                #expect(abs(box.energyJoules - joules) <= 0.002 + 1e-9)
                #expect(abs(box.share - joules / reported.reduce(0, +)) < 0.001)
            }
            #expect(report.cpuSeconds > 0 && report.co2Grams > 0)
            let text = try boxes[0].daemon.ergo(["report", "--prometheus", api, jobID])
            #expect(text.status == 0 && targets.allSatisfy { text.standardOutput.contains($0) }, "\(text.standardOutput)")
            #expect(text.standardOutput.contains("across 2 box(es)"))
            // The recording rule sums the job across boxes too.
            var rule = ""
            for _ in 0..<40 where !rule.contains("\"2\"") {
                rule = try Loopback.get(api + "/api/v1/query?query=" + "job_id:ergometer_boxes:count{job_id=\"\(jobID)\"}".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!).standardOutput
                usleep(250_000)
            }
            #expect(rule.contains("\"2\""), "\(rule)")

            // Bad input: a job no box ran, a port nobody listens on, a range that is not one.
            let missing = try boxes[0].daemon.ergo(["report", "--prometheus", api, "no-such-job"])
            #expect(missing.status != 0 && missing.standardError.contains("no ergometer_job_* series with job_id=\"no-such-job\""), "\(missing.standardError)")
            let closed = try boxes[0].daemon.ergo(["report", "--prometheus", "http://127.0.0.1:\(try Loopback.freePort())", jobID])
            #expect(closed.status != 0 && closed.standardError.contains("is it running"), "\(closed.standardError)")
            let range = try boxes[0].daemon.ergo(["report", "--prometheus", api, jobID, "--range", "a week"])
            #expect(range.status != 0 && range.standardError.contains("a PromQL duration"), "\(range.standardError)")
        }

        /// A box whose ergod restarts in the middle of a job: the job's series go on from what the
        /// store saved, so the fleet's answer is the job's own report, not the part before the
        /// restart plus the whole.
        @Test func aBoxWhoseErgodRestartedMidJobCountsOnce() throws {
            let root = try Fixtures.scratchCopy(of: "intel-1s")
            defer { try? FileManager.default.removeItem(atPath: root) }
            let meter = try SimulatedRAPL(sysfs: root + "/sys", idleWatts: 10, wattsPerBusyCore: 20, dramWatts: 5, packageStartBelowWrap: 50_000_000)
            meter.start()
            defer { meter.stop() }
            let listen = "127.0.0.1:\(try Loopback.freePort())"
            let configuration = MetricsEndToEndTests.configuration("ended_job_grace_seconds = 120")
            var daemon = try RunningDaemon(root: root, configuration: configuration, listen: listen)
            defer { daemon.stop() }
            try Loopback.waitForListener("http://\(listen)/metrics")
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let prometheus = try RunningPrometheus(directory: directory, targets: [listen])
            defer { withExtendedLifetime(prometheus) {} }

            let jobID = "restarted-\(UUID().uuidString.prefix(8))"
            let run = Process()
            run.executableURL = URL(fileURLWithPath: BuiltProducts.executable("ergo"))
            // Busy until the test says so (a file), however slowly Prometheus scrapes on a loaded box.
            let done = directory + "/job-may-end"
            run.arguments = ["run", "--job-id", jobID, "--name", "across a restart", "--", "/bin/sh", "-c", "while [ ! -e \(done) ]; do :; done"]
            run.environment = ProcessInfo.processInfo.environment.merging(["ERGOMETER_SOCKET": daemon.socket]) { _, new in new }
            run.standardOutput = FileHandle.nullDevice
            run.standardError = FileHandle.nullDevice
            try run.run()
            // Prometheus has scraped the job's first part, then ergod stops and starts again.
            var scraped = false
            for _ in 0..<40 where !scraped {
                usleep(250_000)
                let query = "ergometer_job_cpu_seconds_total{job_id=\"\(jobID)\"}".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                scraped = try Loopback.get(prometheus.api + "/api/v1/query?query=" + query).standardOutput.contains(jobID)
            }
            #expect(scraped && run.isRunning, "the job must be running when ergod restarts")
            daemon.stop()
            daemon = try RunningDaemon(root: root, configuration: configuration, listen: listen)
            usleep(500_000)  // the restarted ergod measures the job a while too
            _ = FileManager.default.createFile(atPath: done, contents: nil)
            run.waitUntilExit()
            #expect(run.terminationStatus == 0)
            let report = try JSONDecoder().decode(JobReport.self, from: Data(try daemon.ergo(["report", "1", "--json"]).standardOutput.utf8))
            #expect(report.jobID == jobID && report.ended != nil)
            let ended = Date()
            var fleet: FleetJobReport?
            var last = ""
            for _ in 0..<60 {
                usleep(250_000)
                let answer = try daemon.ergo(["report", "--prometheus", prometheus.api, jobID, "--json"])
                last = answer.standardError
                if Date().timeIntervalSince(ended) > 2.5, answer.status == 0 {
                    fleet = try? JSONDecoder().decode(FleetJobReport.self, from: Data(answer.standardOutput.utf8))
                    break
                }
            }
            let answer = try #require(fleet, "\(last)")
            #expect(answer.boxes.count == 1)
            #expect(abs(answer.energyJoules - report.energyJoules) <= 0.002 + 1e-9, "Prometheus \(answer.energyJoules) J, the job's report \(report.energyJoules) J")
        }

        @Test func theRecordingRulesPassPromtoolAndTheirUnitTest() throws {
            let check = try ProcessResult.run("/usr/bin/promtool", ["check", "rules", Fixtures.packageRoot + "/Config/prometheus-rules.yml"])
            #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")
            let test = try ProcessResult.run("/usr/bin/promtool", ["test", "rules", Fixtures.packageRoot + "/Tests/Fixtures/prometheus/rules-test.yml"])
            #expect(test.status == 0, "\(test.standardOutput)\(test.standardError)")
        }
    }

    /// `ergo bench scrape`, the load tool, against ergod (Content-Length bodies) and Debian's
    /// node_exporter (chunked bodies), on the same fixture tree.
    @Suite(.serialized)
    struct BenchScrapeTests {
        /// The numbers of the result row: scrapes, achieved, errors, non-200, median, p99, max, body bytes.
        static func row(_ output: String) throws -> [Double] {
            let lines = output.split(separator: "\n")
            let header = try #require(lines.firstIndex { $0.contains("SCRAPES") }, "\(output)")
            return lines[header + 1].split(separator: " ").compactMap { Double($0) }
        }

        @Test func scrapesErgodAndNodeExporterWithoutErrors() throws {
            let root = try Fixtures.scratchCopy(of: "intel-1s")
            defer { try? FileManager.default.removeItem(atPath: root) }
            let port = try Loopback.freePort()
            let daemon = try RunningDaemon(root: root, configuration: "[daemon]\ninterval_seconds = 0.1\n", listen: "127.0.0.1:\(port)")
            defer { daemon.stop() }
            try Loopback.waitForListener("http://127.0.0.1:\(port)/metrics")
            var targets = ["http://127.0.0.1:\(port)/metrics"]

            let exporterPort = try Loopback.freePort()
            let exporter = Process()
            exporter.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus-node-exporter")
            exporter.arguments = [
                "--path.sysfs=\(root)/sys", "--collector.disable-defaults", "--collector.rapl", "--collector.hwmon",
                "--web.listen-address=127.0.0.1:\(exporterPort)",
            ]
            exporter.standardOutput = FileHandle.nullDevice
            exporter.standardError = FileHandle.nullDevice
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus-node-exporter") {
                try exporter.run()
                try Loopback.waitForListener("http://127.0.0.1:\(exporterPort)/metrics")
                targets.append("http://127.0.0.1:\(exporterPort)/metrics")
            }
            defer { if exporter.isRunning { exporter.terminate() } }

            for url in targets {
                let result = try ProcessResult.run(BuiltProducts.executable("ergo"), ["bench", "scrape", "--url", url, "--rate", "200", "--seconds", "1"])
                #expect(result.status == 0, "\(result.standardError)")
                let numbers = try Self.row(result.standardOutput)
                #expect(numbers.count == 8, "\(result.standardOutput)")
                #expect(numbers[0] == 200 && numbers[2] == 0 && numbers[3] == 0, "\(url): \(result.standardOutput)")
                let page = try Loopback.get(url).standardOutput.utf8.count
                #expect(abs(numbers[7] - Double(page)) < Double(page) / 10, "body length as curl reads it (\(page)): \(result.standardOutput)")
            }
        }

        @Test func aClosedPortIsAnErrorNamingTheAddress() throws {
            let port = try Loopback.freePort()
            let result = try ProcessResult.run(BuiltProducts.executable("ergo"), ["bench", "scrape", "--url", "http://127.0.0.1:\(port)/metrics", "--rate", "10", "--seconds", "0.2"])
            #expect(result.status == 1)
            #expect(result.standardError.contains("connect to 127.0.0.1:\(port): Connection refused"), "\(result.standardError)")
        }
    }
}
