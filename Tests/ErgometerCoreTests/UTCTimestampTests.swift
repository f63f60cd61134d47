import ErgometerCore
import ErgometerTestSupport
import Foundation
import Testing

/// The daemon's own date formatter against Foundation's, over 10,000 seeded instants from 1900
/// to 2200 (fractions truncated, as ISO8601DateFormatter does for whole-second output).
struct UTCTimestampTests {
    @Test func matchesFoundationsFormatter() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        var random = SplitMix64(seed: 20261203)
        for _ in 0..<10_000 {
            let seconds = Double.random(in: -2_208_988_800...7_258_118_400, using: &random)
            let expected = formatter.string(from: Date(timeIntervalSince1970: seconds.rounded(.down)))
            #expect(UTCTimestamp.iso8601(seconds) == expected, "\(seconds)")
        }
        #expect(UTCTimestamp.iso8601(0) == "1970-01-01T00:00:00Z")
        #expect(UTCTimestamp.iso8601(951_782_400) == "2000-02-29T00:00:00Z")
    }
}
