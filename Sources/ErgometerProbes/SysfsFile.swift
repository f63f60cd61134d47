#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a small kernel file could not be read or understood.
public struct FileReadError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    /// errno of the failed call, or 0 when the content was malformed.
    public var errno: Int32
    /// For malformed content: what was found.
    public var detail: String?

    public var isPermissionDenied: Bool { errno == EACCES || errno == EPERM }
    public var isMissing: Bool { errno == ENOENT || errno == ENOTDIR }

    public var description: String {
        if errno == 0 { return "\(path): unexpected content \(detail ?? "")" }
        return "\(path): \(String(cString: strerror(errno))) (\(FileReadError.symbol(errno)))"
    }

    static func symbol(_ code: Int32) -> String {
        switch code {
        case EACCES: "EACCES"
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case ENOTDIR: "ENOTDIR"
        case EINVAL: "EINVAL"
        case ENODATA: "ENODATA"
        case EIO: "EIO"
        case EAGAIN: "EAGAIN"
        case EISDIR: "EISDIR"
        default: "errno \(code)"
        }
    }
}

/// Reads kernel attribute files the way sysfs wants them read: open, one `read(2)` into a stack
/// buffer, close. No `stat` (sysfs reports 4096 for every size), no Foundation, no heap for the
/// number readers, which run on every sampler tick.
public enum SysfsFile {
    /// Attribute files are at most a page; a larger file is read whole by `readText`.
    static let attributeLimit = 4096

    /// A number attribute is a few digits; a buffer this small stays on the stack (Swift puts
    /// temporary allocations of more than 1 KiB on the heap), so a counter read allocates nothing.
    static let numberLimit = 512

    /// Reads an unsigned decimal counter such as `energy_uj`.
    public static func readUInt64(_ path: String) -> Result<UInt64, FileReadError> {
        withAttribute(path, capacity: numberLimit, parseUInt64)
    }

    /// Reads a signed decimal integer such as `temp1_input` (millidegrees, may be negative).
    public static func readInt64(_ path: String) -> Result<Int64, FileReadError> {
        withAttribute(path, capacity: numberLimit, parseInt64)
    }

    /// The decimal number an attribute holds: digits up to the first newline, space or NUL
    /// (or the end); nil for no digits, any other byte, or a value beyond UInt64.
    public static func parseUInt64(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var index = 0
        guard let value = DecimalDigits.scan(bytes, at: &index), DecimalDigits.endsField(bytes, at: index) else { return nil }
        return value
    }

    /// As `parseUInt64`, with an optional leading `-`; nil beyond Int64's magnitude.
    public static func parseInt64(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var index = 0
        let negative = bytes.first == 0x2D
        if negative { index = 1 }
        guard let magnitude = DecimalDigits.scan(bytes, at: &index), DecimalDigits.endsField(bytes, at: index),
            magnitude <= UInt64(Int64.max)
        else { return nil }
        return negative ? -Int64(magnitude) : Int64(magnitude)
    }

