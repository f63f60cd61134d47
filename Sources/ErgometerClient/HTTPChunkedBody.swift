/// A chunked HTTP/1.1 message body (RFC 9112 §7.1): the one decoder of the project's two HTTP
/// clients (`UnixHTTPClient` for the control socket, `ergo bench scrape` over TCP).
public enum HTTPChunkedBody {
    /// Walks the chunks of `bytes[start..<end]`: the decoded body's length once its final
    /// zero-length chunk (and any trailers) has arrived, else nil. With `output`, the decoded
    /// bytes are appended to it.
    public static func scan(_ bytes: [UInt8], from start: Int, upTo end: Int, into output: UnsafeMutablePointer<[UInt8]>? = nil) -> Int? {
        var cursor = start
        var total = 0
        while true {
            var size = 0
            var digits = 0
            while cursor < end, let digit = hexValue(bytes[cursor]) {
                guard size < Int.max >> 4 else { return nil }
                size = size * 16 + digit
                digits += 1
                cursor += 1
            }
            guard digits > 0 else { return nil }
            while cursor < end && bytes[cursor] != 10 { cursor += 1 }  // chunk extensions, CR
            cursor += 1
            if size == 0 {
                // Trailers, if any, end with an empty line.
                while cursor < end {
                    if bytes[cursor] == 10 || (bytes[cursor] == 13 && cursor + 1 < end && bytes[cursor + 1] == 10) { return total }
                    while cursor < end && bytes[cursor] != 10 { cursor += 1 }
                    cursor += 1
                }
                return nil
            }
            guard size <= end - cursor - 2 else { return nil }
            output?.pointee.append(contentsOf: bytes[cursor..<cursor + size])
            total += size
            cursor += size + 2
        }
    }

    /// Decodes a complete chunked body; nil until its final chunk has arrived.
    public static func decode(_ body: [UInt8]) -> [UInt8]? {
        var output: [UInt8] = []
        let length = withUnsafeMutablePointer(to: &output) { scan(body, from: 0, upTo: body.count, into: $0) }
        return length == nil ? nil : output
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }
}
