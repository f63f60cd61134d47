import ErgometerCore
import ErgometerDaemon
import ErgometerTestSupport
import Foundation
import Testing

struct ConfigurationTests {
    @Test func theDocumentedFileIsTheDefaults() throws {
        let documented = try ConfigurationLoader.load(file: Fixtures.packageRoot + "/Config/ergometer.toml")
        #expect(documented == DaemonConfiguration())
    }

    /// Each key the loader takes is documented in Config/ergometer.toml under its section (set,
    /// or commented out with its example), and nothing else is.
    @Test func everyKeyIsDocumentedInItsSection() throws {
        let text = try String(contentsOfFile: Fixtures.packageRoot + "/Config/ergometer.toml", encoding: .utf8)
        var documented: [String] = []
        var section = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("[") { section = String(line.dropFirst().prefix { $0 != "]" }) }
            let body = line.hasPrefix("# ") ? line.dropFirst(2) : line[...]
            guard let equals = body.firstIndex(of: "="), !section.isEmpty else { continue }
            let key = body[..<equals].trimmingCharacters(in: .whitespaces)
            if !key.isEmpty, key.allSatisfy({ $0.isLetter || $0 == "_" }) { documented.append(section + "." + key) }
        }
        #expect(documented == ConfigurationLoader.keyNames)
    }

    @Test func keysOverrideDefaults() throws {
        let configuration = try ConfigurationLoader.parse(
            """
            [daemon]
            interval_seconds = 2
            [power]
            idle_policy = "separate"
            idle_watts = 35.5
            [carbon]
            pue = 1.58
            """, file: "test.toml")
        #expect(configuration.intervalSeconds == 2)
        #expect(configuration.idlePolicy == .separate)
        #expect(configuration.idleWatts == 35.5)
        #expect(configuration.pue == 1.58)
    }

    @Test func controlLimitsAreWholeNumbersAndTheAdminGroupMustExist() {
        let text = """
            [control]
            max_active_jobs = 2.5
            max_active_jobs_per_user = 0
            max_connections = nan
            idle_timeout_seconds = 0
            admin_group = "no-such-group-here"
            """
        #expect {
            try ConfigurationLoader.parse(text, file: "limits.toml")
        } throws: { error in
            let description = "\(error)"
            return description.contains("line 2: control.max_active_jobs: must be a whole number, found 2.5")
                && description.contains("control.max_active_jobs_per_user = 0: must be a whole number from 1 to 100000")
                && description.contains("line 4: control.max_connections: must be a whole number, found nan")
                && description.contains("control.idle_timeout_seconds = 0.0: must be between 0.1 and 3600 seconds")
                && description.contains("control.admin_group = \"no-such-group-here\": no such group")
        }
        let good = try? ConfigurationLoader.parse("[control]\nadmin_group = \"root\"\nmax_active_jobs = 5\n", file: "good.toml")
        #expect(good?.adminGroup == "root" && good?.maxActiveJobs == 5)
    }

    /// Found by ergometer-fuzz: toml++ asserts (aborting ergod) on these; ergod refuses them
    /// first, with the line and the fix.
    @Test(arguments: [
        ("[daemon]\n[\u{0E}aemon]\n", "line 2: control character U+000E is not allowed in TOML"),
        ("[[# Idle power\n", "line 1: a section header is [name]"),
        ("[daemon]\n#=3\n.x = 1\n", "line 3: expected key = value"),
        ("[power]\nidle_watts = {a = 1}\n", "line 2: idle_watts: every value is a number or a \"string\""),
        ("[discovery]\nsystemd_units = [\"a\", [\"b\"]]\n", "line 2: systemd_units: a list is written on one line"),
        ("[discovery]\nsystemd_units = [\"a\\\\b.service\"]\n", "line 2: systemd_units: a list is written on one line"),
        ("[discovery]\nsystemd_units = [\"a.service\"\n", "line 2: systemd_units: a list is written on one line"),
    ])
    func linesOfAnotherShapeAreRefusedBeforeTheTOMLParser(text: String, expected: String) {
        #expect {
            try ConfigurationLoader.parse(text, file: "shape.toml")
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func discoveryTakesSwitchesPatternsAndAnInterval() throws {
        let configuration = try ConfigurationLoader.parse("""
            [discovery]
            slurm = false
            systemd_units = ["train-*.service", "user.slice/*.scope",]
            scan_interval_seconds = 5
            """, file: "discovery.toml")
        #expect(!configuration.discoverSlurm && configuration.discoverContainers)
        #expect(configuration.discoveryRules.systemdUnits == ["train-*.service", "user.slice/*.scope"])
        #expect(configuration.discoveryScanSeconds == 5)
        #expect {
            try ConfigurationLoader.parse("[discovery]\ncontainers = 1\nsystemd_units = \"train-*.service\"\nscan_interval_seconds = 0.01\n", file: "bad.toml")
        } throws: { error in
            let text = "\(error)"
            return text.contains("line 2: discovery.containers: must be true or false")
                && text.contains("line 3: discovery.systemd_units: must be a list of strings")
                && text.contains("discovery.scan_interval_seconds = 0.01: must be from the sampling interval")
        }
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.parse("[discovery]\nsystemd_units = [\"cron\"]\n", file: "unit.toml") }
    }

    @Test func everyProblemIsReportedWithItsLine() {
        let text = """
            [daemon]
            interval_seconds = "fast"
            sampling = 3

            [power]
            idle_policy = "sometimes"

            [carbon]
            pue = 0.5
            """
        do {
            _ = try ConfigurationLoader.parse(text, file: "bad.toml")
            Issue.record("a bad configuration was accepted")
        } catch {
            let problems = error.problems.joined(separator: "\n")
            #expect(problems.contains("line 2: daemon.interval_seconds: must be a number, found string"))
            #expect(problems.contains("line 3: daemon.sampling: unknown key; [daemon] has"))
            #expect(problems.contains("line 6: power.idle_policy: \"sometimes\" is not a policy"))
            #expect(problems.contains("carbon.pue = 0.5"))
            #expect(error.description.contains("bad.toml"))
            #expect(error.problems.count == 4)
        }
    }

    @Test func malformedTOMLNamesTheLine() {
        do {
            _ = try ConfigurationLoader.parse("[daemon]\ninterval_seconds = = 1\n", file: "broken.toml")
            Issue.record("malformed TOML was accepted")
        } catch {
            #expect(error.problems.first?.hasPrefix("line 2:") == true, "\(error.problems)")
        }
    }

    @Test func badIntensityCSVNamesFileAndLine() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "timestamp,grams_per_kwh\n1000,300\n900,200\n".write(toFile: directory + "/i.csv", atomically: true, encoding: .utf8)
        var configuration = DaemonConfiguration()
        configuration.intensityCSV = directory + "/i.csv"
        do {
            _ = try ConfigurationLoader.carbonAccounting(configuration)
            Issue.record("a decreasing series was accepted")
        } catch {
            #expect(error.problems == ["carbon.intensity_csv \(directory)/i.csv: line 3: timestamps must increase (this one is not after line 2's)"])
        }
    }
}

