import Foundation

/// Ordinary least squares of y on x, y = intercept + slope·x, with what its intervals need: the
/// residual standard error s, x̄, Sxx = Σ(x − x̄)² and the residual degrees of freedom.
public struct LinearFit: Sendable, Equatable {
    public var slope: Double
    public var intercept: Double
    public var rSquared: Double
    public var n: Int
    /// n − the parameters fitted (2 for the line; one more when something else was fitted too).
    public var degreesOfFreedom: Int
    /// Σ residual²
    public var residualSumOfSquares: Double
    public var meanX: Double
    public var meanY: Double
    public var sxx: Double

    /// The fit, or nil with fewer than 2 distinct x. `parameters`: how many were fitted to these
    /// points in all, for the degrees of freedom.
    public static func leastSquares(x: [Double], y: [Double], parameters: Int = 2) -> LinearFit? {
        precondition(x.count == y.count, "x and y pair up")
        let n = x.count
        guard n >= 2 else { return nil }
        let meanX = x.reduce(0, +) / Double(n)
        let meanY = y.reduce(0, +) / Double(n)
        var sxx = 0.0
        var sxy = 0.0
        var syy = 0.0
        for (xi, yi) in zip(x, y) {
            sxx += (xi - meanX) * (xi - meanX)
            sxy += (xi - meanX) * (yi - meanY)
            syy += (yi - meanY) * (yi - meanY)
        }
        guard sxx > 0 else { return nil }
        let slope = sxy / sxx
        let intercept = meanY - slope * meanX
        var sse = 0.0
        for (xi, yi) in zip(x, y) {
            let residual = yi - (intercept + slope * xi)
            sse += residual * residual
        }
        return LinearFit(
            slope: slope, intercept: intercept, rSquared: syy > 0 ? max(0, 1 - sse / syy) : 1, n: n,
            degreesOfFreedom: n - parameters, residualSumOfSquares: sse, meanX: meanX, meanY: meanY, sxx: sxx)
    }

    /// s = √(SSE / degrees of freedom); 0 without residual degrees of freedom.
    public var residualStandardError: Double {
        degreesOfFreedom > 0 ? (residualSumOfSquares / Double(degreesOfFreedom)).squareRoot() : 0
    }

    public func predict(_ x: Double) -> Double { intercept + slope * x }

    /// The two-sided Student-t interval of the slope, slope ± t·s/√Sxx; nil without residual
    /// degrees of freedom.
    public func slopeInterval(confidence: Double = 0.95) -> ClosedRange<Double>? {
        guard degreesOfFreedom > 0 else { return nil }
        let half = criticalT(confidence) * residualStandardError / sxx.squareRoot()
        return (slope - half)...(slope + half)
    }

    /// The two-sided prediction interval of a new observation at `x`:
    /// ŷ(x) ± t·s·√(1 + 1/n + (x − x̄)²/Sxx); nil without residual degrees of freedom.
    public func predictionInterval(_ x: Double, confidence: Double = 0.95) -> ClosedRange<Double>? {
        guard degreesOfFreedom > 0, sxx > 0 else { return nil }
        let d = x - meanX
        let half = criticalT(confidence) * residualStandardError * (1 + 1 / Double(n) + d * d / sxx).squareRoot()
        return (predict(x) - half)...(predict(x) + half)
    }

    /// Where x must lie for y to be `y`: the estimate (y − intercept)/slope and the inverse
    /// prediction (calibration) interval, every x whose prediction interval for a new
    /// observation holds `y`:  (y − ŷ(x))² ≤ t²s²(1 + 1/n + (x − x̄)²/Sxx).
    /// A bound is nil where that set is unbounded (the slope is not clear of zero at this
    /// confidence); nil as a whole for a flat line.
    public func inversePrediction(_ y: Double, confidence: Double = 0.95) -> (estimate: Double, lower: Double?, upper: Double?)? {
        guard slope != 0 else { return nil }
        let estimate = (y - intercept) / slope
        guard degreesOfFreedom > 0 else { return (estimate, nil, nil) }
        let t = criticalT(confidence)
        let q = t * t * residualStandardError * residualStandardError
        // In u = x − x̄:  a·u² + b·u + c ≤ 0.
        let d = y - meanY
        let a = slope * slope - q / sxx
        let b = -2 * slope * d
        let c = d * d - q * (1 + 1 / Double(n))
        let discriminant = b * b - 4 * a * c
        guard a > 0, discriminant >= 0 else {
            // The set is a pair of half-lines or the whole line: bound the side the estimate is on.
            guard a < 0, discriminant > 0 else { return (estimate, nil, nil) }
            let roots = [(-b + discriminant.squareRoot()) / (2 * a), (-b - discriminant.squareRoot()) / (2 * a)].sorted()
            let u = estimate - meanX
            return u <= roots[0] ? (estimate, nil, meanX + roots[0]) : (estimate, meanX + roots[1], nil)
        }
        let root = discriminant.squareRoot()
        return (estimate, meanX + (-b - root) / (2 * a), meanX + (-b + root) / (2 * a))
    }

    private func criticalT(_ confidence: Double) -> Double {
        StudentT.quantile(0.5 + confidence / 2, degreesOfFreedom: Double(degreesOfFreedom))
    }
}
