import ErgometerCore
import Foundation
import Testing

/// The hardware-versus-scale decomposition: F_B/F_A = (h_B/h_A)(N_B/N_A)(T_B/T_A).
struct ComputeGrowthTests {
    static func profile(_ name: String, flops: Double, processors: Double, seconds: Double, energy: Double? = nil) -> ComputeProfile {
        ComputeProfile(name: name, flops: flops, processors: processors, seconds: seconds, energyJoules: energy, flopsBasis: .declared, processorsBasis: .declared)
    }

    @Test func factorsMultiplyBackAndSharesSumToOne() throws {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            let a = Self.profile("a", flops: .random(in: 1e3...1e24, using: &random), processors: .random(in: 0.1...1e5, using: &random), seconds: .random(in: 1e-3...1e8, using: &random))
            let b = Self.profile("b", flops: .random(in: 1e3...1e24, using: &random), processors: .random(in: 0.1...1e5, using: &random), seconds: .random(in: 1e-3...1e8, using: &random))
            let growth = try ComputeGrowth.between(a, b)
            let product = growth.factors.hardware * growth.factors.processors * growth.factors.duration
            #expect(abs(product / growth.computeRatio - 1) < 1e-12, "\(a) → \(b)")
            #expect(abs(growth.factors.hardware - b.throughput / a.throughput) / growth.factors.hardware < 1e-12)
            let shares = try #require(growth.shares)
            #expect(abs(shares.hardware + shares.processors + shares.duration - 1) < 1e-9)
        }
    }

    /// The shape of the compute-cost studies: 256x more compute, of which 2x from hardware,
    /// 64x from processors and 2x from a longer run. Powers of two: exact in binary.
    @Test func twoSpecsWithKnownNumbers() throws {
        let a = try JobSpec.parse(Array(#"{"name": "2012 model", "processors": 2, "processor_model": "GTX 580", "duration_seconds": 524288, "flops": 4.5e17, "energy_joules": 2.4e8}"#.utf8), file: "a.json")
        let b = try JobSpec.parse(Array(#"{"name": "2018 model", "processors": 128, "processor_model": "V100", "duration_seconds": 1048576, "flops": 1.152e20, "energy_joules": 7.68e9}"#.utf8), file: "b.json")
        let growth = try ComputeGrowth.between(a.profile, b.profile)
        #expect(growth.computeRatio == 256)
        #expect(growth.factors == .init(hardware: 2, processors: 64, duration: 2))
        #expect(growth.shares == .init(hardware: 0.125, processors: 0.75, duration: 0.125))
        #expect(growth.energyRatio == 32)
        #expect(growth.energyPerFlopRatio == 0.125)
        #expect(growth.sentence == "compute grew 256x: 2.0x from better hardware, 64x from more processors, 2.0x from running longer; energy grew 32x, at 0.13x the joules per FLOP")
    }

    @Test func shrinkingIsSaidAsSuch() throws {
        let growth = try ComputeGrowth.between(Self.profile("a", flops: 100, processors: 4, seconds: 10), Self.profile("b", flops: 25, processors: 2, seconds: 10))
        #expect(growth.factors == .init(hardware: 0.5, processors: 0.5, duration: 1))
        #expect(growth.sentence == "compute fell to 0.25x: 0.50x (slower hardware), 0.50x (fewer processors), 1.0x from running longer")
        #expect(growth.energyRatio == nil && growth.energyPerFlopRatio == nil, "no energy on either side")
    }

    @Test func noGrowthHasNoShares() throws {
        let growth = try ComputeGrowth.between(Self.profile("a", flops: 100, processors: 4, seconds: 10), Self.profile("b", flops: 100, processors: 2, seconds: 20))
        #expect(growth.computeRatio == 1)
        #expect(growth.shares == nil)
    }

    @Test(arguments: [(0.0, "FLOPs is 0.0"), (-1.0, "FLOPs is -1.0"), (Double.nan, "FLOPs is nan")])
    func nonPositiveFiguresAreRefused(flops: Double, message: String) {
        #expect(throws: ComputeGrowth.InvalidProfile.self) {
            try ComputeGrowth.between(Self.profile("a", flops: flops, processors: 1, seconds: 1), Self.profile("b", flops: 1, processors: 1, seconds: 1))
        }
        do {
            _ = try ComputeGrowth.between(Self.profile("a", flops: flops, processors: 1, seconds: 1), Self.profile("b", flops: 1, processors: 1, seconds: 1))
        } catch {
            #expect(error.description.contains("a: \(message)"))
        }
    }
}

/// Spec files: every mistake named with its key and the fix.
struct JobSpecTests {
    static let valid = #"{"name": "x", "processors": 8, "processor_model": "A100", "duration_seconds": 3600, "flops": 1e18}"#

    func problems(_ json: String) -> [String] {
        do {
            _ = try JobSpec.parse(Array(json.utf8), file: "spec.json")
            return []
        } catch {
            #expect(error.description.hasPrefix("invalid job spec spec.json:"))
            return error.problems
        }
    }

    @Test func aValidSpecParses() throws {
        let spec = try JobSpec.parse(Array(Self.valid.utf8), file: "spec.json")
        #expect(spec.processors == 8 && spec.flops == 1e18 && spec.processorModel == "A100")
        #expect(spec.profile.flopsBasis == .declared)
        #expect(spec.profile.energyJoules == nil)
        #expect(spec.error == nil && spec.metric == nil && spec.comment == nil)
        let projected = try JobSpec.parse(
            Array(#"{"name": "x", "processors": 1, "processor_model": "x", "duration_seconds": 1, "flops": 1, "error": 0.173, "metric": "top1_error", "comment": "Zoph et al."}"#.utf8),
            file: "x.json")
        #expect(projected.error == 0.173 && projected.metric == "top1_error" && projected.comment == "Zoph et al.")
    }

    @Test(arguments: [
        (#"{"processors": 8, "processor_model": "A100", "duration_seconds": 3600, "flops": 1e18}"#, "name: missing"),
        (#"{"name": "x", "processors": 0, "processor_model": "A100", "duration_seconds": 3600, "flops": 1e18}"#, "processors: must be greater than zero, found 0"),
        (#"{"name": "x", "processors": 8, "processor_model": "A100", "duration_seconds": -5, "flops": 1e18}"#, "duration_seconds: must be greater than zero, found -5.0"),
        (#"{"name": "x", "processors": "8", "processor_model": "A100", "duration_seconds": 3600, "flops": 1e18}"#, "processors: must be a number, found a string"),
        (#"{"name": "x", "processors": true, "processor_model": "A100", "duration_seconds": 3600, "flops": 1e18}"#, "processors: must be a number, found a boolean"),
        (#"{"name": 3, "processors": 8, "processor_model": "A100", "duration_seconds": 3600, "flops": 1e18}"#, "name: must be a string, found a number"),
        (#"{"name": "x", "processors": 8, "processor_model": "A100", "duration_seconds": 3600, "flops": 1e18, "flop": 2}"#, "unknown key \"flop\"; the keys are name, processors"),
        (#"{"name": "x", "processors": 8, "processor_model": "A100", "duration_seconds": 3600}"#, "give flops (the job's total), or flops_per_processor_second with throughput_kind"),
        (#"{"name": "x", "processors": 8, "processor_model": "A100", "duration_seconds": 3600, "flops": 1, "flops_per_processor_second": 1, "throughput_kind": "peak"}"#, "flops and flops_per_processor_second are both given"),
        (#"{"name": "x", "processors": 8, "processor_model": "A100", "duration_seconds": 3600, "flops_per_processor_second": 1e12}"#, "throughput_kind: missing"),
        (#"{"name": "x", "processors": 8, "processor_model": "A100", "duration_seconds": 3600, "flops_per_processor_second": 1e12, "throughput_kind": "max"}"#, "throughput_kind: \"max\" is neither \"peak\" nor \"achieved\""),
        (#"{"name": "x", "processors": 8, "processor_model": "A100", "duration_seconds": 3600, "flops": 1, "energy_joules": 5, "power_watts_per_processor": 300}"#, "energy_joules and power_watts_per_processor are both given"),
        (#"{"name": "x", "processors": 8, "processor_model": "A100", "duration_seconds": 3600, "flops": 1, "error": 36.7}"#, "error: must be a fraction in (0, 1), found 36.7 (for 36.7 % write 0.367)"),
        (#"{"name": "x", "processors": 8, "processor_model": "A100", "duration_seconds": 3600, "flops": 1, "error": 0}"#, "error: must be greater than zero, found 0"),
        (#"{"name": "x", "processors": 8, "processor_model": "A100", "duration_seconds": 3600, "flops": 1, "metric": 5}"#, "metric: must be a string, found a number"),
        (#"[1, 2]"#, "the file is JSON but not an object"),
        (#"{"name": "x", "#, "not valid JSON"),
    ])
    func mistakesAreNamed(json: String, expected: String) {
        let found = problems(json)
        #expect(found.contains { $0.contains(expected) }, "\(found)")
    }

    @Test func everyProblemAtOnce() {
        #expect(problems(#"{"processors": -1, "duration_seconds": "long", "colour": "red"}"#).count == 6)
    }

    @Test func peakThroughputIsAnEstimateAndPowerGivesEnergy() throws {
        let spec = try JobSpec.parse(Array(#"{"name": "p", "processors": 4, "processor_model": "V100", "duration_seconds": 100, "flops_per_processor_second": 1.25e14, "throughput_kind": "peak", "power_watts_per_processor": 300}"#.utf8), file: "p.json")
        #expect(spec.profile.flops == 5e16)
        #expect(spec.profile.flopsBasis == .estimated)
        #expect(spec.profile.energyJoules == 120_000)
        #expect(spec.profile.energySource == "estimated")
        let achieved = try JobSpec.parse(Array(#"{"name": "p", "processors": 4, "processor_model": "V100", "duration_seconds": 100, "flops_per_processor_second": 4e13, "throughput_kind": "achieved"}"#.utf8), file: "p.json")
        #expect(achieved.profile.flopsBasis == .declared)
    }
}
