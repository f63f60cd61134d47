#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whether something accepts connections on a Unix socket path.
public enum UnixSocketProbe {
    public static func answers(_ path: String) -> Bool {
        guard let fd = try? UnixHTTPClient(socketPath: path, timeoutSeconds: 1).connect() else { return false }
        close(fd)
        return true
    }
}
