import Foundation

/// The `temperatures` column of a job's totals: a JSON object from `chip\tsensor` to
/// `[sum, count, max]` of the readings while the job ran.
///
/// Written at every checkpoint for every running job, so it is built by hand, as bytes:
/// `JSONEncoder` took 63 % of a 100-job checkpoint (protocol witnesses and boxes for each
/// number). Read back rarely (restart, reports), with `JSONDecoder`.
public enum TemperatureStatisticsJSON {
    /// The JSON text; an entry whose numbers are not all finite is left out (JSON has no
    /// infinity), as `JSONEncoder` would have refused the whole object.
    public static func encode(_ statistics: [String: [Double]]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(statistics.count * 64)
        for (key, values) in statistics where values.allSatisfy(\.isFinite) {
            if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
            appendQuoted(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            bytes.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                // Swift's shortest round-trip form ("21.5", "3.0", "1e-05") is a JSON number.
                bytes.append(contentsOf: value.description.utf8)
            }
            bytes.append(UInt8(ascii: "]"))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The statistics, or nil when the text is not such an object.
    public static func decode(_ text: String) -> [String: [Double]]? {
        try? JSONDecoder().decode([String: [Double]].self, from: Data(text.utf8))
    }

    /// `"key"` with JSON's escapes: quote, backslash, and every control character (UTF-8
    /// beyond ASCII passes through as it is).
    static func appendQuoted(_ key: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in key.utf8 {
            let escaped: UInt8? =
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): byte
                case UInt8(ascii: "\n"): UInt8(ascii: "n")
                case UInt8(ascii: "\r"): UInt8(ascii: "r")
                case UInt8(ascii: "\t"): UInt8(ascii: "t")
                case 0..<0x20: UInt8(ascii: "u")
                default: nil
                }
            guard let escaped else {
                bytes.append(byte)
                continue
            }
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(escaped)
            if escaped == UInt8(ascii: "u") {
                bytes.append(contentsOf: [UInt8(ascii: "0"), UInt8(ascii: "0"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]])
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    static let hexDigits = Array("0123456789abcdef".utf8)
}
