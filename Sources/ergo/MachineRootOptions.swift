import ArgumentParser
import ErgometerProbes

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where the machine is read from: the live kernel, or a captured tree for tests and demos.
struct MachineRootOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Root of the sysfs tree (powercap, hwmon, PCI).", valueName: "DIR"))
    var sysfsRoot: String = "/sys"

    @Option(help: ArgumentHelp("Root of the procfs tree (stat, cpuinfo, meminfo, boot_id).", valueName: "DIR"))
    var procfsRoot: String = "/proc"

    var sysfs: SysFS { SysFS(root: sysfsRoot) }
    var procfs: ProcFS { ProcFS(root: procfsRoot) }

    func validate() throws {
        for (flag, path) in [("--sysfs-root", sysfsRoot), ("--procfs-root", procfsRoot)] where !isDirectory(path) {
            throw ValidationError("\(flag) \(path): not a directory. Give the root of a sysfs/procfs tree, e.g. \(flag == "--sysfs-root" ? "/sys" : "/proc") or a fixture's sys/ or proc/ folder.")
        }
    }

    private func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
