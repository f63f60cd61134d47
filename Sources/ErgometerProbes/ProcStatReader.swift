public import ErgometerCore

/// Reads the CPU lines of `/proc/stat` (kernel docs: Documentation/filesystems/proc.rst, 1.8).
///
///     cpu  user nice system idle iowait irq softirq steal guest guest_nice
///
/// Values are USER_HZ ticks. guest and guest_nice are already counted in user and nice.
/// The sampler reads this every tick, so the parser walks the bytes once and stops after the
/// CPU lines (the `intr` line after them can be kilobytes long).
public enum ProcStatReader {
    public static func read(procfs: ProcFS) -> Result<CPUStat, FileReadError> {
        let path = procfs.path("stat")
        return SysfsFile.withContents(path, parse(bytes:)).flatMap { stat in
            stat.map { .success($0) } ?? .failure(FileReadError(path: path, errno: 0, detail: "(no cpu line)"))
        }
    }

    /// As `read(procfs:)`, into a buffer the caller keeps (the sampler's, every tick).
    public static func read(procfs: ProcFS, buffer: UnsafeMutableRawBufferPointer) -> Result<CPUStat, FileReadError> {
        let path = procfs.path("stat")
        return SysfsFile.withContents(path, buffer: buffer, parse(bytes:)).flatMap { stat in
            stat.map { .success($0) } ?? .failure(FileReadError(path: path, errno: 0, detail: "(no cpu line)"))
        }
    }

    /// As `read(procfs:buffer:)`, through a descriptor kept open (the live /proc: one `pread` a tick).
    public static func read(file: KeptOpenFile, buffer: UnsafeMutableRawBufferPointer) -> Result<CPUStat, FileReadError> {
        file.read(into: buffer, parse(bytes:)).flatMap { stat in
            stat.map { .success($0) } ?? .failure(FileReadError(path: file.path, errno: 0, detail: "(no cpu line)"))
        }
    }

    /// Parses the text of `/proc/stat`; nil when it has no aggregate `cpu` line.
    public static func parse(_ text: Substring) -> CPUStat? {
        Array(text.utf8).withUnsafeBufferPointer(parse(bytes:))
    }

    /// Parses the bytes of `/proc/stat`; nil when they hold no aggregate `cpu` line.
    public static func parse(bytes: UnsafeBufferPointer<UInt8>) -> CPUStat? {
        var total: CPUTimes?
        var perCPU: [(cpu: Int, times: CPUTimes)] = []
        var index = 0
        let end = bytes.count
        while index < end {
            let isCPULine = index + 3 <= end && bytes[index] == 0x63 && bytes[index + 1] == 0x70 && bytes[index + 2] == 0x75
            if !isCPULine {
                if total != nil { break }  // the cpu lines come first and together
                index = nextLine(bytes, from: index)
                continue
            }
            index += 3
            // `cpu` alone is the aggregate line, `cpuN` one CPU's.
            var number: Int?
            if index < end, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                guard let value = DecimalDigits.scan(bytes, at: &index), value < 1 << 31 else { return nil }
                number = Int(value)
            }
            var fields = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
            var count = 0
            while count < 8 {
                while index < end, bytes[index] == 0x20 { index += 1 }
                guard index < end, bytes[index] >= 0x30, bytes[index] <= 0x39 else { break }
                guard let value = DecimalDigits.scan(bytes, at: &index) else { return nil }  // no kernel writes that: not /proc/stat
                switch count {
                case 0: fields.0 = value
                case 1: fields.1 = value
                case 2: fields.2 = value
                case 3: fields.3 = value
                case 4: fields.4 = value
                case 5: fields.5 = value
                case 6: fields.6 = value
                default: fields.7 = value
                }
                count += 1
            }
            index = nextLine(bytes, from: index)
            guard count >= 4 else { continue }
            // user nice system idle iowait irq softirq steal
            // Sums that overflow (fields near 2^64: ergometer-fuzz) mean garbage, not a machine.
            guard let busy = Self.sum([fields.0, fields.1, fields.2, fields.5, fields.6]), let idle = Self.sum([fields.3, fields.4]) else {
                return nil
            }
            let times = CPUTimes(busyTicks: busy, idleTicks: idle, stealTicks: fields.7)
            if let number {
                perCPU.append((number, times))
            } else {
                total = times
            }
        }
        return total.map { CPUStat(total: $0, perCPU: perCPU) }
    }

    private static func sum(_ values: [UInt64]) -> UInt64? {
        var total: UInt64 = 0
        for value in values {
            let (next, overflow) = total.addingReportingOverflow(value)
            if overflow { return nil }
            total = next
        }
        return total
    }

    private static func nextLine(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        while index < bytes.count, bytes[index] != 0x0A { index += 1 }
        return index + 1
    }
}
