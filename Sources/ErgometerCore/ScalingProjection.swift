import Foundation

/// What a target error would cost by a fitted law: its FLOPs (with the 95 % prediction
/// interval), then
///
///     energy = FLOPs × joules per FLOP        kWh = J / 3.6e6
///     CO2    = kWh × intensity × PUE          cost = kWh × price × PUE
///     time   = FLOPs / the box's best FLOP/s
///
/// each nil where its input is unknown (no joules per FLOP, no price, no job measured here).
public struct ScalingProjection: Sendable, Equatable {
    /// The joules per FLOP a projection multiplies by, and where it came from.
    public struct EnergyPerFlop: Sendable, Equatable {
        public var joules: Double
        /// `job 5`, a spec file, or `--joules-per-flop`.
        public var basis: String
        /// How that job's energy was obtained: `rapl`, `model`, `declared`, `given`...
        public var source: String

        public init(joules: Double, basis: String, source: String) {
            self.joules = joules
            self.basis = basis
            self.source = source
        }
    }

    public var targetError: Double
    public var flops: Double
    public var flopsLower: Double?
    public var flopsUpper: Double?
    public var energyPerFlop: EnergyPerFlop?
    public var energyJoules: Double?
    public var energyKWh: Double?
    public var co2Grams: Double?
    public var carbonIntensityGramsPerKWh: Double
    public var pue: Double
    public var cost: Double?
    public var currency: String?
    /// The best FLOP/s a job measured on this box reached, and the time the target would take at it.
    public var flopsPerSecondOnThisBox: Double?
    public var secondsOnThisBox: Double?

    /// `carbon`: its rates averaged over their series (a projection has no date).
    public static func project(
        _ fit: ScalingLawFit, targetError: Double, energyPerFlop: EnergyPerFlop?, carbon: CarbonAccounting, flopsPerSecondOnThisBox: Double?
    ) throws(ScalingLawError) -> ScalingProjection {
        guard targetError > 0, targetError < 1 else {
            throw ScalingLawError("the target error \(targetError) is not a fraction in (0, 1)\(targetError >= 1 && targetError < 100 ? "; for \(FixedDecimal.trimmed(targetError, 4)) % give \(FixedDecimal.trimmed(targetError / 100, 6))" : "")")
        }
        let (flops, lower, upper) = try fit.flops(toReach: targetError)
        let intensity = carbon.intensity.seriesAverage
        let energy = energyPerFlop.map { flops * $0.joules }
        let kWh = energy.map { CarbonAccounting.kilowattHours(joules: $0) }
        return ScalingProjection(
            targetError: targetError, flops: flops, flopsLower: lower, flopsUpper: upper, energyPerFlop: energyPerFlop,
            energyJoules: energy, energyKWh: kWh, co2Grams: kWh.map { $0 * intensity * carbon.pue },
            carbonIntensityGramsPerKWh: intensity, pue: carbon.pue,
            cost: carbon.price.flatMap { price in kWh.map { $0 * price.seriesAverage * carbon.pue } },
            currency: carbon.price == nil ? nil : carbon.currency, flopsPerSecondOnThisBox: flopsPerSecondOnThisBox,
            secondsOnThisBox: flopsPerSecondOnThisBox.map { flops / $0 })
    }

    /// "halving the error costs 512× the compute here (k = 9.0); 5 % would take 1.0e28 FLOP ≈
    /// 2.6e12 kWh ≈ 1.2e12 t CO2 ≈ 1.8e11 USD ≈ 3.2e9 years on this box".
    public func sentence(_ fit: ScalingLawFit) -> String {
        let what = fit.irreducibleError.map { "the error above its floor of \(ScalingLawFit.percent($0))" } ?? "the error"
        var sentence = "halving \(what) costs \(SignificantFigures.string(fit.halvingMultiplier, 2))× the compute here (k = \(FixedDecimal.string(fit.kExponent, 1)))"
        sentence += "; \(ScalingLawFit.percent(targetError)) would take \(SignificantFigures.string(flops, 2)) FLOP"
        if let energyKWh { sentence += " ≈ \(SignificantFigures.string(energyKWh, 2)) kWh" }
        if let co2Grams { sentence += " ≈ \(Self.mass(co2Grams)) CO2" }
        if let cost, let currency { sentence += " ≈ \(SignificantFigures.string(cost, 2)) \(currency)" }
        if let secondsOnThisBox { sentence += " ≈ \(Self.duration(secondsOnThisBox)) on this box" }
        return sentence
    }

    /// Grams as g, kg or t.
    public static func mass(_ grams: Double) -> String {
        if grams >= 1e6 { return SignificantFigures.string(grams / 1e6, 2) + " t" }
        if grams >= 1e3 { return SignificantFigures.string(grams / 1e3, 2) + " kg" }
        return SignificantFigures.string(grams, 2) + " g"
    }

    /// Seconds as s, min, h, days or years (of 365.25 days), in the largest unit that makes two
    /// or more.
    public static func duration(_ seconds: Double) -> String {
        let units: [(Double, String)] = [(31_557_600, "years"), (86_400, "days"), (3_600, "h"), (60, "min")]
        let (size, unit) = units.first { seconds >= 2 * $0.0 } ?? (1, "s")
        return SignificantFigures.string(seconds / size, 2) + " " + unit
    }
}

extension RateSchedule {
    /// The time-weighted mean over the series' own span (its one value when constant or a
    /// single point): the rate for a run with no date, such as a projection.
    public var seriesAverage: Double {
        switch self {
        case .constant(let value): return value
        case .series(let points): return average(from: points.first!.time, to: points.last!.time)
        }
    }
}
