#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Directory listing and link following for sysfs trees, real or captured.
enum Directory {
    /// Entry names of a directory, without `.` and `..`, in natural order (`hwmon2` before
    /// `hwmon10`); an error when the directory cannot be opened.
    static func entries(_ path: String) -> Result<[String], FileReadError> {
        guard let dir = opendir(path) else { return .failure(FileReadError(path: path, errno: errno)) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return .success(names.sorted(by: naturalOrder))
    }

    /// Names of the directories in a directory, in the order the file system lists them, told
    /// apart by the entry's type (cgroupfs and sysfs give it) without a stat each.
    static func subdirectories(_ path: String) -> Result<[String], FileReadError> {
        KeptOpenDirectory(path: path).subdirectories().map { listing in
            guard case .changed(let names) = listing else { return [] }  // a first listing always is
            return names
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Where a link points: the symlink's target, or, in a captured tree whose archiver turned
    /// symlinks into small files holding their target (`../../devices/...`), that file's content.
    /// Nil when `path` is neither.
    static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        if count >= 0 {
            return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        guard errno == EINVAL, case .success(let content) = SysfsFile.readLine(path),
            content.hasPrefix("../") || content.hasPrefix("/"), !content.contains(" ")
        else { return nil }
        return content
    }

    /// The directory `path` stands for: itself, or where its link (or captured link) points.
    /// Nil when neither leads to a directory; the second value is the resolved path even then.
    static func resolve(_ path: String) -> (directory: String?, resolved: String) {
        var current = path
        for _ in 0..<8 {
            if isDirectory(current) { return (current, current) }
            guard let target = linkTarget(current) else { return (nil, current) }
            current = FilePath.resolve(target, relativeTo: FilePath.parent(current))
        }
        return (nil, current)
    }

    /// `hwmon2` < `hwmon10`, `intel-rapl:2` < `intel-rapl:a` stays lexical for hex ids.
    static func naturalOrder(_ lhs: String, _ rhs: String) -> Bool {
        let (lhsStem, lhsNumber) = splitTrailingNumber(lhs)
        let (rhsStem, rhsNumber) = splitTrailingNumber(rhs)
        if lhsStem == rhsStem, let lhsNumber, let rhsNumber, lhsNumber != rhsNumber { return lhsNumber < rhsNumber }
        return lhs < rhs
    }

    private static func splitTrailingNumber(_ name: String) -> (Substring, Int?) {
        let digits = name.reversed().prefix(while: \.isNumber).count
        guard digits > 0, digits < 18 else { return (name[...], nil) }
        let split = name.index(name.endIndex, offsetBy: -digits)
        return (name[..<split], Int(name[split...]))
    }
}
