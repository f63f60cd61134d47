import Foundation

/// Student's t distribution: its CDF (through the regularized incomplete beta function) and its
/// quantiles, for the intervals of a least-squares fit with few points.
public enum StudentT {
    /// P(T ≤ t) for T with `degreesOfFreedom` (> 0).
    public static func cdf(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        guard t.isFinite else { return t > 0 ? 1 : 0 }
        let tail = 0.5 * regularizedIncompleteBeta(x: nu / (nu + t * t), a: nu / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The t with P(T ≤ t) = p, for p in (0, 1): 12.706 for p 0.975 and one degree of freedom,
    /// 1.960 in the limit.
    public static func quantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(p > 0 && p < 1 && nu > 0, "a quantile needs p in (0, 1) and degrees of freedom > 0")
        if p < 0.5 { return -quantile(1 - p, degreesOfFreedom: nu) }
        if p == 0.5 { return 0 }
        var low = 0.0
        var high = 1.0
        while cdf(high, degreesOfFreedom: nu) < p { (low, high) = (high, high * 2) }
        // Bisection: the CDF is monotone, 100 halvings reach the last bit of a double.
        for _ in 0..<100 {
            let middle = (low + high) / 2
            if cdf(middle, degreesOfFreedom: nu) < p { low = middle } else { high = middle }
            if high - low <= 1e-15 * high { break }
        }
        return (low + high) / 2
    }

    /// I_x(a, b), by the continued fraction of the incomplete beta function (modified Lentz),
    /// on whichever side of the mean it converges fast.
    static func regularizedIncompleteBeta(x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a) + lgamma(b) - lgamma(a + b)
        let logFront: Double = a * log(x) + b * log(1 - x) - logBeta
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * continuedFraction(x: x, a: a, b: b) / a
        }
        return 1 - exp(logFront) * continuedFraction(x: 1 - x, a: b, b: a) / b
    }

    private static func continuedFraction(x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        for m in 1...300 {
            let m = Double(m)
            // The even step, then the odd step, of the fraction's terms.
            var term = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + term * d
            if abs(d) < tiny { d = tiny }
            c = 1 + term / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            term = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + term * d
            if abs(d) < tiny { d = tiny }
            c = 1 + term / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            result *= step
            if abs(step - 1) < 1e-15 { break }
        }
        return result
    }
}
