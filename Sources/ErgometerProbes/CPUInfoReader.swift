public import ErgometerCore

/// Reads `/proc/cpuinfo`: the CPU model, how many logical CPUs, sockets, and whether this is a VM.
public enum CPUInfoReader {
    public static func read(procfs: ProcFS) -> Result<CPUInfo, FileReadError> {
        let path = procfs.path("cpuinfo")
        return SysfsFile.readText(path).flatMap { text in
            parse(text[...]).map { .success($0) }
                ?? .failure(FileReadError(path: path, errno: 0, detail: "(no processor entry)"))
        }
    }

    /// Parses `/proc/cpuinfo`; nil when it lists no processor. The model is `model name`
    /// (x86), else `Model` or `cpu model` (Arm boards, MIPS), else `unknown`.
    public static func parse(_ text: Substring) -> CPUInfo? {
        var processors = 0
        var model: String?
        var fallbackModel: String?
        var physicalIDs = Set<Substring>()
        var virtualized = false
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: " \t")
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            switch key {
            case "processor": processors += 1
            case "model name": if model == nil { model = String(value) }
            case "Model", "cpu model", "Hardware": if fallbackModel == nil { fallbackModel = String(value) }
            case "physical id": physicalIDs.insert(value)
            case "flags":
                if !virtualized { virtualized = value.split(separator: " ").contains("hypervisor") }
            default: continue
            }
        }
        guard processors > 0 else { return nil }
        return CPUInfo(
            model: model ?? fallbackModel ?? "unknown", logicalCPUs: processors, sockets: max(physicalIDs.count, 1),
            virtualized: virtualized
        )
    }
}
