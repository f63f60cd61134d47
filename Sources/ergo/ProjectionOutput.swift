import ErgometerCore
import Foundation

/// Everything `ergo project` answers, for either rendering.
struct ProjectionAnswer {
    var metric: String
    var points: [ScalingPoint]
    var fit: ScalingLawFit
    /// The plain power law over the same points, when a floor was asked for (to say which fits better).
    var powerLaw: ScalingLawFit?
    var projection: ScalingProjection
    /// The configuration file the carbon rates came from, or why they are the defaults.
    var carbonSource: String
    /// The job whose FLOP/s the time on this box uses.
    var rateBasis: String?

    /// The form with the lower AIC (the plain power law on a tie).
    var betterForm: ScalingLawFit.Form? {
        powerLaw.map { $0.aic <= fit.aic ? .powerLaw : fit.form }
    }
}

/// `ergo project --json`: stable keys `fit`, `target`, `points`, `sentence` (names in the
/// README), and `metric`, `comparison` beside them.
struct ProjectionJSON: Encodable {
    struct Fit: Encodable {
        var fit: ScalingLawFit

        enum CodingKeys: String, CodingKey {
            case form, slope, intercept, slopeInterval = "slope_interval", kExponent = "k_exponent", kInterval = "k_interval",
                halvingMultiplier = "halving_multiplier", rSquared = "r_squared", n, degreesOfFreedom = "degrees_of_freedom",
                irreducibleError = "irreducible_error", aic
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(fit.form, forKey: .form)
            try container.encode(fit.slope, forKey: .slope)
            try container.encode(fit.intercept, forKey: .intercept)
            try container.encode(fit.slopeInterval.map { [$0.lowerBound, $0.upperBound] }, forKey: .slopeInterval)
            try container.encode(fit.kExponent, forKey: .kExponent)
            // k = −1/slope over the slope's interval; null upper bound where the slope may be 0.
            try container.encode(fit.slopeInterval.map { [-1 / $0.lowerBound, $0.upperBound < 0 ? -1 / $0.upperBound : nil] }, forKey: .kInterval)
            try container.encode(fit.halvingMultiplier, forKey: .halvingMultiplier)
            try container.encode(fit.line.rSquared, forKey: .rSquared)
            try container.encode(fit.line.n, forKey: .n)
            try container.encode(fit.line.degreesOfFreedom, forKey: .degreesOfFreedom)
            try container.encode(fit.irreducibleError, forKey: .irreducibleError)
            try container.encode(fit.aic, forKey: .aic)
        }
    }

    struct Target: Encodable {
        var projection: ScalingProjection
        var rateBasis: String?

        enum CodingKeys: String, CodingKey {
            case error, flops, flopsInterval = "flops_interval", joulesPerFlop = "joules_per_flop",
                joulesPerFlopBasis = "joules_per_flop_basis", joulesPerFlopSource = "joules_per_flop_source",
                energyJoules = "energy_joules", energyKWh = "energy_kwh", co2Grams = "co2_grams",
                carbonIntensity = "carbon_intensity_g_per_kwh", pue, cost, currency, secondsOnThisBox = "seconds_on_this_box",
                flopsPerSecondOnThisBox = "flops_per_second_on_this_box", flopsPerSecondBasis = "flops_per_second_basis"
        }

        func encode(to encoder: any Encoder) throws {
            let p = projection
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(p.targetError, forKey: .error)
            try container.encode(p.flops, forKey: .flops)
            try container.encode([p.flopsLower, p.flopsUpper], forKey: .flopsInterval)  // null: unbounded on that side
            try container.encode(p.energyPerFlop?.joules, forKey: .joulesPerFlop)
            try container.encode(p.energyPerFlop?.basis, forKey: .joulesPerFlopBasis)
            try container.encode(p.energyPerFlop?.source, forKey: .joulesPerFlopSource)
            try container.encode(p.energyJoules, forKey: .energyJoules)
            try container.encode(p.energyKWh, forKey: .energyKWh)
            try container.encode(p.co2Grams, forKey: .co2Grams)
            try container.encode(p.carbonIntensityGramsPerKWh, forKey: .carbonIntensity)
            try container.encode(p.pue, forKey: .pue)
            try container.encode(p.cost, forKey: .cost)
            try container.encode(p.currency, forKey: .currency)
            try container.encode(p.secondsOnThisBox, forKey: .secondsOnThisBox)
            try container.encode(p.flopsPerSecondOnThisBox, forKey: .flopsPerSecondOnThisBox)
            try container.encode(rateBasis, forKey: .flopsPerSecondBasis)
        }
    }

    struct Point: Encodable {
        var name: String
        var source: String
        var flops: Double
        var error: Double
        var basis: ComputeBasis
    }

    struct Comparison: Encodable {
        var better: ScalingLawFit.Form
        var aic: [String: Double]
    }

    var metric: String
    var fit: Fit
    var target: Target
    var points: [Point]
    var comparison: Comparison?
    var sentence: String

