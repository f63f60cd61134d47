import Foundation

/// A number to a few significant figures, as a person writes it: `512`, `9.0`, `0.042` in the
/// ordinary range, `2.6e12` and `1.0e-7` outside it; FixedDecimal underneath, no locale.
public enum SignificantFigures {
    public static func string(_ value: Double, _ digits: Int = 2) -> String {
        guard value.isFinite else { return String(value) }
        guard value != 0 else { return "0" }
        var exponent = Int(floor(log10(abs(value))))
        // Rounding can carry into the next power of ten (9.96 → 10).
        if abs(value) / pow(10, Double(exponent)) >= 10 - 0.5 * pow(10, Double(1 - digits)) { exponent += 1 }
        if exponent >= -2 && exponent < 5 {
            return FixedDecimal.string(value, max(0, digits - 1 - exponent))
        }
        let mantissa = value / pow(10, Double(exponent))
        return FixedDecimal.string(mantissa, max(0, digits - 1)) + "e" + String(exponent)
    }
}
