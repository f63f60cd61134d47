import ArgumentParser
import ErgometerCharts
import ErgometerCore
import ErgometerDaemon
import Foundation

/// `ergo project A B C... --target-error E`: fits the scaling law of error against compute over
/// jobs (measured here, or spec files) and says what the target error would cost in compute,
/// energy, CO2, money and time on this box.
struct ProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Fit error against compute over jobs and project what a target error would cost.",
        discussion: """
            Jobs are ids (from `ergo jobs`) or spec files, at least 3 with distinct compute. A measured job's error is the \
            last value of --metric its workload reported through ErgometerClient; a spec file's is its "error" key. The fit \
            is log10(error - floor) = intercept + slope · log10(FLOPs); k = -1/slope, so halving the error costs 2^k the \
            compute. Energy uses the lowest joules per FLOP among the jobs (or --joules-per-flop); CO2 and cost the \
            intensity, PUE and price of ergod's configuration.
            """
    )

    @Argument(help: "Jobs: ids or spec files.") var jobs: [String] = []
    @Option(help: ArgumentHelp("The error to project to: a fraction (0.05) or a percentage (5%).", valueName: "E")) var targetError: String
    @Option(help: ArgumentHelp("The metric measured jobs reported their error as.", valueName: "NAME")) var metric = "test_error"
    @Option(help: ArgumentHelp("Fit an irreducible error: auto (found by the fit, needs 4 jobs) or a fraction.", valueName: "auto|VALUE"))
    var irreducibleError: String?
    @Option(help: ArgumentHelp("Joules per FLOP for the energy, instead of the best job's.", valueName: "J")) var joulesPerFlop: Double?
    @Flag(help: "Print JSON: fit, target, points, sentence (keys in the README).") var json = false
    @Option(help: ArgumentHelp("Also draw the points, the fit with its band and the target to this SVG file.", valueName: "FILE")) var svg: String?
    @Option(help: ArgumentHelp("ergod's configuration, for the carbon intensity, PUE and price.", valueName: "FILE"))
    var config = "/etc/ergometer/ergometer.toml"
    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        let target = try Self.targetFraction(targetError)
        let floor = try floorChoice()
        if let joulesPerFlop, !(joulesPerFlop > 0 && joulesPerFlop.isFinite) {
            throw ValidationError("--joules-per-flop \(joulesPerFlop): a positive number of joules")
        }
        let resolver = ComputeSides(daemon: daemon)
        let sides = try jobs.map { try resolver.side($0) }
        let points = try sides.map(point)
        let (carbon, carbonSource) = try carbonAccounting()
        let rate = bestRate(sides)
        let answer: ProjectionAnswer
        do {
            let (fit, powerLaw) = try ScalingLaw.fit(points, irreducibleError: floor)
            let projection = try ScalingProjection.project(
                fit, targetError: target, energyPerFlop: energyPerFlop(sides), carbon: carbon, flopsPerSecondOnThisBox: rate?.flopsPerSecond)
            answer = ProjectionAnswer(
                metric: metric, points: points, fit: fit, powerLaw: floor == .none ? nil : powerLaw, projection: projection,
                carbonSource: carbonSource, rateBasis: rate?.basis)
        } catch {
            throw CommandFailure(error.description)
        }
        if let svg {
            try SVGOutput.write(ScalingChart.svg(points: points, fit: answer.fit, projection: answer.projection, metric: metric), to: svg)
        }
        print(json ? JSONOutput.string(ProjectionJSON(answer)) : ProjectionTextRenderer.render(answer), terminator: json ? "\n" : "")
        if let svg { SVGOutput.announce(svg, json: json) }
    }

    /// `0.05` or `5%` as 0.05; nil when it is neither.
    static func fraction(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let isPercent = trimmed.hasSuffix("%")
        guard let number = Double(isPercent ? String(trimmed.dropLast()).trimmingCharacters(in: .whitespaces) : trimmed), number.isFinite else {
            return nil
        }
        return isPercent ? number / 100 : number
    }

    static func targetFraction(_ text: String) throws -> Double {
        guard let value = fraction(text), value > 0, value < 1 else {
            let hint = fraction(text).map { $0 >= 1 && $0 < 100 ? "; for \(text) % write \(FixedDecimal.trimmed($0 / 100, 6)) or \(text)%" : "" } ?? ""
            throw ValidationError("--target-error \(text): give the error as a fraction in (0, 1) (0.05) or a percentage (5%)\(hint)")
        }
        return value
    }

    func floorChoice() throws -> IrreducibleError {
        guard let irreducibleError else { return .none }
        if irreducibleError == "auto" { return .fitted }
        guard let value = Self.fraction(irreducibleError), value >= 0, value < 1 else {
            throw ValidationError("--irreducible-error \(irreducibleError): give auto, or the floor as a fraction in [0, 1) (0.0875) or a percentage (8.75%)")
        }
        return .given(value)
    }

    /// A side's point: its FLOPs and the error it reached.
    func point(_ side: ComputeSide) throws -> ScalingPoint {
        let error: Double
        if let spec = side.spec {
            if let named = spec.metric, named != metric {
                throw CommandFailure("\(side.argument): its error is its \"\(named)\", not \(metric); give --metric \(named), or project jobs of one metric")
            }
            guard let value = spec.error else {
                throw CommandFailure("\(side.argument) has no \"error\": add the error the job reached as a fraction in (0, 1), e.g. \"error\": 0.173, and its \"metric\"")
            }
            error = value
        } else {
            guard let value = side.metrics[metric] else {
                let reported = side.metrics.keys.sorted()
                throw CommandFailure(
                    "job \(side.argument) (\(side.profile.name)) reported no \(metric)"
                        + (reported.isEmpty
                            ? " and no other metric: have its workload record its error through ErgometerClient (TrainingReporter.record), or describe it in a spec file with \"error\""
                            : "; it reported \(reported.joined(separator: ", ")): give --metric with one of them"))
            }
            guard value > 0, value < 1 else {
                throw CommandFailure("job \(side.argument) (\(side.profile.name)): its \(metric) is \(value), not an error fraction in (0, 1); give --metric with the metric that is one")
            }
            error = value
        }
        return ScalingPoint(name: side.profile.name, source: side.label, flops: side.profile.flops, error: error, basis: side.profile.flopsBasis)
    }

    /// `--joules-per-flop`, else the lowest of the jobs whose energy is known.
    func energyPerFlop(_ sides: [ComputeSide]) -> ScalingProjection.EnergyPerFlop? {
        if let joulesPerFlop { return .init(joules: joulesPerFlop, basis: "--joules-per-flop", source: "given") }
        let known = sides.compactMap { side in side.profile.energyJoules.map { (side, $0 / side.profile.flops) } }.filter { $0.1 > 0 }
        guard let best = known.min(by: { $0.1 < $1.1 }) else { return nil }
        return .init(joules: best.1, basis: best.0.label, source: best.0.profile.energySource ?? "declared")
    }

    /// The fastest job measured on this box (specs ran elsewhere), in FLOP/s.
    func bestRate(_ sides: [ComputeSide]) -> (flopsPerSecond: Double, basis: String)? {
        sides.filter { $0.kind == "job" && $0.profile.seconds > 0 }
            .map { ($0.profile.flops / $0.profile.seconds, $0.label) }
            .max { $0.0 < $1.0 }
    }

    /// The rates of ergod's configuration, or the defaults when there is none.
    func carbonAccounting() throws -> (CarbonAccounting, String) {
        guard FileManager.default.fileExists(atPath: config) else { return (CarbonAccounting(), "defaults; no \(config)") }
        do {
            return (try ConfigurationLoader.carbonAccounting(try ConfigurationLoader.load(file: config)), config)
        } catch {
            throw CommandFailure(error.description)
        }
    }
}