/// The [metrics] section: addresses, and the side-channel floor that cannot be lowered.
struct MetricsConfigurationTests {
    @Test(arguments: [
        ("127.0.0.1:9477", ListenAddress(host: "127.0.0.1", port: 9477)), ("[::1]:9100", ListenAddress(host: "::1", port: 9100)),
        ("0.0.0.0:0", ListenAddress(host: "0.0.0.0", port: 0)), ("localhost:80", ListenAddress(host: "localhost", port: 80)),
    ])
    func addressesParse(text: String, expected: ListenAddress) throws {
        #expect(try ListenAddress.parse(text) == expected)
    }

    @Test func offMeansNoListener() throws {
        #expect(try ListenAddress.parse("off") == nil)
        var configuration = DaemonConfiguration()
        configuration.metricsListen = "off"
        #expect(configuration.validationProblems().isEmpty)
        #expect(configuration.metricsAddress == nil)
    }

    @Test(arguments: ["9477", "127.0.0.1", ":9477", "127.0.0.1:99999", "::1:9477", "[::1]9477", "host:port"])
    func badAddressesAreRefusedWithTheFix(text: String) {
        var configuration = DaemonConfiguration()
        configuration.metricsListen = text
        let problems = configuration.validationProblems()
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("metrics.listen = \"\(text)\":") == true, "\(problems)")
    }

    @Test func theEnergyFloorCannotBeLoweredBelowOneMillijoule() {
        do {
            _ = try ConfigurationLoader.parse("[metrics]\nenergy_resolution_joules = 0.0001\nupdate_interval_seconds = 0.5\n", file: "m.toml")
            Issue.record("a resolution finer than 1 mJ was accepted")
        } catch {
            #expect(error.problems.contains { $0.contains("energy_resolution_joules = 0.0001: must be between 0.001 (1 mJ") })
            #expect(error.problems.contains { $0.contains("update_interval_seconds = 0.5: 0 (every tick) or from the sampling interval") })
        }
    }

    @Test func coarserValuesAreAccepted() throws {
        let configuration = try ConfigurationLoader.parse(
            "[metrics]\nlisten = \"[::1]:9500\"\nenergy_resolution_joules = 1\nupdate_interval_seconds = 15\nended_job_grace_seconds = 60\n", file: "m.toml")
        #expect(configuration.metricsAddress == ListenAddress(host: "::1", port: 9500))
        #expect(configuration.energyResolutionJoules == 1)
        #expect(configuration.metricsUpdateSeconds == 15)
        #expect(configuration.endedJobGraceSeconds == 60)
    }
}
