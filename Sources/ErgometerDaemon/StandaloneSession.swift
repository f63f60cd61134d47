import ErgometerCore
import ErgometerStore
public import ErgometerWire
import Foundation
import Hummingbird
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
        return try await sampler.register(request, caller: .current)
    }

    /// Serves the control API on a private socket while `body` runs, so the job's own program
    /// can report its progress (ErgometerClient) as it would to ergod.
    public func servingControlAPI<T: Sendable>(at path: String, _ body: () async throws -> T) async throws -> T {
        var logger = Logger(label: "ergo")
        logger.logLevel = .critical  // the server's own shutdown notes are not the user's business
        let configuration = await sampler.configuration
        let (running, signalRunning) = AsyncStream<Void>.makeStream()
        let application = HTTPService(
            responder: ControlRoutes.router(sampler: sampler, logger: logger).buildResponder(),
            server: ControlServer.server(configuration: configuration, logger: logger),
            address: .unixDomainSocket(path: path), serverName: "ergo",
            onServerRunning: { _ in signalRunning.finish() }, logger: logger)
        unlink(path)
        let server = Task {
            defer { signalRunning.finish() }  // a server that fails to start must not leave us waiting
            try await application.run()
        }
        for await _ in running {}
        defer {
            server.cancel()
            unlink(path)
        }
        return try await body()
    }

    public func finish(id: String, exitStatus: Int32) async throws -> JobReport {
        let report = try await sampler.end(id: id, exitStatus: exitStatus, caller: .current)
        ticking.cancel()
        await ticking.value
        return report
    }
}
