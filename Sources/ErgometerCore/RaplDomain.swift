/// What a powercap RAPL zone measures, from its `name` file.
///
/// The zone directory index says nothing: `intel-rapl:0` can be `package-3`, a `dram` subzone
/// can be `intel-rapl:0:0`, and ids past 9 are hexadecimal (`intel-rapl:a` is `package-10`).
/// The socket number is the decimal suffix of the package's name.
public enum RaplDomain: String, Codable, Sendable, CaseIterable {
    /// A whole CPU package; includes its core and uncore energy.
    case package
    /// The cores of a package (a subset of `package`).
    case core
    /// The uncore / integrated GPU of a package (a subset of `package`).
    case uncore
    /// Memory attached to a package; not part of `package`.
    case dram
    /// The whole platform (SoC and more); overlaps the packages.
    case psys
    /// A name this version does not know; reported, never summed.
    case other

    /// Classifies a zone `name` file's content (`package-0`, `core`, `dram`, `psys`, ...).
    /// - Returns: the domain and, for `package-N`, the socket number N.
    public static func classify(zoneName: String) -> (domain: RaplDomain, socket: Int?) {
        if zoneName.hasPrefix("package-") {
            return (.package, Int(zoneName.dropFirst("package-".count)))
        }
        if zoneName == "package" { return (.package, nil) }
        return (RaplDomain(rawValue: zoneName) ?? .other, nil)
    }
}

/// Where a zone sits in the powercap tree, from its directory name.
///
/// `intel-rapl:1:2` is subzone 2 of top-level zone 1 of control type `intel-rapl`. Ids are
/// printed in hexadecimal by the kernel. `intel-rapl-mmio` zones measure a package a second
/// time through MMIO, so they are never added to the host's energy.
public struct PowercapZoneID: Hashable, Sendable, Comparable {
    public var controlType: String
    public var path: [Int]

    /// Parses a directory name such as `intel-rapl:a:0`; nil for the control type directory
    /// itself (`intel-rapl`) or anything that is not a zone.
    public init?(directoryName: String) {
        let parts = directoryName.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, !parts[0].isEmpty else { return nil }
        var indices: [Int] = []
        for part in parts.dropFirst() {
            guard let index = Int(part, radix: 16), index >= 0 else { return nil }
            indices.append(index)
        }
        controlType = String(parts[0])
        path = indices
    }

    public var isTopLevel: Bool { path.count == 1 }

    /// The zone this one is a subzone of; nil for a top-level zone.
    public var parent: PowercapZoneID? {
        guard path.count > 1 else { return nil }
        var parent = self
        parent.path.removeLast()
        return parent
    }

    /// True for zones read through a second interface (`intel-rapl-mmio`), which duplicate a package.
    public var isDuplicateInterface: Bool { controlType.hasSuffix("-mmio") }

    public static func < (lhs: PowercapZoneID, rhs: PowercapZoneID) -> Bool {
        if lhs.controlType != rhs.controlType { return lhs.controlType < rhs.controlType }
        return lhs.path.lexicographicallyPrecedes(rhs.path)
    }
}
