/// The shape every line of ergod's configuration must have before the TOML parser sees it:
/// blank, a `# comment`, a `[section]` header, or `key = value` with a bare key and a value that
/// starts as a number, a boolean, a one-line string or a one-line list of such strings. That is all TOML the configuration uses,
/// and it keeps toml++ off the paths where it asserts instead of reporting an error (control
/// characters, `[[#`, keys that are neither bare nor quoted: found by ergometer-fuzz).
enum ConfigurationShape {
    /// Every line that has another shape, with its number and what to write instead.
    static func problems(_ text: String) -> [String] {
        var problems: [String] = []
        for (index, line) in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            if let problem = problem(in: line) { problems.append("line \(index + 1): \(problem)") }
            if problems.count == 20 { break }
        }
        return problems
    }

    static func problem(in line: Substring.UTF8View.SubSequence) -> String? {
        var bytes = line[...]
        if bytes.last == 0x0D { bytes = bytes.dropLast() }  // CRLF line ends
        if let control = bytes.first(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
            return "control character U+00\(hex(control)) is not allowed in TOML; remove it"
        }
        bytes = bytes.drop { $0 == 0x20 || $0 == 0x09 }
        guard let first = bytes.first, first != UInt8(ascii: "#") else { return nil }
        if first == UInt8(ascii: "[") {
            var rest = bytes.dropFirst().drop { $0 == 0x20 || $0 == 0x09 }
            let name = rest.prefix(while: isBareKeyByte)
            rest = rest.dropFirst(name.count).drop { $0 == 0x20 || $0 == 0x09 }
            guard !name.isEmpty, rest.first == UInt8(ascii: "]"), isBlankOrComment(rest.dropFirst()) else {
                return "a section header is [name], with a name of letters, digits, _ or -, as in [daemon]"
            }
            return nil
        }
        let key = bytes.prefix(while: isBareKeyByte)
        var rest = bytes.dropFirst(key.count).drop { $0 == 0x20 || $0 == 0x09 }
        guard !key.isEmpty, rest.first == UInt8(ascii: "=") else {
            return "expected key = value with a key of letters, digits, _ or -, as in interval_seconds = 1.0"
        }
        rest = rest.dropFirst().drop { $0 == 0x20 || $0 == 0x09 }
        guard let start = rest.first else { return "\(String(decoding: key, as: UTF8.self)) has no value after =" }
        if rest.starts(with: Array("\"\"\"".utf8)) || rest.starts(with: Array("'''".utf8)) {
            return "multi-line strings are not used by any key; write the value on one line"
        }
        if start == UInt8(ascii: "[") {
            return isStringList(rest) ? nil : "\(String(decoding: key, as: UTF8.self)): a list is written on one line, of \"strings\" without backslashes, as in [\"train-*.service\", \"user.slice/*.scope\"]"
        }
        let numberOrWord = (start >= 0x30 && start <= 0x39) || start == UInt8(ascii: "+") || start == UInt8(ascii: "-")
            || start == UInt8(ascii: ".") || (start >= 0x61 && start <= 0x7A)
        guard numberOrWord || start == UInt8(ascii: "\"") || start == UInt8(ascii: "'") else {
            return "\(String(decoding: key, as: UTF8.self)): every value is a number or a \"string\""
        }
        return nil
    }

    /// `["a", "b"]` (a trailing comma allowed), then nothing but a comment.
    static func isStringList(_ value: Substring.UTF8View.SubSequence) -> Bool {
        var rest = value.dropFirst().drop { $0 == 0x20 || $0 == 0x09 }
        var expectString = true
        while let next = rest.first {
            if next == UInt8(ascii: "]") { return isBlankOrComment(rest.dropFirst()) }
            if expectString {
                guard next == UInt8(ascii: "\""), let close = rest.dropFirst().firstIndex(of: UInt8(ascii: "\"")) else { return false }
                guard !rest[rest.index(after: rest.startIndex)..<close].contains(UInt8(ascii: "\\")) else { return false }
                rest = rest[rest.index(after: close)...]
                expectString = false
            } else {
                guard next == UInt8(ascii: ",") else { return false }
                rest = rest.dropFirst()
                expectString = true
            }
            rest = rest.drop { $0 == 0x20 || $0 == 0x09 }
        }
        return false
    }

    static func isBareKeyByte(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F || byte == 0x2D
    }

    static func isBlankOrComment(_ bytes: Substring.UTF8View.SubSequence) -> Bool {
        let rest = bytes.drop { $0 == 0x20 || $0 == 0x09 }
        return rest.isEmpty || rest.first == UInt8(ascii: "#")
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
    }
}
