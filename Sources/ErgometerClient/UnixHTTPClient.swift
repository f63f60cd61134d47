#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A minimal HTTP/1.1 client over a Unix domain socket: one request per connection, a JSON
/// body, a `Content-Length` response. Enough for ergod's control API, and small enough to link
/// into any training program without pulling in an HTTP stack.
public struct UnixHTTPClient: Sendable {
    public var socketPath: String
    /// Send and receive timeout per request, in seconds.
    public var timeoutSeconds: Int

    public init(socketPath: String, timeoutSeconds: Int = 10) {
        self.socketPath = socketPath
        self.timeoutSeconds = timeoutSeconds
    }

    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    /// Why a request got no HTTP response.
    public struct TransportError: Error, CustomStringConvertible, Sendable {
        public var socketPath: String
        public var errno: Int32
        public var stage: String
        /// True when nothing listens there (no socket file, or connection refused).
        public var daemonAbsent: Bool { errno == ENOENT || errno == ECONNREFUSED }
        public var description: String {
            "\(stage) \(socketPath): \(String(cString: strerror(errno)))"
        }
    }

    public func request(method: String, path: String, body: [UInt8]? = nil) throws(TransportError) -> Response {
        let fd = try connect()
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: ergod\r\nConnection: close\r\nAccept: application/json\r\n"
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        try send(fd, Array(head.utf8) + (body ?? []))
        return try receive(fd)
    }

    /// A connected stream socket to `socketPath` with the send and receive timeouts set; the
    /// caller closes it. Also what a test uses to send arbitrary bytes.
    public func connect() throws(TransportError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError(socketPath: socketPath, errno: errno, stage: "socket for") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw TransportError(socketPath: socketPath, errno: ENAMETOOLONG, stage: "connect to")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            close(fd)
            throw TransportError(socketPath: socketPath, errno: error, stage: "connect to")
        }
        return fd
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) throws(TransportError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw TransportError(socketPath: socketPath, errno: errno, stage: "send to")
            }
            offset += written
        }
    }

    private func receive(_ fd: Int32) throws(TransportError) -> Response {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                throw TransportError(socketPath: socketPath, errno: errno, stage: "receive from")
            }
            if count == 0 { break }
            data.append(contentsOf: chunk[..<count])
            if let response = Self.parse(data) { return response }
        }
        guard let response = Self.parse(data, complete: true) else {
            throw TransportError(socketPath: socketPath, errno: EPROTO, stage: "malformed response from")
        }
        return response
    }

    /// A whole response once headers and `Content-Length` bytes (or end of stream) arrived.
    static func parse(_ data: [UInt8], complete: Bool = false) -> Response? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headerEnd = data.indices.dropLast(3).first(where: { data[$0..<$0 + 4].elementsEqual(separator) }) else {
            return nil
        }
        let head = String(decoding: data[..<headerEnd], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1."),
            let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        var length: Int?
        var chunked = false
        for line in lines.dropFirst() {
            let lower = line.lowercased()
            if lower.hasPrefix("content-length:") { length = Int(lower.dropFirst(15).trimmingPrefix(" ")) }
            if lower.hasPrefix("transfer-encoding:") && lower.contains("chunked") { chunked = true }
        }
        let body = Array(data[(headerEnd + 4)...])
        if chunked {
            guard let decoded = HTTPChunkedBody.decode(body) else { return complete ? Response(status: status, body: body) : nil }
            return Response(status: status, body: decoded)
        }
        if let length {
            guard body.count >= length else { return nil }
            return Response(status: status, body: Array(body.prefix(length)))
        }
        return complete ? Response(status: status, body: body) : nil
    }
}
