import ErgometerClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A keep-alive HTTP/1.1 GET client on one TCP connection, as Prometheus scrapes: the load
/// tool of `ergo bench scrape`. Reads `Content-Length` bodies (what ergod and node_exporter
/// send uncompressed) and reconnects when the server closes.
struct ScrapeClient {
    let host: String
    let port: UInt16
    let path: String
    private var fd: Int32 = -1
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)

    /// Why a scrape failed, with the address, for the bench's error line.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(url: String) throws(Failure) {
        guard url.hasPrefix("http://") else { throw Failure(description: "\(url): give an http://host:port/path URL") }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        path = rest.count > authority.count ? String(rest.dropFirst(authority.count)) : "/metrics"
        guard let colon = authority.lastIndex(of: ":"), let port = UInt16(authority[authority.index(after: colon)...]) else {
            throw Failure(description: "\(url): no port (ergod listens on 9477 by default)")
        }
        let host = String(authority[..<colon])
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.port = port
    }

    /// One GET of the URL's path; returns the status and the body's length.
    mutating func get() throws(Failure) -> (status: Int, bytes: Int) {
        let answer = try exchange(path: path, accept: "text/plain")
        return (answer.status, answer.length)
    }

    /// One GET of `path` (a query string may follow it); returns the status and the body,
    /// de-chunked (Prometheus's API answers in chunks).
    mutating func fetch(_ path: String) throws(Failure) -> (status: Int, body: [UInt8]) {
        let answer = try exchange(path: path, accept: "application/json")
        let raw = Array(buffer[answer.bodyStart..<answer.bodyEnd])
        guard answer.chunked else { return (answer.status, raw) }
        guard let body = HTTPChunkedBody.decode(raw) else { throw Failure(description: "\(host):\(port) sent a malformed chunked body") }
        return (answer.status, body)
    }

    private mutating func exchange(path: String, accept: String) throws(Failure) -> (status: Int, length: Int, bodyStart: Int, bodyEnd: Int, chunked: Bool) {
        if fd < 0 { try connect() }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nAccept: \(accept)\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            close()
            throw Failure(description: "send to \(host):\(port): \(String(cString: strerror(errno)))")
        }
        var received = 0
        var headerEnd: Int?
        var contentLength = 0
        var status = 0
        var closeAfter = false
        var chunked = false
        while true {
            if received == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, $0.count - received, 0) }
            guard count > 0 else {
                close()
                throw Failure(description: "\(host):\(port) closed the connection mid-response")
            }
            received += count
            if headerEnd == nil, let end = Self.headerEnd(buffer, upTo: received) {
                headerEnd = end
                let head = String(decoding: buffer[..<end], as: UTF8.self).lowercased()
                status = Int(head.dropFirst("http/1.1 ".count).prefix(3)) ?? 0
                if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }) {
                    contentLength = Int(line.dropFirst("content-length:".count).trimmingPrefix(" ")) ?? 0
                }
                closeAfter = head.contains("connection: close")
                chunked = head.contains("transfer-encoding: chunked")
            }
            if let headerEnd, chunked {
                if let length = HTTPChunkedBody.scan(buffer, from: headerEnd, upTo: received) {
                    if closeAfter { close() }
                    return (status, length, headerEnd, received, true)
                }
            } else if let headerEnd, received >= headerEnd + contentLength {
                if closeAfter { close() }
                return (status, contentLength, headerEnd, headerEnd + contentLength, false)
            }
        }
    }

    private static func headerEnd(_ bytes: [UInt8], upTo count: Int) -> Int? {
        guard count >= 4 else { return nil }
        for index in 3..<count where bytes[index] == 10 && bytes[index - 1] == 13 && bytes[index - 2] == 10 && bytes[index - 3] == 13 {
            return index + 1
        }
        return nil
    }

    private mutating func connect() throws(Failure) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw Failure(description: "\(host): give an IPv4 address (127.0.0.1)")
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close()
            throw Failure(description: "connect to \(host):\(port): \(reason)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    mutating func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }
}
