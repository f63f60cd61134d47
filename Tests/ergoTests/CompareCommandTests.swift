import ErgometerTestSupport
import Foundation
import Testing

extension LoadSensitiveSuites {
    /// `ergo compare` on spec files, on measured jobs of the bundled workload, and the demo.
    @Suite(.serialized)
    struct CompareCommandTests {
        static let ergo = BuiltProducts.executable("ergo")

        static func json(_ result: ProcessResult) throws -> [String: Any] {
            #expect(result.status == 0, "\(result.standardError)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any], "\(result.standardOutput)")
        }

        @Test func twoSpecFiles() throws {
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try #"{"name": "small", "processors": 2, "processor_model": "GTX 580", "duration_seconds": 1000, "flops": 1e18, "energy_joules": 1e6}"#
                .write(toFile: directory + "/a.json", atomically: true, encoding: .utf8)
            try #"{"name": "big", "processors": 16, "processor_model": "V100", "duration_seconds": 2000, "flops_per_processor_second": 1.25e15, "throughput_kind": "achieved", "power_watts_per_processor": 250}"#
                .write(toFile: directory + "/b.json", atomically: true, encoding: .utf8)
            let output = try Self.json(try ProcessResult.run(Self.ergo, ["compare", directory + "/a.json", directory + "/b.json", "--json"]))
            #expect(output["compute_ratio"] as? Double == 40)
            let factors = try #require(output["factors"] as? [String: Double])
            #expect(factors == ["hardware": 2.5, "processors": 8, "duration": 2])
            #expect(output["energy_ratio"] as? Double == 8)  // 250 W × 16 × 2000 s = 8 MJ
            #expect(output["energy_per_flop_ratio"] as? Double == 0.2)
            let basis = try #require(output["basis"] as? [String: [String: String]])
            #expect(basis["b"] == ["flops": "declared", "processors": "declared"])
            #expect(output["sentence"] as? String == "compute grew 40x: 2.5x from better hardware, 8.0x from more processors, 2.0x from running longer; energy grew 8.0x, at 0.20x the joules per FLOP")

            let text = try ProcessResult.run(Self.ergo, ["compare", directory + "/a.json", directory + "/b.json"])
            #expect(text.status == 0)
            #expect(text.standardOutput.contains("1.00 EFLOP [declared]"))
            #expect(text.standardOutput.contains("8000000.000 J [estimated]"), "\(text.standardOutput)")
            #expect(text.standardOutput.contains("Compute grew 40x"))
        }

        @Test func aBadSpecIsRefusedWithEveryProblem() throws {
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try #"{"name": "x", "processors": 0, "duration_seconds": "1h"}"#.write(toFile: directory + "/bad.json", atomically: true, encoding: .utf8)
            let result = try ProcessResult.run(Self.ergo, ["compare", directory + "/bad.json", directory + "/bad.json"])
            #expect(result.status == 1)
            #expect(result.standardError.contains("invalid job spec \(directory)/bad.json"))
            #expect(result.standardError.contains("processors: must be greater than zero, found 0"))
            #expect(result.standardError.contains("duration_seconds: must be a number, found a string"))
            #expect(result.standardError.contains("processor_model: missing"))
            let missing = try ProcessResult.run(Self.ergo, ["compare", directory + "/none.json", directory + "/bad.json"])
            #expect(missing.status == 1)
            #expect(missing.standardError.contains("cannot read the spec file \(directory)/none.json"))
        }

