import Foundation

/// One job on the scaling curve: the compute it used and the error it reached, with how the
/// compute was obtained (reported, declared, estimated) and where the point came from.
public struct ScalingPoint: Sendable, Equatable {
    public var name: String
    /// `job 3`, or the spec file's path.
    public var source: String
    public var flops: Double
    /// A fraction in (0, 1).
    public var error: Double
    public var basis: ComputeBasis

    public init(name: String, source: String, flops: Double, error: Double, basis: ComputeBasis) {
        self.name = name
        self.source = source
        self.flops = flops
        self.error = error
        self.basis = basis
    }
}

/// Whether the fit has an irreducible error ε∞: none (the plain power law), found by the fit,
/// or given.
public enum IrreducibleError: Sendable, Equatable {
    case none
    case fitted
    case given(Double)
}

/// Why a set of points cannot be fitted or projected, in a sentence that names the point or
/// the figure and what to do.
public struct ScalingLawError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The law fitted over the points, in the form of Thompson et al.:
///
///     log10(ε − ε∞) = intercept + slope · log10(F)
///
/// with ε∞ = 0 for the plain power law. An m-fold drop in (the reducible) error costs m^k times
/// the compute, k = −1/slope: halving it costs 2^k (4 in theory, about 9 in practice).
public struct ScalingLawFit: Sendable, Equatable {
    /// The JSON names of the two forms.
    public enum Form: String, Sendable, Codable {
        case powerLaw = "power_law"
        case powerLawWithFloor = "power_law_with_floor"
    }

    public var form: Form
    /// log10(ε − ε∞) on log10(F); its degrees of freedom count ε∞ when it was fitted.
    public var line: LinearFit
    /// ε∞; nil for the plain power law.
    public var irreducibleError: Double?
    /// Σ (log10 ε − log10 ε̂)² over the points, the same measure for either form.
    public var logErrorResidualSumOfSquares: Double
    /// Parameters fitted: 2, or 3 when ε∞ was.
    public var parameters: Int

    public var slope: Double { line.slope }
    public var intercept: Double { line.intercept }
    public var kExponent: Double { -1 / line.slope }
    /// What halving the (reducible) error costs in compute: 2^k.
    public var halvingMultiplier: Double { pow(2, kExponent) }
    public var slopeInterval: ClosedRange<Double>? { line.slopeInterval() }

    /// Akaike's criterion in the log-error residuals, n·ln(SSE/n) + 2p: lower fits better for
    /// its parameters.
    public var aic: Double {
        let n = Double(line.n)
        return n * log(max(logErrorResidualSumOfSquares / n, 1e-30)) + 2 * Double(parameters)
    }

    /// The error the law gives for `flops`.
    public func error(atFlops flops: Double) -> Double {
        (irreducibleError ?? 0) + pow(10, line.predict(log10(flops)))
    }

    /// The compute at which a run would reach `error`, with its 95 % prediction interval
    /// (bounds nil where unbounded).
    public func flops(toReach error: Double) throws(ScalingLawError) -> (flops: Double, lower: Double?, upper: Double?) {
        guard slope < 0 else {
            throw ScalingLawError(
                "error does not fall with compute over these \(line.n) points (slope \(FixedDecimal.string(slope, 3)) in log10 error per log10 FLOP, R² \(FixedDecimal.string(line.rSquared, 2))): there is no curve to project; measure jobs that differ in compute by more, or check their errors")
        }
        let floor = irreducibleError ?? 0
        guard error > floor else {
            throw ScalingLawError(
                "the target error \(Self.percent(error)) is at or below the irreducible error the fit \(form == .powerLawWithFloor ? "has" : "uses"), \(Self.percent(floor)): no amount of compute reaches it on this task; choose a target above \(Self.percent(floor))")
        }
        guard let inverse = line.inversePrediction(log10(error - floor)) else {
            throw ScalingLawError("the fit is flat (slope 0): there is no curve to project")
        }
        return (pow(10, inverse.estimate), inverse.lower.map { pow(10, $0) }, inverse.upper.map { pow(10, $0) })
    }

    /// 12 %, 8.75 %, 0.5 %: a fraction as a percentage with at most two decimals.
    public static func percent(_ fraction: Double) -> String { FixedDecimal.trimmed(fraction * 100, 2) + " %" }
}

/// Fits the scaling law over jobs: validates the points, then the plain power law, or the law
/// with a floor ε∞ (given, or found by profile least squares in log error).
public enum ScalingLaw {
    /// The fit asked for and the plain power law over the same points (the same when none was
    /// asked), so a caller can say which fits better.
    public static func fit(_ points: [ScalingPoint], irreducibleError: IrreducibleError) throws(ScalingLawError) -> (
        fit: ScalingLawFit, powerLaw: ScalingLawFit
    ) {
        try validate(points, irreducibleError: irreducibleError)
        let x = points.map { log10($0.flops) }
        let errors = points.map(\.error)
        guard let powerLaw = line(x: x, errors: errors, floor: nil, parameters: 2) else {
            throw ScalingLawError("the points do not determine a line")
        }
        switch irreducibleError {
        case .none:
            return (powerLaw, powerLaw)
        case .given(let floor):
            guard let fit = line(x: x, errors: errors, floor: floor, parameters: 2) else { throw ScalingLawError("the points do not determine a line") }
            return (fit, powerLaw)
        case .fitted:
            return (fittedFloor(x: x, errors: errors), powerLaw)
        }
    }

