
#if canImport(Glibc)
import Glibc
#endif

/// GPU engine time of processes on AMD and Intel GPUs, from the kernel's DRM client usage
/// stats in `/proc/<pid>/fdinfo/<fd>` (Documentation/gpu/drm-usage-stats.rst), as nvtop and
/// intel_gpu_top read them: `drm-pdev` names the GPU's PCI function, `drm-client-id` the open
/// DRM file (shared by dup'ed descriptors and forked processes: counted once), and
/// `drm-engine-<name>: <ns> ns` its busy time per engine. Drivers that count in cycles
/// (`xe`: `drm-cycles-<name>`) are summed the same way; within one GPU the unit is its own.
///
/// Only the descriptors that point into `/dev/dri/` are opened (one `readlink` each), and only
/// for the processes asked about: never a scan of every process.
public struct DRMUsageReader: Sendable {
    public var procfs: ProcFS

    public init(procfs: ProcFS) {
        self.procfs = procfs
    }

    /// One DRM client as an fdinfo file describes it.
    public struct Client: Equatable, Sendable {
        public var pciSlot: String
        public var clientID: UInt64
        /// Σ `drm-engine-*` ns, else Σ `drm-cycles-*`.
        public var busy: UInt64
    }

    /// Parses one fdinfo file; nil for a descriptor that is not a DRM client with a `drm-pdev`.
    public static func parse(_ text: Substring) -> Client? {
        var slot: Substring?
        var clientID: UInt64?
        var nanoseconds: UInt64 = 0
        var cycles: UInt64 = 0
        for line in text.split(separator: "\n") {
            guard line.hasPrefix("drm-"), let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon]
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            if key == "drm-pdev" {
                slot = value
            } else if key == "drm-client-id" {
                clientID = UInt64(value)
            } else if key.hasPrefix("drm-engine-"), !key.hasPrefix("drm-engine-capacity-"), value.hasSuffix(" ns") {
                nanoseconds &+= UInt64(value.dropLast(3)) ?? 0
            } else if key.hasPrefix("drm-cycles-") {
                cycles &+= UInt64(value) ?? 0
            }
        }
        guard let slot, !slot.isEmpty, let clientID else { return nil }
        return Client(pciSlot: String(slot), clientID: clientID, busy: nanoseconds > 0 ? nanoseconds : cycles)
    }

    /// Busy time per GPU (PCI slot) of the DRM clients the processes hold, each client once.
    public func usage(of pids: [Int32]) -> [String: UInt64] {
        var seen = Set<String>()
        var usage: [String: UInt64] = [:]
        for pid in pids {
            for client in clients(of: pid) where seen.insert(client.pciSlot + "/" + String(client.clientID)).inserted {
                usage[client.pciSlot, default: 0] &+= client.busy
            }
        }
        return usage
    }

    /// The DRM clients a process holds; none when it is gone or its descriptors are not ours
    /// to read.
    public func clients(of pid: Int32) -> [Client] {
        let fdDirectory = procfs.path("\(pid)/fd")
        guard case .success(let descriptors) = Directory.entries(fdDirectory) else { return [] }
        var clients: [Client] = []
        for descriptor in descriptors {
            guard let target = Directory.linkTarget(FilePath.join(fdDirectory, descriptor)), target.hasPrefix("/dev/dri/"),
                let text = try? SysfsFile.readText(procfs.path("\(pid)/fdinfo/\(descriptor)")).get(),
                let client = Self.parse(text[...])
            else { continue }
            clients.append(client)
        }
        return clients
    }
}
