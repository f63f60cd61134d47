import ErgometerCore
import ErgometerWire
import Foundation

/// A job report for a person: every figure with its unit, energy with its source.
enum ReportTextRenderer {
    /// Where the job's energy came from: its domains' sources in order of first use (`rapl`,
    /// `rapl+hwmon-power`), else the report's own (`rapl`, `model`, `mixed`).
    static func sources(_ report: JobReport) -> String {
        var seen: [String] = []
        for domain in report.domains where !seen.contains(domain.source) { seen.append(domain.source) }
        return seen.isEmpty ? report.source : seen.joined(separator: "+")
    }

    static func render(_ report: JobReport) -> String {
        let source = "[\(sources(report))]"
        var lines = ["Job \(report.id) \"\(report.name)\" (job_id \(report.jobID)), user \(report.user)"]
        if let scheduler = report.scheduler, report.command.isEmpty {
            lines.append("  started by:   \(scheduler) (found by its cgroup)")
        } else {
            lines.append("  command:      \(report.command.joined(separator: " "))")
        }
        if !report.labels.isEmpty {
            lines.append("  labels:       " + report.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
        }
        lines.append("  started:      \(timestamp(report.started))" + (report.ended.map { ", ended \(timestamp($0))" } ?? ", running"))
        if let status = report.exitStatus { lines.append("  exit status:  \(status)") }
        lines.append("  duration:     \(Format.fixed(report.durationSeconds, 2)) s")
        lines.append("  CPU time:     \(Format.fixed(report.cpuSeconds, 2)) CPU-s, \(Format.fixed(report.averageBusyCores, 2)) busy cores on average (\(report.tracking.rawValue))")
        lines.append("  energy:       \(Format.fixed(report.energyJoules, 3)) J = \(Format.fixed(report.energyKWh * 1000, 6)) Wh \(source)")
        lines.append("    package \(Format.fixed(report.energyByDomain.packageJoules, 3)) J, DRAM \(Format.fixed(report.energyByDomain.dramJoules, 3)) J; of it idle share \(Format.fixed(report.energyByDomain.idleShareJoules, 3)) J")
        for domain in report.domains {
            lines.append("    \(domain.domain) (\(domain.kind)): \(Format.fixed(domain.joules, 3)) J [\(domain.source)], idle share \(Format.fixed(domain.idleShareJoules, 3)) J")
        }
        if !report.gpus.isEmpty { lines.append("  GPUs used:    \(report.gpus.count)") }
        for gpu in report.gpus {
            var line = "    \(gpu.uuid ?? gpu.domain) \(gpu.name ?? "GPU") (\(gpu.pciSlot ?? "no PCI slot")): "
            line += "\(Format.fixed(gpu.gpuSeconds, 1)) GPU-s, \(Format.fixed(gpu.energyJoules, 3)) J [\(gpu.source)]"
            if gpu.source.contains("nvml-power") { line += ", from NVML power (a 1-s average on most boards)" }
            if gpu.boardLevel { line += "; MIG: board-level power, split among the GPU's jobs by their processes' use" }
            lines.append(line)
        }
        lines.append("  power:        \(Format.fixed(report.averagePowerWatts, 2)) W average, \(Format.fixed(report.peakPowerWatts, 2)) W peak \(source)")
        lines.append("  CO2:          \(Format.fixed(report.co2Grams, 4)) gCO2e at \(Format.fixed(report.carbonIntensityGramsPerKWh, 1)) g/kWh, PUE \(Format.fixed(report.pue, 2)) \(source)")
        if let cost = report.cost, let currency = report.currency {
            lines.append("  cost:         \(Format.fixed(cost, 6)) \(currency)")
        }
        if let flops = report.flops {
            let rate = report.durationSeconds > 0 ? ", \(Format.si(flops / report.durationSeconds))FLOP/s" : ""
            lines.append("  compute:      \(Format.si(flops))FLOP [reported by the workload]\(rate)"
                + (report.joulesPerFlop.map { ", \(Format.si($0))J/FLOP \(source)" } ?? ""))
        }
        if let processors = report.processors { lines.append("  processors:   \(processors) [declared]") }
        if report.steps != nil || report.samples != nil || !report.metrics.isEmpty {
            var progress: [String] = []
            if let steps = report.steps { progress.append("\(steps) steps") }
            if let samples = report.samples { progress.append("\(samples) samples") }
            progress += report.metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(Format.fixed($0.value, 4))" }
            lines.append("  training:     " + progress.joined(separator: ", ") + " [reported by the workload]")
        }
        for temperature in report.temperatures {
            lines.append("  temperature:  \(temperature.chip) \(temperature.sensor): mean \(Format.fixed(temperature.meanCelsius, 1)) °C, max \(Format.fixed(temperature.maxCelsius, 1)) °C")
        }
        lines.append("  hardware:     \(report.hardware)")
        lines.append("  source:       \(report.source) (\(report.source == "rapl" ? "measured by RAPL" : report.source == "model" ? "estimated by the power model" : "part measured, part estimated"))")
        return lines.joined(separator: "\n") + "\n"
    }

    static func timestamp(_ seconds: Double) -> String { UTCTimestamp.iso8601(seconds) }
}
