import ErgometerTestSupport

/// Turns one input into another the way a careless or hostile writer would: flipped bits,
/// bytes inserted, deleted or repeated (to sizes no sane file has), tokens of the format put
/// where they do not belong, numbers at the edges of every integer type, bytes that are not
/// UTF-8, and pieces of other inputs spliced in. Seeded: the same seed gives the same inputs.
struct Mutator {
    var random: SplitMix64
    let dictionary: [[UInt8]]
    static let maximumSize = 1 << 20

    /// Numbers and bytes that break parsers: overflow edges, signs, exponents, not-a-number,
    /// lone UTF-8 lead bytes, a surrogate, NUL, CR, a BOM.
    static let interesting: [[UInt8]] = [
        "0", "-0", "-1", "1e309", "-1e309", "nan", "inf", "-inf", "4294967295", "4294967296", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551615",
        "18446744073709551616", "99999999999999999999999999", "0x10", "1_000", "+1", ".5", "5.", "1e-400",
    ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0x00], [0x0D], [0xEF, 0xBB, 0xBF], [0x0A], [0x20], [0x09]]

    init(seed: UInt64, dictionary: [String]) {
        random = SplitMix64(seed: seed)
        self.dictionary = dictionary.map { Array($0.utf8) }
    }

    mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(random.next() % UInt64(bound)) }

    /// One to four stacked mutations of `input`; `others` supplies splices.
    mutating func mutate(_ input: [UInt8], others: [[UInt8]]) -> [UInt8] {
        var bytes = input
        for _ in 0...below(4) {
            mutateOnce(&bytes, others: others)
            if bytes.count > Self.maximumSize { bytes.removeLast(bytes.count - Self.maximumSize) }
        }
        return bytes
    }

    private mutating func mutateOnce(_ bytes: inout [UInt8], others: [[UInt8]]) {
        let position = below(bytes.count + 1)
        switch below(13) {
        case 0 where !bytes.isEmpty:
            bytes[below(bytes.count)] ^= UInt8(1 << below(8))
        case 1 where !bytes.isEmpty:
            bytes[below(bytes.count)] = UInt8(truncatingIfNeeded: random.next())
        case 2:
            bytes.insert(contentsOf: (0..<1 + below(8)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: position)
        case 3 where !bytes.isEmpty:
            let start = below(bytes.count)
            bytes.removeSubrange(start..<min(bytes.count, start + 1 + below(32)))
        case 4 where !bytes.isEmpty:
            // Repeat a piece many times: huge lines, deep nesting, thousands of keys.
            let start = below(bytes.count)
            let piece = Array(bytes[start..<min(bytes.count, start + 1 + below(64))])
            let times = below(32) == 0 ? 1 + below(5_000) : 1 + below(16)
            bytes.insert(contentsOf: Array(repeating: piece, count: times).joined(), at: start)
        case 5 where !dictionary.isEmpty:
            bytes.insert(contentsOf: dictionary[below(dictionary.count)], at: position)
        case 6 where !dictionary.isEmpty && !bytes.isEmpty:
            let start = below(bytes.count)
            bytes.replaceSubrange(start..<min(bytes.count, start + 1 + below(8)), with: dictionary[below(dictionary.count)])
        case 7 where !others.isEmpty:
            let other = others[below(others.count)]
            let from = below(other.count + 1)
            bytes.replaceSubrange(position..<bytes.count, with: other[from...])
        case 8:
            bytes.removeSubrange(position..<bytes.count)
        case 9, 10:
            let number = Self.interesting[below(Self.interesting.count)]
            if below(2) == 0, let digits = Self.digitRun(in: bytes, near: position) {
                bytes.replaceSubrange(digits, with: number)  // a number where a number was
            } else {
                bytes.insert(contentsOf: number, at: position)
            }
        case 11:
            bytes.insert(UInt8(truncatingIfNeeded: random.next()) | 0x80, at: position)
        default:
            if below(64) == 0 { bytes.removeAll() }
        }
    }

    /// The run of digits (with a leading sign) at or after `position`, if any within 64 bytes.
    static func digitRun(in bytes: [UInt8], near position: Int) -> Range<Int>? {
        var start = position
        let limit = min(bytes.count, position + 64)
        while start < limit, !(bytes[start] >= 0x30 && bytes[start] <= 0x39) { start += 1 }
        guard start < limit else { return nil }
        if start > 0, bytes[start - 1] == 0x2D { start -= 1 }
        var end = start + 1
        while end < bytes.count, bytes[end] >= 0x30 && bytes[end] <= 0x39 { end += 1 }
        return start..<end
    }
}
