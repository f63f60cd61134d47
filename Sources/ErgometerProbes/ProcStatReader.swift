public import ErgometerCore

/// Reads the CPU lines of `/proc/stat` (kernel docs: Documentation/filesystems/proc.rst, 1.8).
///
///     cpu  user nice system idle iowait irq softirq steal guest guest_nice
///
/// Values are USER_HZ ticks. guest and guest_nice are already counted in user and nice.
public enum ProcStatReader {
    public static func read(procfs: ProcFS) -> Result<CPUStat, FileReadError> {
        let path = procfs.path("stat")
        return SysfsFile.readText(path).flatMap { text in
            parse(text[...]).map { .success($0) }
                ?? .failure(FileReadError(path: path, errno: 0, detail: "(no cpu line)"))
        }
    }

    /// Parses the text of `/proc/stat`; nil when it has no aggregate `cpu` line.
    public static func parse(_ text: Substring) -> CPUStat? {
        var total: CPUTimes?
        var perCPU: [(cpu: Int, times: CPUTimes)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard line.hasPrefix("cpu") else {
                if total != nil { break }  // the cpu lines come first and together
                continue
            }
            var fields = line.split(separator: " ", omittingEmptySubsequences: true)[...]
            let label = fields.removeFirst()
            var values = [UInt64](repeating: 0, count: 10)
            var count = 0
            for field in fields.prefix(10) {
                guard let value = UInt64(field) else { break }
                values[count] = value
                count += 1
            }
            guard count >= 4 else { continue }
            let times = CPUTimes(
                busyTicks: values[0] + values[1] + values[2] + values[5] + values[6],
                idleTicks: values[3] + values[4],
                stealTicks: values[7]
            )
            if label == "cpu" {
                total = times
            } else if let number = Int(label.dropFirst(3)) {
                perCPU.append((number, times))
            }
        }
        return total.map { CPUStat(total: $0, perCPU: perCPU) }
    }
}
