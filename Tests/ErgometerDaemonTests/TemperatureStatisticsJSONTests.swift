import ErgometerStore
import ErgometerTestSupport
import Foundation
import Testing

struct TemperatureStatisticsJSONTests {
    /// Random sensor keys (quotes, backslashes, every control character, non-ASCII) and numbers
    /// (tiny, huge, negative, -0, integral): what the hand-built text says, JSONDecoder reads
    /// back exactly, and it is what JSONEncoder's text says.
    @Test func readsBackExactlyAndAgreesWithJSONEncoder() throws {
        var random = SplitMix64(seed: 0x7E_3A_7)
        let alphabet: [Unicode.Scalar] = ["a", "Z", "0", " ", "\t", "\"", "\\", "/", "é", "°", "€", "😀"]
            + (0..<0x20).map { Unicode.Scalar(UInt8($0)) }
        for _ in 0..<2_000 {
            var statistics: [String: [Double]] = [:]
            for _ in 0..<Int(random.next() % 6) {
                var key = ""
                for _ in 0..<Int(random.next() % 24) { key.unicodeScalars.append(alphabet[Int(random.next() % UInt64(alphabet.count))]) }
                statistics[key] = (0..<3).map { _ in Self.number(&random) }
            }
            let text = TemperatureStatisticsJSON.encode(statistics)
            let decoded = try #require(TemperatureStatisticsJSON.decode(text), "\(text)")
            #expect(decoded == statistics, "\(text)")
            // The sampler's way: keys quoted once, each entry's three numbers appended.
            var writer = TemperatureStatisticsJSON.Writer(entries: statistics.count)
            for (key, values) in statistics { writer.append(TemperatureStatisticsJSON.Key(key), sum: values[0], count: values[1], max: values[2]) }
            #expect(TemperatureStatisticsJSON.decode(writer.text) == statistics, "\(writer.text)")
            let reference = try JSONDecoder().decode([String: [Double]].self, from: JSONEncoder().encode(statistics))
            #expect(decoded == reference)
        }
    }

    @Test func entriesJSONCannotHoldAreLeftOut() {
        let text = TemperatureStatisticsJSON.encode(["coretemp\tCore 0": [10, 2, -.infinity], "acpitz\ttemp1": [80, 2, 41.5], "x": [.nan, 1, 1]])
        #expect(TemperatureStatisticsJSON.decode(text) == ["acpitz\ttemp1": [80, 2, 41.5]])
        #expect(TemperatureStatisticsJSON.encode([:]) == "{}")
        #expect(TemperatureStatisticsJSON.decode("{\"a\":[1,2,") == nil)
    }

    static func number(_ random: inout SplitMix64) -> Double {
        switch random.next() % 6 {
        case 0: Double(Int64(bitPattern: random.next()) % 200)
        case 1: Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF)  // any finite positive
        case 2: -Double(random.next() % 1_000_000) / 1e3
        case 3: Double(random.next() % 1000) * 1e-300
        case 4: -0.0
        default: Double(random.next() % 10_000_000) / 7
        }
    }
}
