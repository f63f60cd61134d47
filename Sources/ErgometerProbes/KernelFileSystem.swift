import CFileSystemType

/// Whether a file lies on a file system the kernel generates (procfs, sysfs, cgroupfs): such a
/// file is never replaced by another, so a descriptor kept open on it reads the live value for
/// as long as it exists. Fixture trees (tmpfs, ext4) are not: their writers rename a new file
/// over the old one (as `scripts/advance-fixture-counters` does), which a kept descriptor would
/// not see, so their files are opened for each read, unless the tree says its writers change
/// files in place (`SysFS.changesInPlace`, `daemon.roots_change_in_place`).
public enum KernelFileSystem {
    /// `statfs(2)` magic numbers (linux/magic.h).
    static let generated: Set<Int> = [0x9fa0 /* proc */, 0x6265_6572 /* sysfs */, 0x6367_7270 /* cgroup2 */, 0x0027_e0eb /* cgroup */]

    public static func isGenerated(_ path: String) -> Bool {
        generated.contains(ergo_file_system_type(path))
    }

    /// A kept-open file for `path` when the kernel generates it or its tree's writers change
    /// files in place, else nil (open per read).
    public static func keptOpenIfSafe(_ path: String, treeChangesInPlace: Bool) -> KeptOpenFile? {
        treeChangesInPlace || isGenerated(path) ? KeptOpenFile(path: path) : nil
    }
}
