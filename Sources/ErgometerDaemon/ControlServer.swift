import ErgometerProbes
public import Hummingbird
public import HummingbirdCore
public import Logging
import NIOCore
import Synchronization

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

    /// Request bodies are small (a registration, a progress report); anything larger is refused
    /// with 413 before it is read whole.
    public var maxUploadSize: Int { ControlServer.maximumBodyBytes }

    /// The user on the other end of the Unix socket, as the kernel recorded it at connect().
    func caller(adminGroup: String) async -> ControlCaller? {
        guard let credentials = await PeerCredentials.of(channel) else { return nil }
        return ControlCaller(uid: Int(credentials.uid), gid: Int(credentials.gid), pid: credentials.pid, adminGroup: adminGroup)
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

    static func of(_ channel: any Channel) async -> PeerCredentials? {
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        return try? await provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: option).get()
    }
}

/// How the control socket is served: HTTP/1.1 with small header and body limits, an idle
/// timeout, and a cap on the connections one user (and everyone) may hold, so that a slow,
/// stuck or greedy client costs ergod a bounded number of descriptors and never a sampler tick.
public enum ControlServer {
    public static let maximumBodyBytes = 64 * 1024

    public static func server(configuration: DaemonConfiguration, logger: Logger) -> HTTPServerBuilder {
        let limiter = ConnectionLimiter(
            perUser: configuration.maxConnectionsPerUser, total: configuration.maxConnections, logger: logger)
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: 8 * 1024, maxHeaderListSize: 16 * 1024, maxHeaderFieldCount: 64)
        let idle = TimeAmount.nanoseconds(Int64(configuration.idleTimeoutSeconds * 1e9))
        let channel = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionLimiter.Handler(limiter: limiter)], idleTimeout: idle,
            httpDecoderConfiguration: decoder)
        return .http1(configuration: channel)
    }
}

/// Counts open control connections per uid; a connection beyond the caller's share (root has
/// none) or beyond the total is closed as soon as it is accepted.
final class ConnectionLimiter: Sendable {
    let perUser: Int
    let total: Int
    let logger: Logger
    private let open = Mutex<(byUser: [UInt32: Int], total: Int, lastWarning: UInt64)>(([:], 0, 0))

    init(perUser: Int, total: Int, logger: Logger) {
        self.perUser = perUser
        self.total = total
        self.logger = logger
    }

    /// Takes a slot for `uid`, or says why there is none.
    func admit(uid: UInt32) -> Bool {
        let (admitted, warn) = open.withLock { state -> (Bool, Bool) in
            let mine = state.byUser[uid, default: 0]
            if state.total >= total || (uid != 0 && mine >= perUser) {
                let now = MonotonicClock.nanoseconds()
                let warn = now &- state.lastWarning > 10_000_000_000
                if warn { state.lastWarning = now }
                return (false, warn)
            }
            state.byUser[uid] = mine + 1
            state.total += 1
            return (true, false)
        }
        if warn {
            logger.warning("control connection refused: too many open (control.max_connections_per_user / max_connections)", metadata: ["ergometer.uid": "\(uid)"])
        }
        return admitted
    }

    func release(uid: UInt32) {
        open.withLock { state in
            state.total -= 1
            let left = state.byUser[uid, default: 1] - 1
            state.byUser[uid] = left > 0 ? left : nil
        }
    }

    /// The pipeline's part: admits the connection when it is added, releases it when closed.
    final class Handler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
        typealias InboundIn = NIOAny
        let limiter: ConnectionLimiter
        private var admitted: UInt32?

        init(limiter: ConnectionLimiter) { self.limiter = limiter }

        func handlerAdded(context: ChannelHandlerContext) {
            guard let provider = context.channel as? any SocketOptionProvider else { return }
            let credentials: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
                level: SocketOptionLevel(SOL_SOCKET), name: PeerCredentials.option)
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            credentials.whenComplete { result in
                let (handler, context) = loopBound.value
                guard case .success(let peer) = result, handler.limiter.admit(uid: peer.uid) else {
                    context.close(promise: nil)
                    return
                }
                handler.admitted = peer.uid
            }
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            if let uid = admitted { limiter.release(uid: uid) }
            admitted = nil
        }
    }
}
