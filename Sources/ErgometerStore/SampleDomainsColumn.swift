public import ErgometerCore

/// A sample's energy per domain and source: the text of `job_samples.domains`, as
/// `domain=<source code>µJ` entries joined by `;` (`p=R8123456;d=R912000`: the CPU packages and
/// DRAM by RAPL). A row is written for every tick of a job's first hour, so the common names
/// have one-letter codes (`p` cpu-package, `d` dram, `r` rest, `f` platform, `g…` for `gpu-…`)
/// and so do the sources (`R` rapl, `E` hwmon-energy, `P` hwmon-power, `N` nvml-energy,
/// `W` nvml-power, `M` model); any other name is written whole after a `~`, with `%`, `=` and `;`
/// percent-escaped. Read back without a JSON parser. Empty for rows from before the per-domain
/// series (store v7).
public enum SampleDomainsColumn {
    /// One entry: a domain, the source that measured it, and its energy in the sample.
    public struct Entry: Sendable, Equatable {
        public var domain: String
        public var source: EnergySource
        public var microjoules: Int64

        public init(domain: String, source: EnergySource, microjoules: Int64) {
            self.domain = domain
            self.source = source
            self.microjoules = microjoules
        }
    }

    /// Appends one entry to `text` (zero energies are left out).
    public static func append(domain: String, source: EnergySource, microjoules: UInt64, to text: inout String) {
        guard microjoules > 0 else { return }
        if !text.isEmpty { text.append(";") }
        writeKey(domain: domain, source: source, into: &text)
        text.append(String(microjoules))
    }

    /// An entry's key, the text before its energy (`p=R`): computed once for entries that
    /// `append(key:microjoules:to:)` writes later (the sampler's pending samples).
    public static func key(domain: String, source: EnergySource) -> String {
        var key = ""
        writeKey(domain: domain, source: source, into: &key)
        return key
    }

    /// Appends one entry given its `key`.
    public static func append(key: String, microjoules: UInt64, to text: inout String) {
        guard microjoules > 0 else { return }
        if !text.isEmpty { text.append(";") }
        text.append(key)
        text.append(String(microjoules))
    }

    private static func writeKey(domain: String, source: EnergySource, into text: inout String) {
        switch domain {
        case "cpu-package": text.append("p")
        case "dram": text.append("d")
        case "rest": text.append("r")
        case "platform": text.append("f")
        default:
            if domain.hasPrefix("gpu-") {
                text.append("g")
                escape(domain.dropFirst(4), into: &text)
            } else {
                text.append("~")
                escape(domain[...], into: &text)
            }
        }
        text.append("=")
        text.append(code(source))
    }

    static func code(_ source: EnergySource) -> Character {
        switch source {
        case .rapl: "R"
        case .hwmonEnergy: "E"
        case .hwmonPower: "P"
        case .nvmlEnergy: "N"
        case .nvmlPower: "W"
        case .model: "M"
        }
    }

    /// The domain a field's key names (`p`, `d`, `r`, `f`, `g<name>`, `~<name>`), read from its
    /// bytes: the one-letter ones make no `String` beyond the name; nil when it names none.
    static func domain(_ key: Slice<UnsafeBufferPointer<UInt8>>) -> String? {
        guard let first = key.first else { return nil }
        if key.count == 1 {
            switch first {
            case UInt8(ascii: "p"): return "cpu-package"
            case UInt8(ascii: "d"): return "dram"
            case UInt8(ascii: "r"): return "rest"
            case UInt8(ascii: "f"): return "platform"
            default: return nil
            }
        }
        guard first == UInt8(ascii: "g") || first == UInt8(ascii: "~"),
            let name = unescape(String(decoding: key.dropFirst(), as: UTF8.self)[...]), !name.isEmpty
        else { return nil }
        return first == UInt8(ascii: "g") ? "gpu-" + name : name
    }

    /// The column's text for these entries, in their order, equal (domain, source) pairs summed.
    public static func encode(_ entries: [Entry]) -> String {
        var text = ""
        for entry in merged(entries) {
            append(domain: entry.domain, source: entry.source, microjoules: UInt64(max(entry.microjoules, 0)), to: &text)
        }
        return text
    }

    /// The entries of a column's text. An entry that does not parse (a hand-edited row) is
    /// skipped, not fatal: the sample's total `energy_uj` still holds its energy.
    public static func decode(_ text: String) -> [Entry] {
        var entries: [Entry] = []
        forEachEntry(in: text) { entries.append($0) }
        return entries
    }

