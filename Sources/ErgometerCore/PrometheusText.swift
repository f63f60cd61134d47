/// A writer of the Prometheus text exposition format 0.0.4: `# HELP` and `# TYPE` once per
/// family, then its samples, label values and help text escaped as the format requires. It
/// appends bytes to one growing buffer, so rendering a thousand jobs is one allocation pattern,
/// not one string per sample.
public struct PrometheusTextWriter {
    /// The metric types of the format that Ergometer uses.
    public enum MetricType: String, Sendable {
        case counter, gauge, histogram
    }

    public private(set) var bytes: [UInt8] = []

    public init(reservingCapacity capacity: Int = 4096) {
        bytes.reserveCapacity(capacity)
    }

    /// The MIME type a scraper expects for this format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Starts a family: its help line and type line.
    public mutating func family(_ name: String, type: MetricType, help: String) {
        append("# HELP ")
        append(name)
        bytes.append(0x20)
        for byte in help.utf8 {
            switch byte {
            case 0x5C: append("\\\\")
            case 0x0A: append("\\n")
            default: bytes.append(byte)
            }
        }
        append("\n# TYPE ")
        append(name)
        bytes.append(0x20)
        append(type.rawValue)
        bytes.append(0x0A)
    }

    /// One sample line: `name{label="value",...} value`.
    public mutating func sample(_ name: String, labels: KeyValuePairs<String, String> = [:], value: Double) {
        append(name)
        if !labels.isEmpty {
            bytes.append(0x7B)  // {
            var first = true
            for (label, labelValue) in labels {
                if !first { bytes.append(0x2C) }
                first = false
                append(label)
                append("=\"")
                appendEscapedLabelValue(labelValue)
                bytes.append(0x22)
            }
            bytes.append(0x7D)  // }
        }
        bytes.append(0x20)
        appendValue(value)
        bytes.append(0x0A)
    }

    /// A histogram's cumulative buckets, `+Inf`, `_sum` and `_count`, with the given labels.
    public mutating func histogram(_ name: String, _ histogram: Histogram) {
        var cumulative: UInt64 = 0
        for (bound, count) in zip(histogram.upperBounds, histogram.bucketCounts) {
            cumulative += count
            sample(name + "_bucket", labels: ["le": Self.format(bound)], value: Double(cumulative))
        }
        sample(name + "_bucket", labels: ["le": "+Inf"], value: Double(histogram.count))
        sample(name + "_sum", value: histogram.sum)
        sample(name + "_count", value: Double(histogram.count))
    }

    /// A value as the format spells it: `+Inf`, `-Inf`, `NaN`, else the shortest decimal that
    /// reads back as the same double.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return value.description
    }

    private mutating func appendValue(_ value: Double) {
        append(Self.format(value))
    }

    /// Label values escape backslash, double quote and newline; everything else is UTF-8 as is.
    private mutating func appendEscapedLabelValue(_ value: String) {
        for byte in value.utf8 {
            switch byte {
            case 0x5C: append("\\\\")
            case 0x22: append("\\\"")
            case 0x0A: append("\\n")
            default: bytes.append(byte)
            }
        }
    }

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }
}

/// A histogram with fixed upper bounds (seconds, say): counts per bucket, sum and count, as a
/// Prometheus histogram exports them.
public struct Histogram: Sendable, Equatable {
    public let upperBounds: [Double]
    /// Observations per bucket (not cumulative); values above the last bound count only in `count`.
    public private(set) var bucketCounts: [UInt64]
    public private(set) var sum: Double = 0
    public private(set) var count: UInt64 = 0

    public init(upperBounds: [Double]) {
        precondition(zip(upperBounds, upperBounds.dropFirst()).allSatisfy { $0 < $1 }, "bounds must increase")
        self.upperBounds = upperBounds
        bucketCounts = Array(repeating: 0, count: upperBounds.count)
    }

    /// 10 µs to 2.5 s, in 1-2.5-5 steps: a sampler tick's duration or lateness.
    public static func tickSeconds() -> Histogram {
        Histogram(upperBounds: [
            0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
            0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
        ])
    }

    public mutating func observe(_ value: Double) {
        count += 1
        sum += value
        if let index = upperBounds.firstIndex(where: { value <= $0 }) { bucketCounts[index] += 1 }
    }

    /// The upper bound of the bucket holding quantile `q` (0...1) of the observations; nil when empty
    /// or when it lies above the last bound.
    public func quantileUpperBound(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = UInt64((q * Double(count)).rounded(.up))
        var cumulative: UInt64 = 0
        for (bound, bucket) in zip(upperBounds, bucketCounts) {
            cumulative += bucket
            if cumulative >= max(rank, 1) { return bound }
        }
        return nil
    }
}
