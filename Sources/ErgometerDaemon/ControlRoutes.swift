import ErgometerStore
import ErgometerWire
import Foundation
public import Hummingbird
public import Logging
import NIOCore

/// The control API's routes (paths in `ControlAPI`), answered by the sampler. Every route that
/// names a job checks the caller may see it first; a refusal is a 403 and a log line, never data.
public enum ControlRoutes {
    public static func router(sampler: Sampler, logger: Logger) -> Router<ControlRequestContext> {
        let router = Router(context: ControlRequestContext.self)
        /// The caller, or a 403 when the kernel cannot say who it is.
        @Sendable func caller(_ context: ControlRequestContext) async throws -> ControlCaller {
            guard let caller = await context.caller(adminGroup: sampler.adminGroup.withLock { $0 }) else {
                throw Refusal(ControlFailure(.forbidden, "cannot identify the caller (SO_PEERCRED)"))
            }
            return caller
        }
        /// The caller, when they may see job `id` (unknown jobs pass: a 404 follows).
        @Sendable func caller(_ context: ControlRequestContext, for id: String, action: String) async throws -> ControlCaller {
            let who = try await caller(context)
            if let owner = await sampler.owner(of: id), !who.mayAccess(jobOwnedBy: owner) {
                logger.warning("refused \(action)", metadata: ["ergometer.job.id": "\(id)", "ergometer.uid": "\(who.uid)", "ergometer.owner": "\(owner)"])
                throw Refusal(ControlFailure(.forbidden, "job \(id) belongs to another user"))
            }
            return who
        }

        router.get(RouterPath(ControlAPI.healthPath)) { _, _ in
            try json(["status": "ok", "api": ControlAPI.version])
        }
        router.post(RouterPath(ControlAPI.jobsPath)) { request, context in
            try await answer {
                let who = try await caller(context)
                let body = try await decode(RegisterJobRequest.self, request, context, what: "registration")
                return try json(try await sampler.register(body, caller: who), status: .created)
            }
        }
        router.get(RouterPath(ControlAPI.jobsPath)) { request, context in
            try await answer {
                let all = request.uri.queryParameters.get("all") == "1"
                return try json(await sampler.jobs(all: all, caller: try await caller(context)))
            }
        }
        router.get("/v1/jobs/:id") { _, context in
            try await answer {
                let id = try context.parameters.require("id")
                let who = try await caller(context, for: id, action: "a report request")
                return try json(try await sampler.report(id: id, for: who))
            }
        }
        router.get("/v1/jobs/:id/series") { _, context in
            try await answer {
                let id = try context.parameters.require("id")
                let who = try await caller(context, for: id, action: "a series request")
                return try json(try await sampler.series(id: id, for: who))
            }
        }
        router.post("/v1/jobs/:id/end") { request, context in
            try await answer {
                let id = try context.parameters.require("id")
                let who = try await caller(context, for: id, action: "an end request")
                let body = try await decode(EndJobRequest.self, request, context, what: "end request")
                return try json(try await sampler.end(id: id, exitStatus: body.exitStatus, caller: who))
            }
        }
        router.post("/v1/jobs/:id/progress") { request, context in
            try await answer {
                let id = try context.parameters.require("id")
                let who = try await caller(context, for: id, action: "a progress report")
                let body = try await decode(JobProgress.self, request, context, what: "progress report")
                try await sampler.progress(id: id, body, caller: who)
                return Response(status: .noContent)
            }
        }
        router.get(RouterPath(ControlAPI.ledgerPath)) { _, context in
            try await answer { try json(await sampler.ledger(for: try await caller(context))) }
        }
        router.get(RouterPath(ControlAPI.livePath)) { _, context in
            try await answer { try json(await sampler.live(for: try await caller(context))) }
        }
        router.get(RouterPath(ControlAPI.storePath)) { _, context in
            try await answer {
                _ = try await caller(context)
                let status: StoreStatus?
                do { status = try await sampler.storeStatus() } catch { throw ControlFailure(.unavailable, "\(error)") }
                guard let status else { throw ControlFailure(.unavailable, "this ergod keeps no job store (it measures in memory only)") }
                return try json(status)
            }
        }
        return router
    }

    /// A refusal decided before the sampler was asked.
    struct Refusal: Error {
        var failure: ControlFailure
        init(_ failure: ControlFailure) { self.failure = failure }
    }

    /// Runs a route, turning refusals into JSON error bodies with their status (anything else,
    /// such as Hummingbird's own HTTPError, keeps its own).
    static func answer(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let refusal as Refusal {
            return try error(refusal.failure)
        } catch let failure as ControlFailure {
            return try error(failure)
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ request: Request, _ context: ControlRequestContext, what: String) async throws -> T {
        do {
            return try await request.decode(as: type, context: context)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Refusal(ControlFailure(.tooLarge, "\(what) larger than \(ControlServer.maximumBodyBytes) bytes"))
        } catch is NIOTooManyBytesError {
            throw Refusal(ControlFailure(.tooLarge, "\(what) larger than \(ControlServer.maximumBodyBytes) bytes"))
        } catch {
            throw Refusal(ControlFailure(.badRequest, "malformed \(what): \(error)"))
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ failure: ControlFailure) throws -> Response {
        let status: HTTPResponse.Status =
            switch failure.kind {
            case .badRequest: .badRequest
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .gone: .gone
            case .tooLarge: .contentTooLarge
            case .tooManyRequests: .tooManyRequests
            case .unavailable: .serviceUnavailable
            }
        return try json(failure.body, status: status)
    }
}
