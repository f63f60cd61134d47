import Foundation

/// A job described rather than measured (one that ran elsewhere, or a planned one), from a JSON
/// spec file: `name`, `processors`, `processor_model`, `duration_seconds`, and either `flops` or
/// `flops_per_processor_second` with `throughput_kind` (`peak` or `achieved`); optionally
/// `energy_joules` or `power_watts_per_processor`, the `error` it reached (a fraction in (0, 1),
/// for `ergo project`) and which `metric` that error is, and a `comment` (its source).
public struct JobSpec: Sendable, Equatable {
    public var name: String
    public var processors: Double
    public var processorModel: String
    public var durationSeconds: Double
    public var flops: Double?
    public var flopsPerProcessorSecond: Double?
    public var throughputKind: ThroughputKind?
    public var energyJoules: Double?
    public var powerWattsPerProcessor: Double?
    /// The error the job reached, a fraction in (0, 1); `metric` names it (`top1_error`).
    public var error: Double?
    public var metric: String?
    /// Free text: where the figures come from.
    public var comment: String?

    /// Whether a per-processor throughput is the hardware's peak or what the job achieved.
    public enum ThroughputKind: String, Sendable {
        case peak, achieved
    }

    /// Every problem with a spec file, each naming the key and what to write instead.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var file: String
        public var problems: [String]
        public var description: String {
            "invalid job spec \(file):\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
                + "\nA spec is a JSON object: name, processors, processor_model, duration_seconds, and flops or flops_per_processor_second with throughput_kind (\"peak\" or \"achieved\"); optional energy_joules or power_watts_per_processor, error (a fraction in (0, 1)), metric, comment."
        }
    }

    static let knownKeys = [
        "name", "processors", "processor_model", "duration_seconds", "flops", "flops_per_processor_second", "throughput_kind",
        "energy_joules", "power_watts_per_processor", "error", "metric", "comment",
    ]

    public static func parse(_ data: [UInt8], file: String) throws(Invalid) -> JobSpec {
        let object: [String: JSONValue]
        do {
            guard case .object(let parsed) = try JSONDecoder().decode(JSONValue.self, from: Data(data)) else {
                throw Invalid(file: file, problems: ["the file is JSON but not an object ({ ... })"])
            }
            object = parsed
        } catch let invalid as Invalid {
            throw invalid
        } catch {
            throw Invalid(file: file, problems: ["not valid JSON: \(JSONValue.describe(error))"])
        }
        var problems: [String] = []
        for key in object.keys.sorted() where !knownKeys.contains(key) {
            problems.append("unknown key \"\(key)\"; the keys are \(knownKeys.joined(separator: ", "))")
        }

        func string(_ key: String, required: Bool) -> String? {
            guard let value = object[key] else {
                if required { problems.append("\(key): missing") }
                return nil
            }
            guard case .string(let text) = value else {
                problems.append("\(key): must be a string, found \(value.kind)")
                return nil
            }
            if text.isEmpty { problems.append("\(key): must not be empty") }
            return text
        }
        func number(_ key: String, required: Bool) -> Double? {
            guard let value = object[key] else {
                if required { problems.append("\(key): missing") }
                return nil
            }
            guard case .number(let double) = value else {
                problems.append("\(key): must be a number, found \(value.kind)")
                return nil
            }
            guard double > 0 && double.isFinite else {
                problems.append("\(key): must be greater than zero, found \(double == 0 ? "0" : "\(double)")")
                return nil
            }
            return double
        }

        let name = string("name", required: true)
        let processors = number("processors", required: true)
        let model = string("processor_model", required: true)
        let duration = number("duration_seconds", required: true)
        let flops = number("flops", required: false)
        let throughput = number("flops_per_processor_second", required: false)
        let kindText = string("throughput_kind", required: false)
        let energy = number("energy_joules", required: false)
        let power = number("power_watts_per_processor", required: false)
        let error = number("error", required: false)
        let metric = string("metric", required: false)
        let comment = string("comment", required: false)
        if let error, error >= 1 {
            problems.append("error: must be a fraction in (0, 1), found \(error)\(error < 100 ? " (for \(FixedDecimal.trimmed(error, 4)) % write \(FixedDecimal.trimmed(error / 100, 6)))" : "")")
        }

        let hasFlops = object["flops"] != nil
        let hasThroughput = object["flops_per_processor_second"] != nil
        if !hasFlops && !hasThroughput {
            problems.append("give flops (the job's total), or flops_per_processor_second with throughput_kind")
        }
        if hasFlops && hasThroughput {
            problems.append("flops and flops_per_processor_second are both given; give one (the other follows from processors and duration)")
        }
        var kind: ThroughputKind?
        if let kindText {
            kind = ThroughputKind(rawValue: kindText)
            if kind == nil { problems.append("throughput_kind: \"\(kindText)\" is neither \"peak\" nor \"achieved\"") }
        } else if hasThroughput {
            problems.append("throughput_kind: missing; say whether flops_per_processor_second is the \"peak\" or the \"achieved\" rate")
        }
        if object["energy_joules"] != nil && object["power_watts_per_processor"] != nil {
            problems.append("energy_joules and power_watts_per_processor are both given; give one")
        }
        guard problems.isEmpty, let name, let processors, let model, let duration else { throw Invalid(file: file, problems: problems) }
        return JobSpec(
            name: name, processors: processors, processorModel: model, durationSeconds: duration, flops: flops,
            flopsPerProcessorSecond: throughput, throughputKind: kind, energyJoules: energy, powerWattsPerProcessor: power,
            error: error, metric: metric, comment: comment)
    }

    /// The spec as one side of a comparison: its FLOPs declared, or estimated from a peak rate.
    public var profile: ComputeProfile {
        let totalFlops = flops ?? (flopsPerProcessorSecond ?? 0) * processors * durationSeconds
        let flopsBasis: ComputeBasis = flops != nil || throughputKind == .achieved ? .declared : .estimated
        let energy = energyJoules ?? powerWattsPerProcessor.map { $0 * processors * durationSeconds }
        return ComputeProfile(
            name: name, flops: totalFlops, processors: processors, seconds: durationSeconds, energyJoules: energy,
            flopsBasis: flopsBasis, processorsBasis: .declared,
            energySource: energyJoules != nil ? "declared" : (powerWattsPerProcessor != nil ? "estimated" : nil))
    }
}

/// A JSON value whose kind is kept (a boolean is not a number), for validation messages.
enum JSONValue: Decodable, Sendable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Double.self) { self = .number(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        if let value = try? container.decode([JSONValue].self) { self = .array(value); return }
        self = .object(try container.decode([String: JSONValue].self))
    }

    var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// A decoding error in a sentence, without Swift's type names.
    static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return (context.underlyingError.map { "\($0)" } ?? context.debugDescription)
        }
        return "\(error)"
    }
}
