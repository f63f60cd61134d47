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

    /// HTTP dates against Foundation's RFC 1123 formatter (what Hummingbird's date cache used).
    @Test func httpDatesMatchFoundationsFormatter() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var random = SplitMix64(seed: 20261204)
        for _ in 0..<10_000 {
            let seconds = Int.random(in: -2_208_988_800...7_258_118_400, using: &random)
            #expect(UTCTimestamp.httpDate(seconds) == formatter.string(from: Date(timeIntervalSince1970: Double(seconds))), "\(seconds)")
        }
        #expect(UTCTimestamp.httpDate(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(UTCTimestamp.httpDate(1_796_409_000) == "Fri, 04 Dec 2026 18:30:00 GMT")
    }
}
