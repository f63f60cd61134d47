import ErgometerCore
public import Hummingbird
public import HummingbirdCore
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Serves one of ergod's routers (the control socket, /metrics) as Hummingbird's `Application`
/// does, less its Date-header cache: that cache is a task that wakes every second for as long as
/// the server runs, and ergod's two servers' caches were ~0.4 ms of CPU a second on an idle box
/// (measured with `--listen off` and on). Here the header is made when a response is, at most
/// once a second (`HTTPDateHeader`), and nothing wakes while nobody asks.
public struct HTTPService<Responder: HTTPResponder>: Service
where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
    let responder: Responder
    let server: HTTPServerBuilder
    let configuration: ServerConfiguration
    let serverName: String?
    let onServerRunning: @Sendable (any Channel) async -> Void
    let logger: Logger

    public init(
        responder: Responder, server: HTTPServerBuilder = .http1(), address: BindAddress, serverName: String?,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }, logger: Logger
    ) {
        self.responder = responder
        self.server = server
        self.configuration = ServerConfiguration(address: address, serverName: serverName)
        self.serverName = serverName
        self.onServerRunning = onServerRunning
        self.logger = logger
    }

    /// A response that could not be written: the connection is closed (no second response).
    struct ResponseNotWritten: Error {}

    public func run() async throws {
        let dates = HTTPDateHeader()
        let (responder, logger, serverName) = (self.responder, self.logger, self.serverName)
        let service = try server.buildServer(
            configuration: configuration, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger
        ) { (request, responseWriter: consuming ResponseWriter, channel) in
            let context = Responder.Context(source: .init(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch let error as HTTPParserError {
                throw error  // the channel answers 400 and closes
            } catch {
                logger.debug("request failed", metadata: ["ergometer.error": "\(error)"])
                response = Response(status: .internalServerError, body: .init())
            }
            response.headers[.date] = dates.now()
            if let serverName { response.headers[.server] = serverName }
            do {
                try await responseWriter.write(response: response.head, body: response.body)
            } catch is HTTPParserError {
                throw ResponseNotWritten()
            }
        } onServerRunning: { channel in
            await onServerRunning(channel)
        }
        try await service.run()
    }
}

/// The `Date` header's text for the current second, made on the first response of each second.
final class HTTPDateHeader: Sendable {
    private let cached = Mutex<(second: Int, text: String)>((-1, ""))

    func now() -> String {
        let second = time(nil)
        return cached.withLock { cache in
            if cache.second != second { cache = (second, UTCTimestamp.httpDate(second)) }
            return cache.text
        }
    }
}
