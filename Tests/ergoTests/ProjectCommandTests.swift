import ErgometerTestSupport
import Foundation
import Testing

/// `ergo project`: the scaling law over the shipped ImageNet specs and over measured jobs, its
/// costs against what the specs and the configuration say, and every bad input refused by name.
@Suite(.serialized)
struct ProjectCommandTests {
    static let ergo = BuiltProducts.executable("ergo")
    static let examples = ["alexnet", "amoebanet-a", "nasnet-a", "noisy-student-l2"].map { Fixtures.packageRoot + "/Config/examples/\($0).json" }

    /// `ergo project ARGUMENTS` (or `ergo run ...`), with no ergod to find when `state` is given.
    static func run(_ arguments: [String], state: String? = nil) throws -> ProcessResult {
        var environment = ProcessInfo.processInfo.environment
        if let state { environment["ERGOMETER_SOCKET"] = state + "/none.sock" }
        return try ProcessResult.run(ergo, ["run", "project"].contains(arguments.first) ? arguments : ["project"] + arguments, environment: environment)
    }

    static func json(_ result: ProcessResult) throws -> [String: Any] {
        #expect(result.status == 0, "\(result.standardError)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any], "\(result.standardOutput)")
    }

    static func write(_ specs: [(name: String, flops: Double, error: Double)], in directory: String) throws -> [String] {
        try specs.map { spec in
            let path = "\(directory)/\(spec.name).json"
            try #"{"name": "\#(spec.name)", "processors": 1, "processor_model": "x", "duration_seconds": 100, "flops": \#(spec.flops), "error": \#(spec.error)}"#
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }

    @Test func theImageNetExamplesFitTheArticlesExponent() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/ergometer.toml"
        try "[carbon]\nintensity_g_per_kwh = 300\npue = 1.2\nprice_per_kwh = 0.25\ncurrency = \"EUR\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let output = try Self.json(try Self.run(Self.examples + ["--target-error", "5%", "--metric", "top1_error", "--json", "--config", config]))

        // The same least squares from the specs' own figures: F = processors × peak × seconds.
        let specs = try Self.examples.map { try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: $0))) as? [String: Any]) }
        let x = specs.map { spec -> Double in
            let processors = spec["processors"] as! Double
            let peak = spec["flops_per_processor_second"] as! Double
            let seconds = spec["duration_seconds"] as! Double
            return log10(processors * peak * seconds)
        }
        let y = specs.map { log10($0["error"] as! Double) }
        let mx = x.reduce(0, +) / 4
        let my = y.reduce(0, +) / 4
        var sxy = 0.0
        var sxx = 0.0
        for (xi, yi) in zip(x, y) {
            sxy += (xi - mx) * (yi - my)
            sxx += (xi - mx) * (xi - mx)
        }
        let slope = sxy / sxx

        let fit = try #require(output["fit"] as? [String: Any])
        #expect(fit["form"] as? String == "power_law")
        #expect(abs(try #require(fit["slope"] as? Double) - slope) < 1e-9)
        let k = try #require(fit["k_exponent"] as? Double)
        #expect(abs(k - 9) < 0.5, "k \(k): the article's 'about 9'")
        #expect(abs(try #require(fit["halving_multiplier"] as? Double) - pow(2, k)) < 1e-6 * pow(2, k))
        #expect(fit["n"] as? Int == 4)
        #expect(fit["irreducible_error"] is NSNull)
        let interval = try #require(fit["slope_interval"] as? [Double])
        #expect(interval[0] < slope && slope < interval[1])
        #expect(try #require(fit["r_squared"] as? Double) > 0.99)

        let target = try #require(output["target"] as? [String: Any])
        let flops = try #require(target["flops"] as? Double)
        let intercept = my - slope * mx
        #expect(abs(log10(flops) - (log10(0.05) - intercept) / slope) < 1e-9)
        let flopsInterval = try #require(target["flops_interval"] as? [Double])
        #expect(flopsInterval[0] < flops && flops < flopsInterval[1])
        // The lowest joules per FLOP of the four: NASNet-A's P100, 250 W over 9.53 TFLOP/s.
        #expect(target["joules_per_flop_basis"] as? String == Self.examples[2])
        #expect(target["joules_per_flop_source"] as? String == "estimated")
        let perFlop = try #require(target["joules_per_flop"] as? Double)
        #expect(abs(perFlop / (250 / 9.53e12) - 1) < 1e-12)
        let energy = try #require(target["energy_joules"] as? Double)
        #expect(abs(energy / (flops * 250 / 9.53e12) - 1) < 1e-12)
        let kWh = try #require(target["energy_kwh"] as? Double)
        #expect(abs(kWh / (energy / 3.6e6) - 1) < 1e-12)
        #expect(abs(try #require(target["co2_grams"] as? Double) / (kWh * 300 * 1.2) - 1) < 1e-12)
        #expect(abs(try #require(target["cost"] as? Double) / (kWh * 0.25 * 1.2) - 1) < 1e-12)
        #expect(target["currency"] as? String == "EUR")
        #expect(target["seconds_on_this_box"] is NSNull, "specs ran elsewhere: no time on this box")

        let points = try #require(output["points"] as? [[String: Any]])
        #expect(points.map { $0["name"] as? String } == specs.map { $0["name"] as? String })
        #expect(points.allSatisfy { $0["basis"] as? String == "estimated" })
        let sentence = try #require(output["sentence"] as? String)
        #expect(sentence.hasPrefix("halving the error costs \(Int(pow(2, k).rounded()))× the compute here (k = 9.0); 5 % would take "), "\(sentence)")
        #expect(sentence.contains(" kWh ≈ ") && sentence.contains(" t CO2 ≈ ") && sentence.hasSuffix(" EUR"), "\(sentence)")

        let text = try Self.run(Self.examples + ["--target-error", "0.05", "--metric", "top1_error", "--config", config])
        #expect(text.status == 0, "\(text.standardError)")
        #expect(text.standardOutput.contains("AlexNet (2012)"))
        #expect(text.standardOutput.contains("1.6e18 FLOP [estimated]  36.7 %"), "\(text.standardOutput)")
        #expect(text.standardOutput.contains("at 300 g/kWh, PUE 1.20 [\(config)]"), "\(text.standardOutput)")
        #expect(text.standardOutput.contains("Halving the error costs"))
    }

    @Test func aFloorGivenOrFoundIsUsedAndATargetUnderItRefused() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // ε = 0.1 + 10 · F^(−0.25): a law with a floor of 10 %.
        let specs = try Self.write(
            [1e8, 1e10, 1e12, 1e14, 1e16].enumerated().map { ("p\($0.offset)", $0.element, 0.1 + 10 * pow($0.element, -0.25)) }, in: directory)
        let found = try Self.json(try Self.run(specs + ["--target-error", "0.12", "--irreducible-error", "auto", "--json", "--config", "/none"]))
        let fit = try #require(found["fit"] as? [String: Any])
        #expect(fit["form"] as? String == "power_law_with_floor")
        #expect(abs(try #require(fit["irreducible_error"] as? Double) - 0.1) < 1e-4)
        #expect(abs(try #require(fit["k_exponent"] as? Double) - 4) < 0.01)
        let comparison = try #require(found["comparison"] as? [String: Any])
        #expect(comparison["better"] as? String == "power_law_with_floor")
        // 0.12 = 0.1 + 10·F^(−1/4): F = 500^4.
        #expect(abs(try #require((found["target"] as? [String: Any])?["flops"] as? Double) / pow(500, 4) - 1) < 0.01)

        let given = try Self.json(try Self.run(specs + ["--target-error", "12%", "--irreducible-error", "10%", "--json", "--config", "/none"]))
        #expect((given["fit"] as? [String: Any])?["irreducible_error"] as? Double == 0.1)

        for flags in [["--irreducible-error", "auto"], ["--irreducible-error", "0.1"]] {
            let below = try Self.run(specs + ["--target-error", "0.09"] + flags + ["--config", "/none"])
            #expect(below.status == 1)
            #expect(below.standardError.contains("the target error 9 % is at or below the irreducible error the fit has, 10 %"), "\(below.standardError)")
            #expect(below.standardOutput.isEmpty)
        }
    }

    @Test func everyBadInputIsRefusedByNameWithoutACrash() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let three = try Self.write([("a", 1e9, 0.3), ("b", 1e10, 0.2), ("c", 1e11, 0.15)], in: directory)
        let oneCompute = try Self.write([("d", 1e9, 0.3), ("e", 1e9, 0.2), ("f", 1e9, 0.25)], in: directory)
        let rising = try Self.write([("g", 1e9, 0.1), ("h", 1e10, 0.2), ("i", 1e11, 0.3)], in: directory)
        try #"{"name": "pct", "processors": 1, "processor_model": "x", "duration_seconds": 1, "flops": 1e12, "error": 17.3}"#
            .write(toFile: directory + "/percent.json", atomically: true, encoding: .utf8)
        try #"{"name": "none", "processors": 1, "processor_model": "x", "duration_seconds": 1, "flops": 1e12}"#
            .write(toFile: directory + "/no-error.json", atomically: true, encoding: .utf8)
        try #"{"name": "top5", "processors": 1, "processor_model": "x", "duration_seconds": 1, "flops": 1e12, "error": 0.05, "metric": "top5_error"}"#
            .write(toFile: directory + "/top5.json", atomically: true, encoding: .utf8)

        let cases: [(arguments: [String], status: Int32, message: String)] = [
            (Array(three.prefix(2)) + ["--target-error", "0.1"], 1, "at least 3 jobs with distinct compute; 2 were given"),
            (oneCompute + ["--target-error", "0.1"], 1, "all 3 jobs used the same compute (1.00e9 FLOP)"),
            (rising + ["--target-error", "0.05"], 1, "error does not fall with compute over these 3 points"),
            (three + [directory + "/percent.json", "--target-error", "0.1"], 1, "error: must be a fraction in (0, 1), found 17.3 (for 17.3 % write 0.173)"),
            (three + [directory + "/no-error.json", "--target-error", "0.1"], 1, "\(directory)/no-error.json has no \"error\""),
            (three + [directory + "/top5.json", "--target-error", "0.1"], 1, "its error is its \"top5_error\", not test_error; give --metric top5_error"),
            (three + ["--target-error", "0.1", "--irreducible-error", "auto"], 1, "fitting an irreducible error needs at least 4 jobs"),
            (three + ["--target-error", "0.1", "--irreducible-error", "0.2"], 1, "at or below the irreducible error given, 20 %"),
            (three + ["--target-error", "5"], 2, "--target-error 5: give the error as a fraction in (0, 1) (0.05) or a percentage (5%); for 5 % write 0.05 or 5%"),
            (three + ["--target-error", "soon"], 2, "--target-error soon: give the error as a fraction"),
            (three + ["--target-error", "0.1", "--irreducible-error", "most"], 2, "--irreducible-error most: give auto, or the floor as a fraction"),
            (three + ["--target-error", "0.1", "--joules-per-flop", "0"], 2, "--joules-per-flop 0.0: a positive number of joules"),
            ([directory + "/missing.json"] + three + ["--target-error", "0.1"], 1, "cannot read the spec file \(directory)/missing.json"),
        ]
        for (arguments, status, message) in cases {
            let result = try Self.run(arguments + ["--config", "/none"])
            #expect(result.status == status, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
    }

    /// Measured jobs: the points are what the workload reported, and a metric it never reported
    /// is named with the ones it did.
    @Test func measuredJobsGiveTheirReportedErrorOrNameTheMetricsTheyHave() throws {
        let state = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        var printed: [String] = []
        for hidden in ["8", "16", "32"] {
            let run = try Self.run(
                ["run", "--state-dir", state, "--name", "h\(hidden)", "--", BuiltProducts.executable("ergo-train"), "--hidden", hidden, "--samples", "1024",
                 "--epochs", "2", "--features", "3"], state: state)
            #expect(run.status == 0, "\(run.standardError)")
            printed.append(String(try #require(run.standardOutput.firstMatch(of: /epoch 2\/2: .*test error ([0-9.]+)%/)).output.1))
        }
        let output = try Self.json(try Self.run(["project", "1", "2", "3", "--target-error", "0.05", "--state-dir", state, "--json", "--config", "/none"], state: state))
        let points = try #require(output["points"] as? [[String: Any]])
        #expect(points.map { $0["source"] as? String } == ["job 1", "job 2", "job 3"])
        #expect(points.allSatisfy { $0["basis"] as? String == "reported" })
        for (point, text) in zip(points, printed) {
            #expect(abs((point["error"] as! Double) * 100 - Double(text)!) < 0.005, "stored \(point["error"]!), ergo-train printed \(text) %")
        }
        let target = try #require(output["target"] as? [String: Any])
        #expect(target["seconds_on_this_box"] is Double)
        #expect((target["flops_per_second_basis"] as? String)?.hasPrefix("job ") == true)

        let missing = try Self.run(["project", "1", "2", "3", "--target-error", "0.05", "--metric", "top1_error", "--state-dir", state], state: state)
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("job 1 (h8) reported no top1_error; it reported loss, test_error, train_error: give --metric with one of them"), "\(missing.standardError)")
    }
}
