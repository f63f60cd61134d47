import Foundation

/// A bound Unix datagram socket (a path, or a name in the abstract namespace), standing in for
/// systemd's notify socket.
public final class DatagramListener {
    let fd: Int32

    public init(abstractName: String? = nil, path: String? = nil, timeoutSeconds: Int = 2) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes: [UInt8] = abstractName.map { [0] + Array($0.utf8) } ?? Array((path ?? "").utf8)
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstractName == nil ? 1 : 0))
        bytes += [0]
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw FixtureError("bind: errno \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next datagram, or nil after the timeout.
    public func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    /// Datagrams until one contains `text` (returned with all before it), or nil at a timeout.
    public func receive(until text: String, limit: Int = 200) -> [String]? {
        var seen: [String] = []
        for _ in 0..<limit {
            guard let message = receive() else { return nil }
            seen.append(message)
            if message.contains(text) { return seen }
        }
        return nil
    }

    deinit { close(fd) }
}
