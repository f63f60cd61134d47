/// One job across every box that ran it, from the Prometheus that scrapes them all
/// (`ergo report --prometheus URL JOB_ID`): each box's energy, CO2 and CPU, and their sums. Each
/// of a box's series is taken at its largest value over the range (`max_over_time`), then summed
/// by `instance`: a job's counters on a box restart with ergod from what its store saved, never
/// from zero, so a box whose ergod restarted mid-job counts once, and a job that ended (and left
/// /metrics after the grace period) still counts.
public struct FleetJobReport: Codable, Sendable, Equatable {
    /// One box (a scrape target, Prometheus's `instance`).
    public struct Box: Codable, Sendable, Equatable {
        public var instance: String
        public var energyJoules: Double
        public var co2Grams: Double
        public var cpuSeconds: Double
        /// This box's part of the job's energy, 0 to 1.
        public var share: Double

        enum CodingKeys: String, CodingKey {
            case instance, energyJoules = "energy_joules", co2Grams = "co2_grams", cpuSeconds = "cpu_seconds", share
        }
    }

    public var jobID: String
    public var prometheus: String
    /// The PromQL range looked over (`7d`).
    public var range: String
    public var energyJoules: Double
    public var co2Grams: Double
    public var cpuSeconds: Double
    public var boxes: [Box]

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", prometheus, range, energyJoules = "energy_joules", co2Grams = "co2_grams", cpuSeconds = "cpu_seconds", boxes
    }

    /// The three quantities and the family each comes from.
    public enum Quantity: String, CaseIterable, Sendable {
        case energy = "ergometer_job_energy_joules_total"
        case co2 = "ergometer_job_co2_grams_total"
        case cpu = "ergometer_job_cpu_seconds_total"
    }

    /// The instant query for one quantity: per box, the sum of the job's series at their largest.
    public static func query(_ quantity: Quantity, jobID: String, range: String) -> String {
        "sum by (instance) (max_over_time(\(quantity.rawValue){job_id=\"\(escaped(jobID))\"}[\(range)]))"
    }

    /// A PromQL duration: digits and a unit (`30m`, `7d`, `1y`), as the range selector takes it.
    public static func isRange(_ text: String) -> Bool {
        guard let unit = text.last, "smhdwy".contains(unit) else { return false }
        let digits = text.dropLast().hasSuffix("m") ? text.dropLast(2) : text.dropLast()  // `ms`
        return !digits.isEmpty && digits.allSatisfy(\.isNumber)
    }

    /// The report from each quantity's value per instance; boxes in order of their energy.
    public init(jobID: String, prometheus: String, range: String, values: [Quantity: [String: Double]]) {
        self.jobID = jobID
        self.prometheus = prometheus
        self.range = range
        let instances = Set(values.values.flatMap(\.keys))
        let energy = values[.energy] ?? [:]
        let total = energy.values.reduce(0, +)
        boxes = instances.map { instance in
            let joules = energy[instance] ?? 0
            return Box(
                instance: instance, energyJoules: joules, co2Grams: values[.co2]?[instance] ?? 0, cpuSeconds: values[.cpu]?[instance] ?? 0,
                share: total > 0 ? joules / total : 0)
        }.sorted { ($0.energyJoules, $1.instance) > ($1.energyJoules, $0.instance) }
        energyJoules = total
        co2Grams = boxes.reduce(0) { $0 + $1.co2Grams }
        cpuSeconds = boxes.reduce(0) { $0 + $1.cpuSeconds }
    }

    /// A label value inside a PromQL string: backslashes and quotes escaped.
    static func escaped(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
