import ErgometerCore
import ErgometerWire
import Foundation

/// One job as `ergo compare` and `ergo project` take it: its compute profile and what it was, a
/// job measured here (with the metrics its workload reported) or a spec file.
struct ComputeSide {
    var argument: String
    var profile: ComputeProfile
    /// `job` or `spec`.
    var kind: String
    var processorModel: String?
    /// The latest value of each metric the workload reported (jobs only).
    var metrics: [String: Double] = [:]
    var spec: JobSpec?

    /// `job 3`, or the spec file's path.
    var label: String { kind == "job" ? "job \(argument)" : argument }
}

/// Turns a command's job arguments into sides: an argument that looks like a file is a spec,
/// anything else a job id asked of ergod or the store (found once, for every job).
final class ComputeSides {
    let daemon: DaemonOptions
    private var repository: (any JobRepository)?

    init(daemon: DaemonOptions) { self.daemon = daemon }

    func side(_ argument: String) throws -> ComputeSide {
        let looksLikeFile = argument.contains("/") || argument.hasSuffix(".json") || FileManager.default.fileExists(atPath: argument)
        guard looksLikeFile else { return try measured(argument) }
        guard let data = FileManager.default.contents(atPath: argument) else {
            throw CommandFailure("cannot read the spec file \(argument); give a readable JSON file or a job id from `ergo jobs`")
        }
        do {
            let spec = try JobSpec.parse(Array(data), file: argument)
            return ComputeSide(argument: argument, profile: spec.profile, kind: "spec", processorModel: spec.processorModel, spec: spec)
        } catch {
            throw CommandFailure(error.description)
        }
    }

    func measured(_ id: String) throws -> ComputeSide {
        let repository = try self.repository ?? daemon.repository()
        self.repository = repository
        let report = try repository.report(id: id)
        guard let flops = report.flops, flops > 0 else {
            throw CommandFailure("job \(id) (\(report.name)) reported no FLOPs: its energy and time are measured, its compute is not. Run a program that reports FLOPs through ErgometerClient (ergo-train does), or describe the job in a spec file.")
        }
        // Processors: as declared; else the GPUs its processes used (seen by ergod); else its
        // effective busy cores.
        let gpus = Set(report.gpus.map { $0.uuid ?? $0.domain })
        let processors = report.processors.map(Double.init) ?? (gpus.isEmpty ? report.averageBusyCores : Double(gpus.count))
        let basis: ComputeBasis = report.processors != nil ? .declared : gpus.isEmpty ? .estimated : .observed
        guard processors > 0 else { throw CommandFailure("job \(id) (\(report.name)) used no measurable CPU time; declare its processors with `ergo run --processors N`") }
        let gpuModels = Array(Set(report.gpus.compactMap(\.name))).sorted().joined(separator: ", ")
        return ComputeSide(
            argument: id,
            profile: ComputeProfile(
                name: report.name, flops: flops, processors: processors, seconds: report.durationSeconds, energyJoules: report.energyJoules,
                flopsBasis: .reported, processorsBasis: basis, energySource: report.source),
            kind: "job", processorModel: basis == .observed && !gpuModels.isEmpty ? gpuModels : report.hardware, metrics: report.metrics)
    }
}
