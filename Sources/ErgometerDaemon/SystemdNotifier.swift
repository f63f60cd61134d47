import ErgometerCore
import ErgometerProbes

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The sd_notify protocol, without libsystemd: one datagram per message to `$NOTIFY_SOCKET`
/// (a path, or `@name` in the abstract namespace). ergod says READY=1 after its first tick,
/// a STATUS= line when what it does changes, and WATCHDOG=1 at half of `$WATCHDOG_USEC`.
public struct SystemdNotifier: Sendable {
    public let socketPath: String
    public let watchdogNanoseconds: UInt64?
    private var ready = false
    private var lastWatchdog: UInt64 = 0
    private var lastStatus: (jobs: Int, source: PowerSourceKind, storeError: String?)?

    /// nil when systemd did not start ergod as a notify service.
    public init?(environment: [String: String]) {
        guard let socket = environment["NOTIFY_SOCKET"], !socket.isEmpty else { return nil }
        socketPath = socket
        let watchdogPID = environment["WATCHDOG_PID"].flatMap { Int32($0) }
        if let usec = environment["WATCHDOG_USEC"].flatMap({ UInt64($0) }), usec > 0, watchdogPID == nil || watchdogPID == getpid() {
            watchdogNanoseconds = usec * 1000
        } else {
            watchdogNanoseconds = nil
        }
    }

    /// After every tick: READY=1 once, STATUS= when it changed, WATCHDOG=1 when due.
    mutating func tickCompleted(ticks: UInt64, jobs: Int, source: PowerSourceKind, storeError: String?) {
        let now = MonotonicClock.nanoseconds()
        var message = ""
        if lastStatus == nil || lastStatus!.jobs != jobs || lastStatus!.source != source || lastStatus!.storeError != storeError {
            lastStatus = (jobs, source, storeError)
            message += "STATUS=sampling (\(source.rawValue)); \(jobs) job\(jobs == 1 ? "" : "s") running"
                + (storeError.map { "; store unwritable, keeping data in memory: \($0)" } ?? "") + "\n"
        }
        if !ready {
            ready = true
            message += "READY=1\nMAINPID=\(getpid())\n"
        }
        if let watchdogNanoseconds, now &- lastWatchdog >= watchdogNanoseconds / 2 {
            lastWatchdog = now
            message += "WATCHDOG=1\n"
        }
        if !message.isEmpty { send(message) }
    }

    func stopping() {
        send("STOPPING=1\nSTATUS=final checkpoint, then exit\n")
    }

    /// Sends one datagram; false when it could not (systemd gone: nothing to do about it).
    @discardableResult
    public func send(_ message: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }  // abstract namespace
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (path.first == 0 ? 0 : 1))
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length) }
            }
        }
        return sent == bytes.count
    }
}
