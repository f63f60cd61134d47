/// Parses a rate series from CSV: `timestamp,value` per line, an optional header line, `#`
/// comments. Timestamps are Unix seconds or UTC ISO 8601 (`2026-11-28T06:00:00Z`).
public enum RateScheduleCSV {
    public struct ParseError: Error, Equatable, CustomStringConvertible, Sendable {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// 10000-01-01T00:00:00Z, Unix seconds.
    static let latestTime = 253_402_300_800.0
    static let largestValue = 1e9

    public static func parse(_ text: String) throws(ParseError) -> RateSchedule {
        var points: [RatePoint] = []
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            let line = rawLine.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: " \t") }
            guard fields.count == 2 else {
                throw ParseError(line: number, reason: "expected 2 fields `timestamp,value`, found \(fields.count)")
            }
            guard let time = timestamp(fields[0]) else {
                if points.isEmpty && Double(fields[1]) == nil { continue }  // a header line
                throw ParseError(line: number, reason: "timestamp \"\(fields[0])\" is neither Unix seconds nor UTC ISO 8601 (2026-11-28T06:00:00Z)")
            }
            // Bounds found by ergometer-fuzz: with times near 1e308 or values near it, the
            // integral over a tick overflowed to infinity.
            guard (0...Self.latestTime).contains(time) else {
                throw ParseError(line: number, reason: "timestamp \"\(fields[0])\" is not between 1970 and the year 9999")
            }
            guard let value = Double(fields[1]), value.isFinite, value >= 0 else {
                throw ParseError(line: number, reason: "value \"\(fields[1])\" is not a non-negative number")
            }
            guard value <= Self.largestValue else {
                throw ParseError(line: number, reason: "value \(fields[1]) is above 10⁹: no grams per kWh nor price per kWh is that large")
            }
            if let last = points.last, time <= last.time {
                throw ParseError(line: number, reason: "timestamps must increase (this one is not after line \(number - 1)'s)")
            }
            points.append(RatePoint(time: time, value: value))
        }
        guard !points.isEmpty else { throw ParseError(line: 0, reason: "no data lines") }
        return .series(points)
    }

    /// Unix seconds, or `YYYY-MM-DDTHH:MM:SS[.fff]Z` / `+00:00`.
    static func timestamp(_ text: Substring) -> Double? {
        if let seconds = Double(text), seconds.isFinite { return seconds }
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x54 || bytes[10] == 0x20,
            bytes[13] == 0x3A, bytes[16] == 0x3A
        else { return nil }
        func number(_ range: Range<Int>) -> Int? { Int(String(decoding: bytes[range], as: UTF8.self)) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
            let minute = number(14..<16), let second = number(17..<19), (1...12).contains(month), (1...31).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if bytes[index] == 0x2E {
            var scale = 0.1
            index += 1
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                fraction += Double(bytes[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
        }
        let zone = String(decoding: bytes[index...], as: UTF8.self)
        guard zone == "Z" || zone == "+00:00" else { return nil }
        return Double(daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second) + fraction
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension Substring {
    /// Drops the given characters from both ends.
    public func trimmingCharacters(in set: String) -> Substring {
        var result = self
        while let first = result.first, set.contains(first) { result = result.dropFirst() }
        while let last = result.last, set.contains(last) { result = result.dropLast() }
        return result
    }
}
