import ErgometerCore
public import ErgometerWire
import Foundation

/// Builds the report and summary of a job from what is stored about it.
public enum JobReportBuilder {
    public static func report(job: StoredJob, totals: JobTotals, now: Double) -> JobReport {
        let end = job.ended ?? now
        let duration = max(end - job.started, 0)
        let joules = Double(totals.energyMicrojoules) / 1e6
        let cpuSeconds = Double(totals.cpuMicroseconds) / 1e6
        var report = JobReport(
            id: job.id, jobID: job.jobID, name: job.name, user: job.user,
            command: decode([String].self, job.commandJSON) ?? [], labels: decode([String: String].self, job.labelsJSON) ?? [:],
            started: job.started, ended: job.ended, exitStatus: job.exitStatus.map(Int32.init), durationSeconds: duration,
            cpuSeconds: cpuSeconds, averageBusyCores: duration > 0 ? cpuSeconds / duration : 0, energyJoules: joules,
            energyKWh: CarbonAccounting.kilowattHours(joules: joules),
            energyByDomain: EnergyByDomain(
                packageJoules: Double(totals.packageMicrojoules) / 1e6, dramJoules: Double(totals.dramMicrojoules) / 1e6,
                idleShareJoules: Double(totals.idleShareMicrojoules) / 1e6, gpuJoules: Self.kindJoules(.gpu, in: totals),
                restJoules: Self.kindJoules(.rest, in: totals)),
            averagePowerWatts: duration > 0 ? joules / duration : 0, peakPowerWatts: totals.peakWatts,
            co2Grams: totals.co2Grams, carbonIntensityGramsPerKWh: totals.intensityGramsPerKWh, pue: totals.pue,
            cost: totals.currency == nil ? nil : totals.cost, currency: totals.currency, source: source(totals),
            tracking: job.tracking, hardware: job.hardware,
            temperatures: temperatures(totals.temperaturesJSON), flops: totals.flops,
            joulesPerFlop: totals.flops.flatMap { $0 > 0 ? joules / $0 : nil }, processors: job.processors, steps: totals.steps,
            samples: totals.samples, metrics: decode([String: Double].self, totals.metricsJSON) ?? [:],
            domains: totals.domains.map { row in
                DomainEnergyReport(
                    domain: row.domain, kind: row.kind.rawValue, source: row.source.rawValue, joules: Double(row.energyMicrojoules) / 1e6,
                    idleShareJoules: Double(row.idleShareMicrojoules) / 1e6)
            }, gpus: gpus(totals))
        report.scheduler = job.scheduler?.rawValue
        return report
    }

    /// The GPUs a job used, each with its energy and sources from the job's domain rows.
    static func gpus(_ totals: JobTotals) -> [GPUUseReport] {
        totals.gpus.map { gpu in
            let rows = totals.domains.filter { $0.domain == gpu.domain }
            return GPUUseReport(
                uuid: gpu.uuid, name: gpu.name, pciSlot: gpu.pciSlot, gpuSeconds: gpu.gpuSeconds,
                energyJoules: Double(rows.reduce(0) { $0 + $1.energyMicrojoules }) / 1e6,
                source: rows.isEmpty ? "none" : rows.map(\.source.rawValue).joined(separator: "+"), boardLevel: gpu.boardLevel, domain: gpu.domain)
        }
    }

    /// Σ energy of a job's domains of one kind, joules.
    static func kindJoules(_ kind: DomainKind, in totals: JobTotals) -> Double {
        Double(totals.domains.reduce(0) { $0 + ($1.kind == kind ? $1.energyMicrojoules : 0) }) / 1e6
    }

    public static func summary(job: StoredJob, totals: JobTotals) -> JobSummary {
        JobSummary(
            id: job.id, jobID: job.jobID, name: job.name, user: job.user, started: job.started, ended: job.ended,
            exitStatus: job.exitStatus.map(Int32.init), energyJoules: Double(totals.energyMicrojoules) / 1e6, source: source(totals),
            scheduler: job.scheduler?.rawValue)
    }

    /// `rapl`, `model`, or `mixed` when both measured parts of the job.
    static func source(_ totals: JobTotals) -> String {
        switch (totals.raplMicrojoules > 0, totals.modelMicrojoules > 0) {
        case (true, true): "mixed"
        case (false, true): "model"
        default: "rapl"
        }
    }

    static func temperatures(_ json: String) -> [TemperatureSummary] {
        (TemperatureStatisticsJSON.decode(json) ?? [:]).compactMap { key, stats in
            let parts = key.split(separator: "\t", maxSplits: 1)
            guard parts.count == 2, stats.count == 3, stats[1] > 0 else { return nil }
            return TemperatureSummary(chip: String(parts[0]), sensor: String(parts[1]), meanCelsius: stats[0] / stats[1], maxCelsius: stats[2])
        }.sorted { ($0.chip, $0.sensor) < ($1.chip, $1.sensor) }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ json: String) -> T? {
        try? JSONDecoder().decode(type, from: Data(json.utf8))
    }
}
