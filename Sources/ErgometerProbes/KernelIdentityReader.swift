import ErgometerCore

/// Small facts about the running kernel: the boot id and total memory.
public enum KernelIdentityReader {
    /// `/proc/sys/kernel/random/boot_id`: a UUID that changes on every boot. Energy counters
    /// read in different boots are never subtracted.
    public static func bootID(procfs: ProcFS) -> Result<String, FileReadError> {
        let path = procfs.path("sys/kernel/random/boot_id")
        return SysfsFile.readLine(path).flatMap { id in
            id.count >= 32 ? .success(id) : .failure(FileReadError(path: path, errno: 0, detail: "\"\(id)\""))
        }
    }

    /// `MemTotal` of `/proc/meminfo`, in bytes.
    public static func memoryTotalBytes(procfs: ProcFS) -> Result<UInt64, FileReadError> {
        let path = procfs.path("meminfo")
        return SysfsFile.readText(path).flatMap { text in
            parseMemTotal(text[...]).map { .success($0) }
                ?? .failure(FileReadError(path: path, errno: 0, detail: "(no MemTotal line)"))
        }
    }

    /// Parses `MemTotal:       24532416 kB` out of `/proc/meminfo`.
    public static func parseMemTotal(_ text: Substring) -> UInt64? {
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kibibytes = UInt64(fields[1]) else { return nil }
            let unit = fields.count >= 3 ? fields[2] : "kB"
            return unit == "kB" ? kibibytes * 1024 : kibibytes
        }
        return nil
    }
}