    init(_ answer: ProjectionAnswer) {
        metric = answer.metric
        fit = Fit(fit: answer.fit)
        target = Target(projection: answer.projection, rateBasis: answer.rateBasis)
        points = answer.points.map { Point(name: $0.name, source: $0.source, flops: $0.flops, error: $0.error, basis: $0.basis) }
        comparison = answer.powerLaw.map { powerLaw in
            Comparison(better: answer.betterForm!, aic: [powerLaw.form.rawValue: powerLaw.aic, answer.fit.form.rawValue: answer.fit.aic])
        }
        sentence = answer.projection.sentence(answer.fit)
    }

    enum CodingKeys: String, CodingKey { case metric, fit, target, points, comparison, sentence }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(metric, forKey: .metric)
        try container.encode(fit, forKey: .fit)
        try container.encode(target, forKey: .target)
        try container.encode(points, forKey: .points)
        try container.encode(comparison, forKey: .comparison)  // null without a floor asked for
        try container.encode(sentence, forKey: .sentence)
    }
}

/// `ergo project` for a person: the law and what halving costs, the points, the target's
/// compute, energy, CO2, cost and time with where each figure came from, and the sentence.
enum ProjectionTextRenderer {
    static func render(_ answer: ProjectionAnswer) -> String {
        let fit = answer.fit
        let p = answer.projection
        let sig = { (value: Double) in SignificantFigures.string(value, 2) }
        let floorText = fit.irreducibleError.map { " − \(ScalingLawFit.percent($0))" } ?? ""
        var out = "Scaling law over \(fit.line.n) jobs, \(answer.metric) against compute "
        if let floor = fit.irreducibleError {
            out += "(power law with a floor, ε∞ = \(ScalingLawFit.percent(floor)) \(fit.parameters == 3 ? "fitted" : "given")):\n"
        } else {
            out += "(power law):\n"
        }
        out += "  log10(\(answer.metric)\(floorText)) = \(Format.fixed(fit.intercept, 3)) \(fit.slope < 0 ? "−" : "+") \(Format.fixed(abs(fit.slope), 4)) × log10(FLOP)"
        out += "   R² \(Format.fixed(fit.line.rSquared, 3)), n \(fit.line.n)\n"
        let kRange = fit.slopeInterval.map { interval in
            " (95 %: \(Format.fixed(-1 / interval.lowerBound, 1)) to \(interval.upperBound < 0 ? Format.fixed(-1 / interval.upperBound, 1) : "unbounded"))"
        } ?? ""
        out += "  k = \(Format.fixed(fit.kExponent, 2))\(kRange): halving \(fit.irreducibleError == nil ? "the error" : "the error above the floor") costs \(sig(fit.halvingMultiplier))× the compute\n"
        if let powerLaw = answer.powerLaw, let better = answer.betterForm {
            out += "  \(better == .powerLaw ? "the plain power law fits better" : "the floor fits better than the plain power law")"
            out += " (AIC \(Format.fixed(fit.aic, 1)) with the floor, \(Format.fixed(powerLaw.aic, 1)) without; k \(Format.fixed(powerLaw.kExponent, 2)) without)\n"
        }
        out += "\n"
        out += Format.table(
            [["job", "name", "compute", answer.metric]]
                + answer.points.map { [$0.source, $0.name, "\(sig($0.flops)) FLOP [\($0.basis.rawValue)]", ScalingLawFit.percent($0.error)] })

        out += "\nTarget \(answer.metric) \(ScalingLawFit.percent(p.targetError)):\n"
        let interval = "95 % prediction interval \(p.flopsLower.map(sig) ?? "unbounded") to \(p.flopsUpper.map(sig) ?? "unbounded")"
        var rows: [[String]] = [["compute", "\(sig(p.flops)) FLOP", "(\(interval))"]]
        if let energy = p.energyJoules, let kWh = p.energyKWh, let perFlop = p.energyPerFlop {
            rows.append(["energy", "\(sig(kWh)) kWh = \(Format.si(energy))J", "at \(sig(perFlop.joules)) J/FLOP [\(perFlop.basis), \(perFlop.source)]"])
        } else {
            rows.append(["energy", "unknown", "(no job's energy is known: give --joules-per-flop)"])
        }
        if let co2 = p.co2Grams {
            rows.append(["CO2", ScalingProjection.mass(co2), "at \(sig(p.carbonIntensityGramsPerKWh)) g/kWh, PUE \(Format.fixed(p.pue, 2)) [\(answer.carbonSource)]"])
        } else {
            rows.append(["CO2", "unknown", "(it needs the energy)"])
        }
        if let cost = p.cost, let currency = p.currency, p.energyJoules != nil {
            rows.append(["cost", "\(sig(cost)) \(currency)", "[\(answer.carbonSource)]"])
        } else {
            rows.append(["cost", "unknown", p.energyJoules == nil ? "(it needs the energy)" : "(no carbon.price_per_kwh or price_csv configured)"])
        }
        if let seconds = p.secondsOnThisBox, let rate = p.flopsPerSecondOnThisBox {
            rows.append(["time", "\(ScalingProjection.duration(seconds)) on this box", "at \(Format.si(rate))FLOP/s [\(answer.rateBasis ?? "best job"), the fastest measured here]"])
        } else {
            rows.append(["time", "unknown", "(no job measured on this box)"])
        }
        out += Format.table(rows)
        let sentence = p.sentence(fit)
        out += "\n" + sentence.prefix(1).uppercased() + sentence.dropFirst() + ".\n"
        return out
    }
}
