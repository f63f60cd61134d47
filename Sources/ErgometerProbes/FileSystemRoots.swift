/// A sysfs tree: `/sys` on the machine, any directory in tests (`--sysfs-root`).
///
/// Every sysfs path in Ergometer is built from one of these, the way prometheus/procfs and
/// node_exporter carry `--path.sysfs`; no reader names `/sys` itself.
public struct SysFS: Sendable, Equatable {
    public var root: String
    /// Whether the tree's writers change its files in place, as the kernel does (a fixture
    /// whose counters are written through a mapping), so that kept-open files see each new
    /// value; false: they may rename a new file over the old (`KernelFileSystem`).
    public var changesInPlace: Bool

    public init(root: String = "/sys", changesInPlace: Bool = false) {
        self.root = FilePath.normalized(root)
        self.changesInPlace = changesInPlace
    }

    /// True when this is the running kernel's sysfs rather than a fixture tree.
    public var isLiveSystem: Bool { root == "/sys" }

    public func path(_ relative: String) -> String { FilePath.join(root, relative) }
}

/// A procfs tree: `/proc` on the machine, any directory in tests (`--procfs-root`).
public struct ProcFS: Sendable, Equatable {
    public var root: String
    /// As `SysFS.changesInPlace`.
    public var changesInPlace: Bool

    public init(root: String = "/proc", changesInPlace: Bool = false) {
        self.root = FilePath.normalized(root)
        self.changesInPlace = changesInPlace
    }

    public func path(_ relative: String) -> String { FilePath.join(root, relative) }
}

/// Small path helpers; Foundation's URL is more than these readers need.
enum FilePath {
    static func normalized(_ path: String) -> String {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path.isEmpty ? "." : path
    }

    static func join(_ base: String, _ relative: String) -> String {
        if relative.isEmpty { return base }
        return base.hasSuffix("/") ? base + relative : base + "/" + relative
    }

    static func lastComponent(_ path: String) -> String {
        let trimmed = normalized(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    static func parent(_ path: String) -> String {
        let trimmed = normalized(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// Resolves `target` (a link's content) relative to the directory holding the link,
    /// folding `.` and `..` lexically as the kernel does for sysfs links.
    static func resolve(_ target: String, relativeTo directory: String) -> String {
        let start = target.hasPrefix("/") ? target : join(directory, target)
        var parts: [Substring] = []
        for part in start.split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                // A relative path keeps the `..` it cannot fold (`../shared/...`).
                if let last = parts.last, last != ".." { parts.removeLast() } else if !start.hasPrefix("/") { parts.append(part) }
            default: parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        return start.hasPrefix("/") ? "/" + joined : joined
    }
}
