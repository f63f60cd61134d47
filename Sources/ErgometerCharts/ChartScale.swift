import Foundation

/// Maps data values to pixels along one axis, linearly or by log10, and picks the ticks a
/// reader expects: 1, 2 or 5 × 10ⁿ steps on a linear axis, powers of ten on a log one (with
/// 2 and 5 between them when the axis spans less than two decades).
public struct ChartScale: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case linear, log }

    public var kind: Kind
    /// The data range shown (positive for `log`) and the pixel range it maps to.
    public var lower: Double
    public var upper: Double
    public var pixelLower: Double
    public var pixelUpper: Double
    /// A linear axis's tick step.
    public var step: Double = 1

    /// A linear axis from `lower` to `upper`, widened to whole ticks.
    public static func linear(_ lower: Double, _ upper: Double, pixels: ClosedRange<Double>, flipped: Bool = false, ticks: Int = 6) -> ChartScale {
        var low = lower
        var high = upper
        if !(high > low) { high = low + (low == 0 ? 1 : abs(low) * 0.1) }
        let step = niceStep((high - low) / Double(max(ticks - 1, 1)))
        low = (low / step).rounded(.down) * step
        high = (high / step).rounded(.up) * step
        var scale = ChartScale(kind: .linear, lower: low, upper: high, pixels: pixels, flipped: flipped)
        scale.step = step
        return scale
    }

    /// A log axis over [lower, upper] (both > 0), widened to 1, 2 or 5 × 10ⁿ.
    public static func log(_ lower: Double, _ upper: Double, pixels: ClosedRange<Double>, flipped: Bool = false) -> ChartScale {
        let low = niceLogBound(max(lower, .leastNormalMagnitude), up: false)
        var high = niceLogBound(max(upper, .leastNormalMagnitude), up: true)
        if !(high > low) { high = low * 10 }
        return ChartScale(kind: .log, lower: low, upper: high, pixels: pixels, flipped: flipped)
    }

    /// The 1, 2 or 5 × 10ⁿ at or below (or above) `value`.
    static func niceLogBound(_ value: Double, up: Bool) -> Double {
        let power = pow(10, Foundation.floor(log10(value)))
        let steps: [Double] = [1, 2, 5, 10]
        if up { return steps.map { $0 * power }.first { $0 >= value * (1 - 1e-12) } ?? 10 * power }
        return steps.map { $0 * power }.last { $0 <= value * (1 + 1e-12) } ?? power
    }

    private init(kind: Kind, lower: Double, upper: Double, pixels: ClosedRange<Double>, flipped: Bool) {
        self.kind = kind
        self.lower = lower
        self.upper = upper
        pixelLower = flipped ? pixels.upperBound : pixels.lowerBound
        pixelUpper = flipped ? pixels.lowerBound : pixels.upperBound
    }

    /// The pixel of a value; values outside the range land outside the pixel range.
    public func pixel(_ value: Double) -> Double {
        let fraction: Double
        switch kind {
        case .linear: fraction = (value - lower) / (upper - lower)
        case .log: fraction = (log10(max(value, .leastNormalMagnitude)) - log10(lower)) / (log10(upper) - log10(lower))
        }
        return pixelLower + fraction * (pixelUpper - pixelLower)
    }

    /// The pixel of a value held inside the axis.
    public func clampedPixel(_ value: Double) -> Double {
        let pixel = pixel(value)
        return min(max(pixel, min(pixelLower, pixelUpper)), max(pixelLower, pixelUpper))
    }

    /// The tick values, lowest first.
    public var ticks: [Double] {
        switch kind {
        case .linear:
            var values: [Double] = []
            var value = lower
            while value <= upper + step * 1e-9 {
                values.append(abs(value) < step * 1e-9 ? 0 : value)
                value += step
            }
            return values
        case .log:
            let first = Int(Foundation.floor(log10(lower) + 1e-9))
            let last = Int(Foundation.ceil(log10(upper) - 1e-9))
            let decades = log10(upper) - log10(lower)
            let every = max(1, Int((decades / 8).rounded(.up)))
            var values: [Double] = []
            for exponent in stride(from: first, through: last, by: every) {
                let power = pow(10, Double(exponent))
                for multiple in decades < 2 ? [1.0, 2, 5] : [1.0] {
                    let value = multiple * power
                    if value >= lower * (1 - 1e-9) && value <= upper * (1 + 1e-9) { values.append(value) }
                }
            }
            return values
        }
    }

    /// A tick's label: plain digits on a linear axis (as many decimals as the step needs),
    /// 10ⁿ-style on a log axis once past four digits.
    public func label(_ value: Double) -> String {
        switch kind {
        case .linear:
            let decimals = max(0, -Int(Foundation.floor(log10(step) + 1e-9)))
            return String(format: "%.\(decimals)f", value)
        case .log:
            let exponent = Int(Foundation.floor(log10(value) + 1e-9))
            if exponent >= -2 && exponent <= 4 { return String(format: "%g", value) }
            let mantissa = value / pow(10, Double(exponent))
            let superscript = Self.superscript(exponent)
            return abs(mantissa - 1) < 1e-9 ? "10" + superscript : String(format: "%g×10", mantissa) + superscript
        }
    }

    /// The step of 1, 2 or 5 × 10ⁿ nearest above `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let power = pow(10, Foundation.floor(log10(raw)))
        let fraction = raw / power
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * power
    }

    static func superscript(_ exponent: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        let magnitude = String(exponent.magnitude).map { digits[Int(String($0))!] }
        return (exponent < 0 ? "⁻" : "") + String(magnitude)
    }
}