        @Test func aJobWithoutReportedFLOPsIsNamedWithTheFix() throws {
            let state = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: state) }
            let run = try ProcessResult.run(
                Self.ergo, ["run", "--state-dir", state, "--name", "plain", "--", "/bin/true"],
                environment: ProcessInfo.processInfo.environment.merging(["ERGOMETER_SOCKET": state + "/none.sock"]) { _, new in new })
            #expect(run.status == 0, "\(run.standardError)")
            let result = try ProcessResult.run(Self.ergo, ["compare", "1", "1", "--state-dir", state])
            #expect(result.status == 1)
            #expect(result.standardError.contains("job 1 (plain) reported no FLOPs"), "\(result.standardError)")
            #expect(result.standardError.contains("ErgometerClient"))
        }

        @Test(.enabled(if: getuid() == 0, "job cgroups need root (CI runs as root)"))
        func ergodStoresWhatTheWorkloadReports() throws {
            let root = try Fixtures.scratchCopy(of: "intel-1s")
            defer { try? FileManager.default.removeItem(atPath: root) }
            let daemon = try RunningDaemon(root: root)
            defer { daemon.stop() }
            let run = try daemon.ergo(["run", "--name", "train", "--processors", "4", "--", BuiltProducts.executable("ergo-train"), "--epochs", "2", "--samples", "1024", "--hidden", "64"])
            #expect(run.status == 0, "\(run.standardError)")
            let printed = try #require(run.standardOutput.firstMatch(of: /ergo-train: ([0-9.]+) GFLOP \(counted\)/), "\(run.standardOutput)")
            let report = try Self.json(try daemon.ergo(["report", "1", "--json"]))
            let flops = try #require(report["flops"] as? Double)
            #expect(abs(flops / 1e9 - Double(printed.output.1)!) < 0.0005, "ergod stored \(flops) FLOPs; ergo-train counted \(printed.output.1) GFLOP")
            #expect(report["steps"] as? Int == 16)
            #expect(report["samples"] as? Int == 2048)
            #expect((report["metrics"] as? [String: Double])?["test_error"] != nil)
            #expect(report["processors"] as? Int == 4)
        }

        /// The demo on small sizes: two measured runs of ergo-train (naive kernel on one thread,
        /// tiled kernel on two), compared. The processors factor is the ratio of busy cores, near
        /// the thread ratio; the hardware factor is the per-core FLOP/s ratio of the two runs.
        @Test func theDemoSplitsHardwareFromProcessors() throws {
            let bin = URL(fileURLWithPath: Self.ergo).deletingLastPathComponent().path
            let pictures = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: pictures) }
            let demo = try ProcessResult.run("/usr/bin/make", [
                "-C", Fixtures.packageRoot, "--no-print-directory", "demo-run", "BIN=\(bin)", "DEMO_SAMPLES=4096", "DEMO_EPOCHS_A=1",
                "DEMO_EPOCHS_B=4", "DEMO_COMPARE_FLAGS=--json", "DEMO_PROJECT_FLAGS=--json", "DEMO_PICTURES=\(pictures)",
            ])
            #expect(demo.status == 0, "\(demo.standardError)")
            // The three pictures, where the demo says, each well formed.
            for name in ["report", "compare", "project"] {
                let lint = try ProcessResult.run("/usr/bin/xmllint", ["--noout", "\(pictures)/\(name).svg"])
                #expect(lint.status == 0, "\(name).svg: \(lint.standardError)")
                #expect(demo.standardOutput.contains("\(pictures)/\(name).svg"))
            }
            let output = try Self.section(of: demo.standardOutput, after: "== ergo compare 1 2 --svg \(pictures)/compare.svg\n")
            let factors = try #require(output["factors"] as? [String: Double])
            let a = try #require(output["a"] as? [String: Any])
            let b = try #require(output["b"] as? [String: Any])
            #expect(try #require(output["basis"] as? [String: [String: String]])["a"] == ["flops": "reported", "processors": "estimated"])
            // Processors: busy cores, 1 thread against 2 (not 2.0: the serial parts and a shared machine).
            let processors = try #require(factors["processors"])
            #expect(processors > 1.25 && processors < 2.2, "processors factor \(processors)")
            // Hardware: per-core FLOP/s of B over A, from the two runs' own figures.
            func perCore(_ side: [String: Any]) -> Double {
                (side["flops"] as! Double) / ((side["processors"] as! Double) * (side["duration_seconds"] as! Double))
            }
            #expect(abs(factors["hardware"]! / (perCore(b) / perCore(a)) - 1) < 1e-9)
            #expect(factors["hardware"]! > 2, "the tiled kernel is several times faster per core: \(factors)")
            #expect(demo.standardError.contains("compute:      "), "reports (on standard error) show the reported FLOPs")
            #expect(demo.standardError.contains("test_error"), "and the workload's metrics")

            // Diminishing returns: four sizes of one task whose best achievable error is 8.75 %.
            let sweep = demo.standardOutput.matches(of: /job ([0-9]+): hidden [0-9]+, [0-9]+ samples: test error ([0-9.]+)%, ([0-9.]+) GFLOP/)
            #expect(sweep.map { Int($0.output.1)! } == [3, 4, 5, 6], "\(demo.standardOutput)")
            let projection = try Self.section(
                of: demo.standardOutput, after: "== ergo project 3 4 5 6 --target-error 10% --irreducible-error auto --svg \(pictures)/project.svg\n")
            let fit = try #require(projection["fit"] as? [String: Any])
            #expect(fit["form"] as? String == "power_law_with_floor")
            let floor = try #require(fit["irreducible_error"] as? Double)
            #expect(floor > 0.075 && floor < 0.1, "the fitted floor \(floor) should be near the task's 8.75 %")
            let points = try #require(projection["points"] as? [[String: Any]])
            for (point, run) in zip(points, sweep) {
                #expect(abs((point["flops"] as! Double) / 1e9 - Double(run.output.3)!) < 0.0005, "stored FLOPs against ergo-train's own count")
                #expect(abs((point["error"] as! Double) * 100 - Double(run.output.2)!) < 0.005)
            }
            #expect(demo.standardError.contains("the target error 8 % is at or below the irreducible error the fit has"), "\(demo.standardError)")
            let imageNet = try Self.section(of: demo.standardOutput, after: "(ImageNet, Thompson et al.)\n")
            #expect(abs(try #require((imageNet["fit"] as? [String: Any])?["k_exponent"] as? Double) - 9) < 0.5)
        }

        /// The JSON a demo step printed: from its `== ` header to the next one.
        static func section(of output: String, after header: String) throws -> [String: Any] {
            let start = try #require(output.range(of: header), "no \(header) in \(output)")
            let rest = output[start.upperBound...]
            let end = rest.range(of: "\n== ")?.lowerBound ?? rest.endIndex
            return try #require(try JSONSerialization.jsonObject(with: Data(rest[..<end].utf8)) as? [String: Any], "\(rest[..<end])")
        }
    }

    /// The benchmark executable runs (CI checks it works; it times nothing worth reading there).
    struct BenchmarkExecutableTests {
        @Test func quickRunPrintsEveryRowWithAllocations() throws {
            let result = try ProcessResult.run(
                BuiltProducts.executable("ergometer-bench"), ["--quick", "--only", "attribution", "--fixtures", Fixtures.packageRoot + "/Tests/Fixtures"])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("ALLOCS/CALL"))
            let row = try #require(result.standardOutput.split(separator: "\n").first { $0.contains("attribution of one tick, 100 jobs") })
            let allocations = try #require(Double(row.split(separator: " ").dropLast().last ?? ""))
            #expect(allocations > 0, "the interposed malloc counts what attribution allocates: \(row)")
        }
    }
}
