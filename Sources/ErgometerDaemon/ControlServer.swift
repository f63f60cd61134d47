import ErgometerStore
import ErgometerWire
import Foundation
public import Hummingbird
public import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The request context of the control API: it keeps the connection, whose peer credentials
/// (SO_PEERCRED) say which user is asking.
public struct ControlRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Registration bodies are small; anything larger is refused with 413.
    public var maxUploadSize: Int { 64 * 1024 }

    /// The uid and pid of the process on the other end of the Unix socket.
    func peer() async -> (uid: Int, pid: Int32)? {
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        let credentials: PeerCredentials? = try? await provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: PeerCredentials.option
        ).get()
        return credentials.map { (Int($0.uid), $0.pid) }
    }
}

/// Linux's `struct ucred` (pid_t, uid_t, gid_t), as SO_PEERCRED fills it; Glibc's module map
/// hides the C declaration behind _GNU_SOURCE.
struct PeerCredentials: Sendable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32

    /// SO_PEERCRED (17 on every Linux architecture Swift runs on).
    static let option = SocketOptionName(17)
}

/// The control API's routes (paths in `ControlAPI`), answered by the sampler.
public enum ControlRoutes {
    public static func router(sampler: Sampler, logger: Logger) -> Router<ControlRequestContext> {
        let router = Router(context: ControlRequestContext.self)
        router.get(RouterPath(ControlAPI.healthPath)) { _, _ in
            try json(["status": "ok", "api": ControlAPI.version])
        }
        router.post(RouterPath(ControlAPI.jobsPath)) { request, context in
            guard let peer = await context.peer() else { return try error(.forbidden, "cannot identify the caller (SO_PEERCRED)") }
            let body: RegisterJobRequest
            do {
                body = try await request.decode(as: RegisterJobRequest.self, context: context)
            } catch {
                return try Self.error(.badRequest, "malformed registration: \(error)")
            }
            do {
                let response = try await sampler.register(body, uid: peer.uid, user: userName(uid: peer.uid))
                return try json(response, status: .created)
            } catch let failure as APIError {
                return try Self.error(.badRequest, failure.error)
            }
        }
        router.get(RouterPath(ControlAPI.jobsPath)) { request, context in
            guard let peer = await context.peer() else { return try error(.forbidden, "cannot identify the caller (SO_PEERCRED)") }
            let all = request.uri.queryParameters.get("all") == "1"
            return try json(await sampler.jobs(all: all, uid: peer.uid == 0 ? nil : peer.uid))
        }
        router.get("/v1/jobs/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let peer = await context.peer(), await allowed(peer.uid, job: id, sampler: sampler) else {
                logger.warning("refused a report request", metadata: ["ergometer.job.id": "\(id)"])
                return try error(.forbidden, "job \(id) belongs to another user")
            }
            do {
                return try json(try await sampler.report(id: id))
            } catch let failure as APIError {
                return try Self.error(.notFound, failure.error)
            }
        }
        router.post("/v1/jobs/:id/end") { request, context in
            let id = try context.parameters.require("id")
            guard let peer = await context.peer(), await allowed(peer.uid, job: id, sampler: sampler) else {
                logger.warning("refused an end request", metadata: ["ergometer.job.id": "\(id)"])
                return try error(.forbidden, "job \(id) belongs to another user")
            }
            let body: EndJobRequest
            do {
                body = try await request.decode(as: EndJobRequest.self, context: context)
            } catch {
                return try Self.error(.badRequest, "malformed end request: \(error)")
            }
            do {
                return try json(try await sampler.end(id: id, exitStatus: body.exitStatus, uid: peer.uid))
            } catch let failure as APIError {
                return try Self.error(.notFound, failure.error)
            }
        }
        router.post("/v1/jobs/:id/progress") { request, context in
            let id = try context.parameters.require("id")
            guard let peer = await context.peer(), await allowed(peer.uid, job: id, sampler: sampler) else {
                logger.warning("refused a progress report", metadata: ["ergometer.job.id": "\(id)"])
                return try error(.forbidden, "job \(id) belongs to another user")
            }
            let body: JobProgress
            do {
                body = try await request.decode(as: JobProgress.self, context: context)
            } catch {
                return try Self.error(.badRequest, "malformed progress report: \(error)")
            }
            do {
                try await sampler.progress(id: id, body, uid: peer.uid)
                return Response(status: .noContent)
            } catch let failure as APIError {
                let status: HTTPResponse.Status = failure.error.hasPrefix("no job") ? .notFound : (failure.error.contains("has ended") ? .gone : .badRequest)
                return try Self.error(status, failure.error)
            }
        }
        router.get(RouterPath(ControlAPI.ledgerPath)) { _, _ in
            try json(await sampler.ledger())
        }
        return router
    }

    static func allowed(_ uid: Int, job: String, sampler: Sampler) async -> Bool {
        if uid == 0 { return true }
        guard let owner = await sampler.owner(of: job) else { return true }  // unknown job: 404 follows
        return owner == uid
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) throws -> Response {
        try json(APIError(message), status: status)
    }

    static func userName(uid: Int) -> String {
        var record = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid_t(uid), &record, &buffer, buffer.count, &result) == 0, result != nil, let name = record.pw_name else {
            return String(uid)
        }
        return String(cString: name)
    }
}