    /// Reads a one-line attribute such as `name`, without its trailing newline and spaces.
    public static func readLine(_ path: String) -> Result<String, FileReadError> {
        withAttribute(path) { bytes in
            var end = bytes.count
            while end > 0, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x20 || bytes[end - 1] == 0x00 { end -= 1 }
            if let newline = bytes[..<end].firstIndex(of: 0x0A) { end = newline }
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
    }

    /// Reads a whole file of any size (`/proc/stat`, `/proc/cpuinfo`, `mountinfo`) as text.
    public static func readText(_ path: String) -> Result<String, FileReadError> {
        withContents(path) { String(decoding: $0, as: UTF8.self) }
    }

    /// Reads a whole file into the caller's `buffer` (one the sampler keeps for every tick)
    /// and hands its bytes to `body`; a file larger than the buffer is read as `withContents`
    /// reads it.
    public static func withContents<T>(
        _ path: String, buffer: UnsafeMutableRawBufferPointer, _ body: (UnsafeBufferPointer<UInt8>) -> T
    ) -> Result<T, FileReadError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(FileReadError(path: path, errno: errno)) }
        defer { close(fd) }
        var count = 0
        switch fill(fd, buffer.baseAddress!, capacity: buffer.count, count: &count) {
        case .failed(let error): return .failure(FileReadError(path: path, errno: error))
        case .end: return .success(body(UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count)))
        case .full: break
        }
        return withContents(path, body)
    }

    /// Reads a whole file and hands its bytes to `body`. Files that fit a page (cpu.stat,
    /// /proc/stat on small machines) never touch the heap; larger ones go to a buffer that
    /// doubles from 16 KiB. Nothing is kept after the call.
    public static func withContents<T>(
        _ path: String, _ body: (UnsafeBufferPointer<UInt8>) -> T
    ) -> Result<T, FileReadError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(FileReadError(path: path, errno: errno)) }
        defer { close(fd) }
        let small: Result<T, FileReadError>? = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: attributeLimit) { buffer in
            var count = 0
            switch fill(fd, buffer.baseAddress!, capacity: attributeLimit, count: &count) {
            case .failed(let error): return .failure(FileReadError(path: path, errno: error))
            case .end: return .success(body(UnsafeBufferPointer(rebasing: buffer[..<count])))
            case .full: return nil  // larger than a page: start over on the heap
            }
        }
        if let small { return small }
        guard lseek(fd, 0, SEEK_SET) == 0 else { return .failure(FileReadError(path: path, errno: errno)) }
        var capacity = 16 * 1024
        var buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var count = 0
        while true {
            switch fill(fd, buffer.baseAddress!, capacity: capacity, count: &count) {
            case .failed(let error): return .failure(FileReadError(path: path, errno: error))
            case .end: return .success(body(UnsafeBufferPointer(rebasing: buffer[..<count])))
            case .full:
                let larger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: capacity * 2)
                _ = larger.initialize(fromContentsOf: buffer)
                buffer.deallocate()
                buffer = larger
                capacity *= 2
            }
        }
    }

    /// How a `fill` ended.
    enum Fill {
        /// End of file (or, with `lineEndsFile`, a short read ending a line): `count` bytes.
        case end
        /// The buffer is full; there may be more.
        case full
        case failed(Int32)
    }

    /// The one read loop of whole kernel files: reads `fd` into `buffer[count..<capacity]` until
    /// end of file or a full buffer, retrying EINTR; `read(2)` from the file offset, or `pread`
    /// from `count` when `positional` (a file kept open and read again from 0). A seq_file
    /// (procfs, cgroupfs) hands over its whole text in one read when the buffer is larger, so
    /// with `lineEndsFile` a short read ending a line is taken as the end, saving the empty read.
    static func fill(
        _ fd: Int32, _ buffer: UnsafeMutableRawPointer, capacity: Int, count: inout Int, positional: Bool = false,
        lineEndsFile: Bool = false
    ) -> Fill {
        while count < capacity {
            let got = positional ? pread(fd, buffer + count, capacity - count, off_t(count)) : read(fd, buffer + count, capacity - count)
            if got < 0 {
                if errno == EINTR { continue }
                return .failed(errno)
            }
            if got == 0 { return .end }
            count += got
            if lineEndsFile, count < capacity, buffer.load(fromByteOffset: count - 1, as: UInt8.self) == 0x0A { return .end }
        }
        return .full
    }

    /// Opens, reads once into a stack buffer of `capacity` bytes, and hands the bytes to `parse`.
    private static func withAttribute<T>(
        _ path: String, capacity: Int = attributeLimit, _ parse: (UnsafeBufferPointer<UInt8>) -> T?
    ) -> Result<T, FileReadError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(FileReadError(path: path, errno: errno)) }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            var count: Int
            repeat {
                count = read(fd, buffer.baseAddress!, capacity)
            } while count < 0 && errno == EINTR
            guard count >= 0 else { return .failure(FileReadError(path: path, errno: errno)) }
            if count == capacity && capacity < attributeLimit {
                return .failure(FileReadError(path: path, errno: 0, detail: "(\(capacity) bytes or more: not a number attribute)"))
            }
            let bytes = UnsafeBufferPointer(rebasing: buffer[..<count])
            guard let value = parse(bytes) else {
                let shown = String(decoding: bytes.prefix(40), as: UTF8.self)
                return .failure(FileReadError(path: path, errno: 0, detail: count == 0 ? "(empty)" : "\"\(shown)\""))
            }
            return .success(value)
        }
    }
}

/// The one decimal scanner of the kernel files Ergometer reads (sysfs attributes, `/proc/stat`,
/// `cpu.stat`): digits from a position, overflow-checked, no allocation.
public enum DecimalDigits {
    /// The number whose digits start at `bytes[index]`, with `index` moved past them; nil (and
    /// `index` where it stopped) when there is no digit there or the value passes UInt64.
    @inline(__always)
    public static func scan(_ bytes: UnsafeBufferPointer<UInt8>, at index: inout Int) -> UInt64? {
        var value: UInt64 = 0
        let start = index
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(bytes[index] - 0x30))
            if overflow1 || overflow2 { return nil }  // no kernel writes that: not this file
            value = sum
            index += 1
        }
        return index > start ? value : nil
    }

    /// Whether a number's digits end its field: the end, a newline, a space or a NUL.
    @inline(__always)
    public static func endsField(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        index == bytes.count || bytes[index] == 0x0A || bytes[index] == 0x20 || bytes[index] == 0x00
    }
}
