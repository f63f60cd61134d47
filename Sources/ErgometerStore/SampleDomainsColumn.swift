public import ErgometerCore

/// A sample's energy per domain and source: the text of `job_samples.domains`, as
/// `domain=source=µJ` entries joined by `;` (`cpu-package=rapl=8123456;dram=rapl=912000`).
/// Names keep `%`, `=` and `;` percent-escaped. Compact, so a tick's row stays small, and read
/// back without a JSON parser. Empty for rows from before the per-domain series (store v7).
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
        escape(domain, into: &text)
        text.append("=")
        text.append(source.rawValue)
        text.append("=")
        text.append(String(microjoules))
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
        guard !text.isEmpty else { return [] }
        var entries: [Entry] = []
        for field in text.split(separator: ";") {
            let parts = field.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 3, let source = EnergySource(rawValue: String(parts[1])), let microjoules = Int64(parts[2]), microjoules >= 0,
                let domain = unescape(parts[0]), !domain.isEmpty
            else { continue }
            entries.append(Entry(domain: domain, source: source, microjoules: microjoules))
        }
        return entries
    }

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

    private static func escape(_ name: String, into text: inout String) {
        guard name.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: ";") }) else {
            text.append(name)
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