    /// Adds a column's entries to `sums`, per (domain, source), in first-seen order: a roll-up
    /// of many ticks into one minute, without an array per tick.
    public static func accumulate(_ text: String, into sums: inout [Entry]) {
        var text = text
        text.withUTF8 { accumulate(utf8: $0, into: &sums) }
    }

    /// `accumulate` of a column's text given as its UTF-8 bytes (a packed tick's, in its blob).
    public static func accumulate(utf8 text: UnsafeBufferPointer<UInt8>, into sums: inout [Entry]) {
        forEachEntry(inUTF8: text) { entry in
            if let index = sums.firstIndex(where: { $0.source == entry.source && $0.domain == entry.domain }) {
                sums[index].microjoules += entry.microjoules
            } else {
                sums.append(entry)
            }
        }
    }

    /// Each entry of a column's text, read as UTF-8 bytes: a roll-up reads every tick's column
    /// (hundreds of thousands a day on a busy box), and Character-wise `Substring` indexing
    /// made that the prune's largest cost. The common one-letter domains allocate nothing.
    private static func forEachEntry(in text: String, _ body: (Entry) -> Void) {
        var text = text
        text.withUTF8 { forEachEntry(inUTF8: $0, body) }
    }

    private static func forEachEntry(inUTF8 bytes: UnsafeBufferPointer<UInt8>, _ body: (Entry) -> Void) {
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != semicolon { end += 1 }
            if let entry = entry(bytes[start..<end]) { body(entry) }
            start = end + 1
        }
    }

    private static let semicolon = UInt8(ascii: ";")
    private static let equalsSign = UInt8(ascii: "=")

    /// One `key=<source code><µJ>` field; nil when it does not parse.
    private static func entry(_ field: Slice<UnsafeBufferPointer<UInt8>>) -> Entry? {
        guard let equals = field.firstIndex(of: equalsSign) else { return nil }
        let value = field[(equals + 1)...]
        guard let code = value.first, let source = source(byte: code), value.count > 1, !value.contains(equalsSign) else { return nil }
        var microjoules: Int64 = 0
        for digit in value.dropFirst() {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflowShift) = microjoules.multipliedReportingOverflow(by: 10)
            let (sum, overflowAdd) = shifted.addingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
            guard !overflowShift, !overflowAdd else { return nil }
            microjoules = sum
        }
        guard let domain = domain(field[..<equals]) else { return nil }
        return Entry(domain: domain, source: source, microjoules: microjoules)
    }

    /// The source of each one-byte code (`code(_:)`).
    private static let sourcesByCode: [UInt8: EnergySource] = Dictionary(
        uniqueKeysWithValues: EnergySource.allCases.map { (code($0).asciiValue!, $0) })

    private static func source(byte: UInt8) -> EnergySource? { sourcesByCode[byte] }

    /// Two columns' entries summed per (domain, source), in first-seen order (a roll-up to minutes).
    public static func sum(_ a: String, _ b: String) -> String {
        if b.isEmpty { return a }
        if a.isEmpty { return b }
        return encode(decode(a) + decode(b))
    }

    static func merged(_ entries: [Entry]) -> [Entry] {
        var result: [Entry] = []
        for entry in entries {
            if let index = result.firstIndex(where: { $0.domain == entry.domain && $0.source == entry.source }) {
                result[index].microjoules += entry.microjoules
            } else {
                result.append(entry)
            }
        }
        return result
    }

    private static func escape(_ name: Substring, into text: inout String) {
        guard name.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: ";") }) else {
            text.append(contentsOf: name)
            return
        }
        for character in name {
            switch character {
            case "%": text.append("%25")
            case "=": text.append("%3D")
            case ";": text.append("%3B")
            default: text.append(character)
            }
        }
    }

    private static func unescape(_ field: Substring) -> String? {
        guard field.contains("%") else { return String(field) }
        var result = ""
        var rest = field[...]
        while let percent = rest.firstIndex(of: "%") {
            result += rest[..<percent]
            let code = rest[rest.index(after: percent)...].prefix(2)
            switch code {
            case "25": result.append("%")
            case "3D": result.append("=")
            case "3B": result.append(";")
            default: return nil
            }
            rest = rest[rest.index(percent, offsetBy: 3)...]
        }
        return result + rest
    }
}
