/// Where the /metrics listener binds: `host:port`, `[v6]:port`, or `off`.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// Why a listen address cannot be used.
    public struct ParseError: Error, Sendable {
        public var reason: String
    }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// nil for `off`; throws with the fix for anything else that is not `host:port`.
    public static func parse(_ text: String) throws(ParseError) -> ListenAddress? {
        if text == "off" { return nil }
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ParseError(reason: "an IPv6 address is written [address]:port, e.g. [::1]:9477")
            }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon else {
                throw ParseError(reason: "write host:port (127.0.0.1:9477), [address]:port for IPv6, or \"off\"")
            }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw ParseError(reason: "no host; use 127.0.0.1:9477 for loopback, or 0.0.0.0:9477 for every interface") }
        guard let number = Int(port), (0...65535).contains(number) else {
            throw ParseError(reason: "port \"\(port)\" is not a number from 0 to 65535")
        }
        return ListenAddress(host: String(host), port: number)
    }

    /// True for 127.0.0.0/8, ::1 and localhost: nothing off this machine can connect.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
