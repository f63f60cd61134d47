import ErgometerCore
import ErgometerStore
public import ErgometerWire
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `ergo run` without a daemon: the same sampler, in-process, for one job, saving to a store
/// in the user's state directory.
public final class StandaloneSession: Sendable {
    let sampler: Sampler
    let ticking: Task<Void, Never>

    public init(configuration: DaemonConfiguration) throws {
        do {
            try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true)
        } catch {
            throw DaemonFiles.Problem(description: "cannot create the state directory \(configuration.stateDirectory): \(error.localizedDescription); give another with --state-dir")
        }
        var logger = Logger(label: "ergo")
        logger.logLevel = .error
        let store = try JobStore(directory: configuration.stateDirectory)
        sampler = try Sampler(configuration: configuration, store: store, logger: logger)
        let sampler = self.sampler
        ticking = Task { await sampler.run() }
    }

    public func start(_ request: RegisterJobRequest) async throws -> RegisterJobResponse {
        await sampler.closeAbandonedJobs()
        return try await sampler.register(request, uid: Int(getuid()), user: ControlRoutes.userName(uid: Int(getuid())))
    }

    public func finish(id: String, exitStatus: Int32) async throws -> JobReport {
        let report = try await sampler.end(id: id, exitStatus: exitStatus, uid: Int(getuid()))
        ticking.cancel()
        await ticking.value
        return report
    }
}
