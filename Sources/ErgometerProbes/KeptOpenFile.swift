#if canImport(Glibc)
import Glibc
#endif

/// A kernel file read every tick (a job's `cpu.stat`): opened once, then re-read from offset 0
/// with `pread` into a buffer the caller keeps, so a tick costs one system call per file and no
/// allocation. procfs and cgroupfs files are seq_files, which regenerate their text on a read
/// at offset 0 (procps reads /proc/stat the same way). A read that fails (the cgroup was
/// removed: ENODEV) closes the descriptor and retries once with a fresh open, so a file that
/// was replaced is followed; a file larger than the buffer is read whole the ordinary way.
/// Opened with `O_NOATIME` where the kernel allows it (root, or the file's owner): a read of a
/// file on a disk filesystem would otherwise dirty its inode after every change of the file.
public final class KeptOpenFile: @unchecked Sendable {
    public let path: String
    private var descriptor: Int32 = -1

    public init(path: String) { self.path = path }

    /// `O_NOATIME`, which Glibc's Swift overlay does not export (the generic Linux value, used by
    /// x86-64 and arm64; elsewhere the flag is left out).
    #if arch(x86_64) || arch(arm64)
    static let noAccessTime: Int32 = 0o1000000
    #else
    static let noAccessTime: Int32 = 0
    #endif

    deinit { if descriptor >= 0 { Glibc.close(descriptor) } }

    /// Whether a descriptor is open now (for the count of kept files).
    public var isOpen: Bool { descriptor >= 0 }

    /// Reads the whole file into `buffer` and hands its bytes to `parse`.
    public func read<T>(into buffer: UnsafeMutableRawBufferPointer, _ parse: (UnsafeBufferPointer<UInt8>) -> T) -> Result<T, FileReadError> {
        var failure = FileReadError(path: path, errno: 0)
        for _ in 0..<2 {
            if descriptor < 0 {
                descriptor = open(path, O_RDONLY | O_CLOEXEC | Self.noAccessTime)
                if descriptor < 0 && errno == EPERM { descriptor = open(path, O_RDONLY | O_CLOEXEC) }
                guard descriptor >= 0 else { return .failure(FileReadError(path: path, errno: errno)) }
            }
            var count = 0
            switch SysfsFile.fill(descriptor, buffer.baseAddress!, capacity: buffer.count, count: &count, positional: true, lineEndsFile: true) {
            case .end:
                let bytes = UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count)
                return .success(parse(bytes))
            case .full: return SysfsFile.withContents(path, parse)  // larger than the buffer
            case .failed(let error): failure = FileReadError(path: path, errno: error)
            }
            Glibc.close(descriptor)
            descriptor = -1
        }
        return .failure(failure)
    }

    /// Closes the descriptor now (the job ended); a later read opens it again.
    public func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }
}

/// A buffer allocated once and reused for every read of a tick (freed with its owner).
public final class ReadBuffer: @unchecked Sendable {
    public let bytes: UnsafeMutableRawBufferPointer

    public init(byteCount: Int) { bytes = .allocate(byteCount: byteCount, alignment: 16) }

    deinit { bytes.deallocate() }
}
