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
