import ErgometerCore
import Foundation

/// Asks a Prometheus server's HTTP API (`/api/v1/query`) for one job's energy, CO2 and CPU on
/// every box it scrapes (`FleetJobReport`), over the one TCP client `ergo` has.
enum PrometheusJobQuery {
    static func report(jobID: String, prometheus url: String, range: String) throws -> FleetJobReport {
        guard FleetJobReport.isRange(range) else {
            throw CommandFailure("--range \(range): a PromQL duration such as 30m, 7d or 1y")
        }
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        var client: ScrapeClient
        do {
            client = try ScrapeClient(url: base + "/api/v1/query")
        } catch {
            throw CommandFailure("--prometheus \(error.description) (Prometheus listens on 9090 by default)")
        }
        var values: [FleetJobReport.Quantity: [String: Double]] = [:]
        for quantity in FleetJobReport.Quantity.allCases {
            let query = FleetJobReport.query(quantity, jobID: jobID, range: range)
            let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
            let answer: (status: Int, body: [UInt8])
            do {
                answer = try client.fetch("/api/v1/query?query=" + encoded)
            } catch {
                throw CommandFailure("Prometheus at \(base): \(error.description); is it running, and is this its address?")
            }
            values[quantity] = try perInstance(answer.body, status: answer.status, from: base)
        }
        let report = FleetJobReport(jobID: jobID, prometheus: base, range: range, values: values)
        guard !report.boxes.isEmpty else {
            throw CommandFailure("Prometheus at \(base) has no ergometer_job_* series with job_id=\"\(jobID)\" in the last \(range): check the job id (`ergo jobs --all`), that Prometheus scrapes each box's ergod, or a longer --range")
        }
        return report
    }

    /// An instant vector's value per `instance`, or the API's own error.
    static func perInstance(_ body: [UInt8], status: Int, from base: String) throws -> [String: Double] {
        struct Answer: Decodable {
            struct Data: Decodable {
                struct Sample: Decodable {
                    var metric: [String: String]
                    var value: [Value]
                }
                var resultType: String
                var result: [Sample]
            }
            enum Value: Decodable {
                case number(Double), text(String)
                init(from decoder: any Decoder) throws {
                    let container = try decoder.singleValueContainer()
                    if let number = try? container.decode(Double.self) { self = .number(number) } else { self = .text(try container.decode(String.self)) }
                }
            }
            var status: String
            var data: Data?
            var error: String?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Foundation.Data(body)) else {
            throw CommandFailure("Prometheus at \(base) answered HTTP \(status) with something that is not its API's JSON: is this a Prometheus server?")
        }
        guard answer.status == "success", let data = answer.data, data.resultType == "vector" else {
            throw CommandFailure("Prometheus at \(base) refused the query: \(answer.error ?? "status \(answer.status)")")
        }
        var values: [String: Double] = [:]
        for sample in data.result {
            guard sample.value.count == 2, case .text(let text) = sample.value[1], let value = Double(text) else { continue }
            values[sample.metric["instance"] ?? "(no instance label)", default: 0] += value
        }
        return values
    }

    /// The report for a person: the sums, then each box with its share.
    static func render(_ report: FleetJobReport) -> String {
        var text = "Job \(report.jobID) across \(report.boxes.count) box(es), from Prometheus at \(report.prometheus) over the last \(report.range)\n"
        text += "  energy: \(Format.fixed(report.energyJoules, 3)) J [ergometer_job_energy_joules_total], CO2: \(Format.fixed(report.co2Grams, 3)) g, CPU: \(Format.fixed(report.cpuSeconds, 2)) CPU-s\n"
        var rows = [["INSTANCE", "ENERGY (J)", "SHARE", "CO2 (g)", "CPU (CPU-s)"]]
        for box in report.boxes {
            rows.append([box.instance, Format.fixed(box.energyJoules, 3), Format.fixed(box.share * 100, 1) + " %", Format.fixed(box.co2Grams, 3), Format.fixed(box.cpuSeconds, 2)])
        }
        return text + Format.table(rows)
    }
}
