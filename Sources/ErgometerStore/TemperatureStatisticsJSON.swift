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
        var writer = Writer(entries: statistics.count)
        for (key, values) in statistics { writer.append(key, values) }
        return writer.text
    }

    /// A sensor's key (`chip\tsensor`) with its quoted JSON form, made once per sensor.
    public struct Key: Sendable {
        public let text: String
        let quoted: [UInt8]

        public init(_ text: String) {
            self.text = text
            var quoted: [UInt8] = []
            appendQuoted(text, to: &quoted)
            self.quoted = quoted
        }
    }

    /// Builds the object one entry at a time, with no dictionary or array per entry.
    public struct Writer {
        private var bytes: [UInt8] = [UInt8(ascii: "{")]

        public init(entries: Int) { bytes.reserveCapacity(1 + entries * 64) }

        /// `"key":[values…]`, left out unless every value is finite (entries restored from the
        /// store, rare: the key is quoted here).
        public mutating func append(_ key: String, _ values: some Collection<Double>) {
            guard values.allSatisfy(\.isFinite) else { return }
            begin(Key(key))
            for (index, value) in values.enumerated() { appendNumber(value, first: index == 0) }
            bytes.append(UInt8(ascii: "]"))
        }

        /// `"key":[sum,count,max]`, left out unless all three are finite.
        public mutating func append(_ key: Key, sum: Double, count: Double, max: Double) {
            guard sum.isFinite, count.isFinite, max.isFinite else { return }
            begin(key)
            appendNumber(sum, first: true)
            appendNumber(count, first: false)
            appendNumber(max, first: false)
            bytes.append(UInt8(ascii: "]"))
        }

        /// `,"key":[` (no comma before the first entry).
        private mutating func begin(_ key: Key) {
            if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: key.quoted)
            bytes.append(UInt8(ascii: ":"))
            bytes.append(UInt8(ascii: "["))
        }

        public var text: String { String(decoding: bytes + [UInt8(ascii: "}")], as: UTF8.self) }

        private mutating func appendNumber(_ value: Double, first: Bool) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            // Swift's shortest round-trip form ("21.5", "3.0", "1e-05") is a JSON number.
            bytes.append(contentsOf: value.description.utf8)
        }
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
