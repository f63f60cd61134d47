/// A minimal reader of Prometheus text exposition samples, for comparing with a peer's output.
public struct PrometheusSample: Equatable, Sendable {
    public var name: String
    public var labels: [String: String]
    public var value: Double

    /// Parses every sample line (`name{a="b",c="d"} 1.5`) of an exposition text; comments skipped.
    public static func parse(_ text: String) -> [PrometheusSample] {
        text.split(separator: "\n").compactMap { line -> PrometheusSample? in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...])
            else { return nil }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else {
                return PrometheusSample(name: String(series), labels: [:], value: value)
            }
            var labels: [String: String] = [:]
            var rest = series[series.index(after: brace)...].dropLast()  // drop "}"
            while let equals = rest.firstIndex(of: "=") {
                let key = String(rest[..<equals]).trimmingPrefix(",")
                var cursor = rest.index(equals, offsetBy: 2)  // skip ="
                var value = ""
                while cursor < rest.endIndex, rest[cursor] != "\"" {
                    if rest[cursor] == "\\" { cursor = rest.index(after: cursor) }
                    value.append(rest[cursor])
                    cursor = rest.index(after: cursor)
                }
                labels[String(key)] = value
                rest = rest[rest.index(after: cursor)...]
            }
            return PrometheusSample(name: String(series[..<brace]), labels: labels, value: value)
        }
    }
}
