import CDirectoryEntries

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A directory listed again and again (discovery lists the same few cgroup folders every two
/// seconds): kept open and read again from its start, so a listing costs a seek and the reads
/// (no path walk, open or close), and compared with the last listing by its subdirectories'
/// inodes and names as bytes, so an unchanged folder makes no `String`.
///
/// Read with getdents64 itself: the kernel refuses to list a directory removed while open
/// (ENOENT), where readdir(3) would call it empty. The folder is then opened again by its path,
/// once, so one removed and made again under the same name is followed, and one that is gone is
/// a failure.
public final class KeptOpenDirectory: @unchecked Sendable {
    public let path: String
    private var descriptor: Int32 = -1
    /// The last listing's subdirectories, each as its inode (8 bytes), name length (2) and name;
    /// nil before the first listing and after a failed one.
    private var signature: [UInt8]?
    private var listing: [UInt8] = []
    private let records = UnsafeMutableRawBufferPointer.allocate(byteCount: 8192, alignment: 8)

    /// A listing: the same subdirectories as the last one, or these (in the file system's order).
    public enum Listing: Equatable, Sendable {
        case unchanged
        case changed([String])
    }

    public init(path: String) { self.path = path }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        records.deallocate()
    }

    /// The subdirectories now, or that they are those of the last listing; an error when the
    /// folder cannot be opened or read (the next listing starts afresh).
    public func subdirectories() -> Result<Listing, FileReadError> {
        var failure: Int32 = 0
        for _ in 0..<2 {
            if descriptor < 0 {
                descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                guard descriptor >= 0 else { return fail(errno) }
                failure = read()
            } else {
                failure = lseek(descriptor, 0, SEEK_SET) < 0 ? errno : read()
            }
            if failure == 0 {
                if listing == signature { return .success(.unchanged) }
                let names = names(in: listing)
                if signature == nil { signature = listing } else { swap(&listing, &signature!) }
                return .success(.changed(names))
            }
            close(descriptor)  // removed while open (ENOENT): open it again by its path
            descriptor = -1
        }
        return fail(failure)
    }

    private func fail(_ error: Int32) -> Result<Listing, FileReadError> {
        signature = nil
        return .failure(FileReadError(path: path, errno: error))
    }

    /// Reads every entry from the descriptor's position into `listing`: 0, or the errno.
    private func read() -> Int32 {
        listing.removeAll(keepingCapacity: true)
        while true {
            let count = ergo_directory_entries(descriptor, records.baseAddress, records.count)
            if count == 0 { return 0 }
            if count < 0 {
                if errno == EINTR { continue }
                return errno
            }
            // struct linux_dirent64: inode (8), offset (8), record length (2), type (1), name.
            var offset = 0
            while offset < count {
                let inode = records.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                let length = Int(records.loadUnaligned(fromByteOffset: offset + 16, as: UInt16.self))
                let type = records.load(fromByteOffset: offset + 18, as: UInt8.self)
                var end = offset + 19
                while end < offset + length, records[end] != 0 { end += 1 }
                add(inode: inode, type: type, name: UnsafeRawBufferPointer(rebasing: records[(offset + 19)..<end]))
                offset += max(length, 20)
            }
        }
    }

    /// Keeps an entry that is a directory (by its type, or a stat where the file system gives
    /// none), not `.` or `..`.
    private func add(inode: UInt64, type: UInt8, name: UnsafeRawBufferPointer) {
        guard type == UInt8(DT_DIR) || type == UInt8(DT_UNKNOWN), !name.isEmpty else { return }
        if name.count <= 2 && name.allSatisfy({ $0 == UInt8(ascii: ".") }) { return }
        if type == UInt8(DT_UNKNOWN) && !Directory.isDirectory(path + "/" + String(decoding: name, as: UTF8.self)) { return }
        withUnsafeBytes(of: inode.littleEndian) { listing.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt16(name.count).littleEndian) { listing.append(contentsOf: $0) }
        listing.append(contentsOf: name)
    }

    private func names(in signature: [UInt8]) -> [String] {
        var names: [String] = []
        var offset = 0
        signature.withUnsafeBytes { bytes in
            while offset < bytes.count {
                let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt16.self).littleEndian)
                let start = offset + 10
                names.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<start + length]), as: UTF8.self))
                offset = start + length
            }
        }
        return names
    }
}
