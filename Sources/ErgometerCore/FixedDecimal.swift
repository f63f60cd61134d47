/// A number with a fixed count of decimals (`12.340`), without Foundation's locale machinery:
/// the one formatter every text answer uses (`Format.fixed` in `ergo`, the decomposition's
/// sentences, the benchmarks' tables).
public enum FixedDecimal {
    /// `value` rounded to `digits` decimals (half away from zero); `inf`, `nan` as Swift prints them.
    public static func string(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return String(value) }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (abs(value) * scale).rounded()
        guard rounded < 9e18 else { return String(value) }  // beyond UInt64: Swift's own text
        let whole = UInt64(rounded / scale)
        var text = (value < 0 && rounded > 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let fraction = String(UInt64(rounded - Double(whole) * scale))
            text += "." + String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
        }
        return text
    }

    /// `value` to at most `digits` decimals, without trailing zeros: 0.173, 8.75, 12.
    public static func trimmed(_ value: Double, _ digits: Int) -> String {
        var text = string(value, digits)
        guard value.isFinite, text.contains(".") else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
