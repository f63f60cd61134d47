import ArgumentParser
import ErgometerCharts
import ErgometerCore
import ErgometerWire
import Foundation

/// `ergo compare A B`: how much of the growth in compute from A to B came from better hardware
/// (per-processor throughput), more processors, and running longer; and what it did to energy.
/// A and B are job ids (measured here) or JSON spec files (jobs that ran elsewhere), in any mix.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Split the growth in compute between two jobs into better hardware, more processors and a longer run.",
        discussion: """
            A and B are job ids (from `ergo jobs`) or spec files (JSON: name, processors, processor_model, duration_seconds, \
            and flops or flops_per_processor_second with throughput_kind "peak" or "achieved"; optional energy_joules or \
            power_watts_per_processor). F_B/F_A = (h_B/h_A) × (N_B/N_A) × (T_B/T_A), h = F/(N·T).
            """
    )

    @Argument(help: "The earlier (baseline) job: an id or a spec file.") var a: String
    @Argument(help: "The later job: an id or a spec file.") var b: String
    @Flag(help: "Print JSON (keys in the README).") var json = false
    @Option(help: ArgumentHelp("Also draw the ratio as its three factors, with energy, to this SVG file.", valueName: "FILE")) var svg: String?
    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        let sides = ComputeSides(daemon: daemon)
        let first = try sides.side(a)
        let second = try sides.side(b)
        let growth: ComputeGrowth
        do { growth = try ComputeGrowth.between(first.profile, second.profile) } catch { throw CommandFailure(error.description) }
        if let svg { try SVGOutput.write(GrowthChart.svg(a: first.profile, b: second.profile, growth: growth), to: svg) }
        if json {
            print(JSONOutput.string(ComparisonJSON(a: first, b: second, growth: growth)))
        } else {
            print(CompareTextRenderer.render(a: first, b: second, growth: growth), terminator: "")
        }
        if let svg { SVGOutput.announce(svg, json: json) }
    }
}

/// `ergo compare --json`: stable keys `compute_ratio`, `factors`, `shares`, `energy_ratio`,
/// `energy_per_flop_ratio`, `basis`, `sentence`, and `a`, `b` with each side's figures.
struct ComparisonJSON: Encodable {
    struct Side: Encodable {
        var source: String
        var name: String
        var flops: Double
        var processors: Double
        var durationSeconds: Double
        var flopsPerProcessorSecond: Double
        var energyJoules: Double?
        var energySource: String?
        var processorModel: String?

        enum CodingKeys: String, CodingKey {
            case source, name, flops, processors, durationSeconds = "duration_seconds",
                flopsPerProcessorSecond = "flops_per_processor_second", energyJoules = "energy_joules", energySource = "energy_source",
                processorModel = "processor_model"
        }
    }

    struct Basis: Encodable {
        var flops: ComputeBasis
        var processors: ComputeBasis
    }

    var a: Side
    var b: Side
    var computeRatio: Double
    var factors: ComputeGrowth.Factors
    var shares: ComputeGrowth.Factors?
    var energyRatio: Double?
    var energyPerFlopRatio: Double?
    var basis: [String: Basis]
    var sentence: String

    init(a: ComputeSide, b: ComputeSide, growth: ComputeGrowth) {
        func side(_ s: ComputeSide) -> Side {
            Side(
                source: "\(s.kind) \(s.argument)", name: s.profile.name, flops: s.profile.flops, processors: s.profile.processors,
                durationSeconds: s.profile.seconds, flopsPerProcessorSecond: s.profile.throughput, energyJoules: s.profile.energyJoules,
                energySource: s.profile.energySource, processorModel: s.processorModel)
        }
        self.a = side(a)
        self.b = side(b)
        computeRatio = growth.computeRatio
        factors = growth.factors
        shares = growth.shares
        energyRatio = growth.energyRatio
        energyPerFlopRatio = growth.energyPerFlopRatio
        basis = [
            "a": Basis(flops: a.profile.flopsBasis, processors: a.profile.processorsBasis),
            "b": Basis(flops: b.profile.flopsBasis, processors: b.profile.processorsBasis),
        ]
        sentence = growth.sentence
    }

    enum CodingKeys: String, CodingKey {
        case a, b, computeRatio = "compute_ratio", factors, shares, energyRatio = "energy_ratio",
            energyPerFlopRatio = "energy_per_flop_ratio", basis, sentence
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(a, forKey: .a)
        try container.encode(b, forKey: .b)
        try container.encode(computeRatio, forKey: .computeRatio)
        try container.encode(factors, forKey: .factors)
        try container.encode(shares, forKey: .shares)  // null when compute did not change
        try container.encode(energyRatio, forKey: .energyRatio)
        try container.encode(energyPerFlopRatio, forKey: .energyPerFlopRatio)
        try container.encode(basis, forKey: .basis)
        try container.encode(sentence, forKey: .sentence)
    }
}

/// `ergo compare` for a person: both sides' figures with units and where each came from, the
/// factors with their shares, and the sentence.
enum CompareTextRenderer {
    static func render(a: ComputeSide, b: ComputeSide, growth: ComputeGrowth) -> String {
        func column(_ side: ComputeSide) -> [String] {
            let p = side.profile
            return [
                "\(side.kind == "job" ? "job \(side.argument)" : side.argument): \(p.name)",
                "\(Format.si(p.flops))FLOP [\(p.flopsBasis.rawValue)]",
                "\(Format.fixed(p.processors, 2)) [\(p.processorsBasis.rawValue)\(p.processorsBasis == .estimated && side.kind == "job" ? ": busy cores" : p.processorsBasis == .observed ? ": GPUs used" : "")]",
                "\(Format.fixed(p.seconds, 2)) s",
                "\(Format.si(p.throughput))FLOP/s per processor",
                p.energyJoules.map { "\(Format.fixed($0, 3)) J [\(p.energySource ?? "declared")]" } ?? "unknown",
                p.energyJoules.map { "\(Format.si($0 / p.flops))J/FLOP [\(p.energySource ?? "declared")]" } ?? "unknown",
            ]
        }
        let labels = ["", "compute", "processors", "duration", "throughput", "energy", "energy per FLOP"]
        let left = column(a)
        let right = column(b)
        var out = Format.table((0..<labels.count).map { [labels[$0], left[$0], right[$0]] })
        func share(_ value: Double?) -> String { value.map { " (\(Format.fixed($0 * 100, 0))% of the growth)" } ?? "" }
        out += "\nB / A:\n"
        out += Format.table([
            ["compute", "\(ComputeGrowth.times(growth.computeRatio))", "= hardware × processors × duration"],
            ["better hardware (throughput per processor)", ComputeGrowth.times(growth.factors.hardware), share(growth.shares?.hardware)],
            ["more processors", ComputeGrowth.times(growth.factors.processors), share(growth.shares?.processors)],
            ["running longer", ComputeGrowth.times(growth.factors.duration), share(growth.shares?.duration)],
            ["energy", growth.energyRatio.map { ComputeGrowth.times($0) } ?? "unknown (a side has no energy)", ""],
            ["joules per FLOP", growth.energyPerFlopRatio.map { ComputeGrowth.times($0) } ?? "unknown", ""],
        ])
        out += "\n" + growth.sentence.prefix(1).uppercased() + growth.sentence.dropFirst() + ".\n"
        return out
    }
}