    static func validate(_ points: [ScalingPoint], irreducibleError: IrreducibleError) throws(ScalingLawError) {
        for point in points {
            guard point.flops > 0, point.flops.isFinite else {
                throw ScalingLawError("\(point.source) (\(point.name)): its compute is \(point.flops) FLOP; a point needs a positive figure")
            }
            guard point.error > 0, point.error < 1 else {
                throw ScalingLawError(
                    "\(point.source) (\(point.name)): its error \(point.error) is not a fraction in (0, 1)\(point.error >= 1 && point.error < 100 ? "; if it is a percentage, give \(FixedDecimal.trimmed(point.error / 100, 6))" : "")")
            }
        }
        guard points.count >= 3 else {
            throw ScalingLawError("a scaling law needs at least 3 jobs with distinct compute; \(points.count == 1 ? "1 was" : "\(points.count) were") given")
        }
        let distinct = Set(points.map(\.flops)).count
        guard distinct > 1 else {
            throw ScalingLawError("all \(points.count) jobs used the same compute (\(SignificantFigures.string(points[0].flops, 3)) FLOP): a curve needs jobs that differ in compute")
        }
        guard distinct >= 3 else {
            throw ScalingLawError("only \(distinct) distinct compute figures among \(points.count) jobs; a scaling law needs at least 3")
        }
        switch irreducibleError {
        case .none:
            break
        case .fitted:
            guard points.count >= 4 else {
                throw ScalingLawError("fitting an irreducible error needs at least 4 jobs (3 parameters and one to spare); \(points.count) were given. Give --irreducible-error VALUE, or measure another job")
            }
        case .given(let floor):
            guard floor >= 0, floor < 1 else { throw ScalingLawError("the irreducible error \(floor) is not a fraction in [0, 1)") }
            if let point = points.first(where: { $0.error <= floor }) {
                throw ScalingLawError(
                    "\(point.source) (\(point.name)) reached \(ScalingLawFit.percent(point.error)), at or below the irreducible error given, \(ScalingLawFit.percent(floor)): every job's error must lie above the floor")
            }
        }
    }

    /// The line through log10(ε − floor) on log10 F, and its residuals in log10 ε.
    static func line(x: [Double], errors: [Double], floor: Double?, parameters: Int) -> ScalingLawFit? {
        let y = errors.map { log10($0 - (floor ?? 0)) }
        guard let fit = LinearFit.leastSquares(x: x, y: y, parameters: parameters) else { return nil }
        var sse = 0.0
        for (xi, error) in zip(x, errors) {
            let residual = log10(error) - log10((floor ?? 0) + pow(10, fit.predict(xi)))
            sse += residual * residual
        }
        return ScalingLawFit(
            form: floor == nil ? .powerLaw : .powerLawWithFloor, line: fit, irreducibleError: floor,
            logErrorResidualSumOfSquares: sse, parameters: parameters)
    }

    /// ε∞ in [0, min ε) that minimizes the log-error residuals of the line fitted at it: a grid,
    /// then golden-section search around the best grid point.
    static func fittedFloor(x: [Double], errors: [Double]) -> ScalingLawFit {
        let ceiling = errors.min()! * (1 - 1e-9)
        func fit(_ floor: Double) -> ScalingLawFit? { line(x: x, errors: errors, floor: floor, parameters: 3) }
        func cost(_ floor: Double) -> Double {
            guard let fit = fit(floor), fit.slope < 0 else { return .infinity }
            return fit.logErrorResidualSumOfSquares
        }
        let steps = 512
        let grid = (0...steps).map { ceiling * Double($0) / Double(steps) }
        let costs = grid.map(cost)
        let best = costs.indices.min { costs[$0] < costs[$1] }!
        var low = grid[max(best - 1, 0)]
        var high = grid[min(best + 1, steps)]
        let ratio = (5.0.squareRoot() - 1) / 2
        var a = high - ratio * (high - low)
        var b = low + ratio * (high - low)
        var costA = cost(a)
        var costB = cost(b)
        for _ in 0..<100 where high - low > 1e-15 {
            if costA < costB {
                (high, b, costB) = (b, a, costA)
                a = high - ratio * (high - low)
                costA = cost(a)
            } else {
                (low, a, costA) = (a, b, costB)
                b = low + ratio * (high - low)
                costB = cost(b)
            }
        }
        let candidates = [(grid[best], costs[best]), ((low + high) / 2, cost((low + high) / 2))]
        let floor = candidates.min { $0.1 < $1.1 }!.0
        return fit(floor)!
    }
}
