internal import CPCI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import ErgometerCore

/// Lists PCI devices through libpci's sysfs back end, with names from pci.ids
/// (Debian's `pci.ids` package, `/usr/share/misc/pci.ids`).
public struct PCIReader: Sendable {
    public var sysfs: SysFS
    /// A pci.ids file to use instead of libpci's default.
    public var idsFile: String?

    public init(sysfs: SysFS, idsFile: String? = nil) {
        self.sysfs = sysfs
        self.idsFile = idsFile
    }

    public func read() -> (devices: [PCIDevice], issues: [ProbeIssue]) {
        let busDirectory = sysfs.path("bus/pci")
        guard Directory.isDirectory(FilePath.join(busDirectory, "devices")) else {
            if Directory.exists(FilePath.join(busDirectory, "devices")) || Directory.exists(busDirectory) {
                return ([], [ProbeIssue(path: busDirectory, message: "bus/pci/devices is not a directory; no PCI inventory")])
            }
            return ([], [])  // no PCI bus (many VMs and fixture trees): nothing to report
        }
        // libpci follows real symlinks only; a captured tree gets a staging folder of real ones.
        var staging: CapturedLinkStaging?
        var libpciDirectory = busDirectory
        if let staged = CapturedLinkStaging(devicesDirectory: FilePath.join(busDirectory, "devices")) {
            staging = staged
            libpciDirectory = staged.busDirectory
        }
        defer { staging?.remove() }
        var capacity = 256
        while true {
            var raw = [ergo_pci_device](repeating: ergo_pci_device(), count: capacity)
            var error = [CChar](repeating: 0, count: 512)
            let count = libpciDirectory.withCString { path in
                if let idsFile {
                    return idsFile.withCString { ids in
                        ergo_pci_list(path, ids, &raw, Int32(capacity), &error, error.count)
                    }
                }
                return ergo_pci_list(path, nil, &raw, Int32(capacity), &error, error.count)
            }
            if count < 0 {
                let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return ([], [ProbeIssue(path: busDirectory, message: "libpci: \(message); no PCI inventory")])
            }
            if Int(count) > capacity {
                capacity = Int(count)
                continue
            }
            let devices = raw.prefix(Int(count)).map(Self.device).sorted { $0.slot < $1.slot }
            return (devices, [])
        }
    }

    private static func device(_ raw: ergo_pci_device) -> PCIDevice {
        var raw = raw
        let vendorID = ScanLite.hex(Int(raw.vendor_id), width: 4)
        let deviceID = ScanLite.hex(Int(raw.device_id), width: 4)
        let classCode = ScanLite.hex(Int(raw.class_code), width: 6)
        let vendor = withUnsafeBytes(of: &raw.vendor_name) { Self.string($0) }
        let device = withUnsafeBytes(of: &raw.device_name) { Self.string($0) }
        let className = withUnsafeBytes(of: &raw.class_name) { Self.string($0) }
        let slot = "\(ScanLite.hex(Int(raw.domain), width: 4)):\(ScanLite.hex(Int(raw.bus), width: 2)):"
            + "\(ScanLite.hex(Int(raw.device), width: 2)).\(raw.function)"
        return PCIDevice(
            slot: slot, class: className.isEmpty ? "Class \(classCode)" : className, classCode: "0x\(classCode)",
            vendor: vendor.isEmpty ? "Vendor \(vendorID)" : vendor, vendorID: "0x\(vendorID)",
            device: device.isEmpty ? "Device \(deviceID)" : device, deviceID: "0x\(deviceID)",
            accelerator: AcceleratorClassifier.isAccelerator(classCode: raw.class_code, vendorID: raw.vendor_id)
        )
    }

    private static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// For trees whose archiver stored `bus/pci/devices/*` symlinks as files holding their target:
/// a temporary `bus/pci/devices` of real symlinks to the resolved device directories.
private struct CapturedLinkStaging {
    let busDirectory: String

    init?(devicesDirectory: String) {
        guard case .success(let entries) = Directory.entries(devicesDirectory) else { return nil }
        var targets: [(String, String)] = []
        for entry in entries {
            let path = FilePath.join(devicesDirectory, entry)
            guard !Directory.isDirectory(path), let resolved = Directory.resolve(path).directory else { continue }
            targets.append((entry, Self.absolute(resolved)))
        }
        guard !targets.isEmpty else { return nil }
        var template = Array("/tmp/ergometer-pci-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { return nil }
        busDirectory = String(cString: created)
        mkdir(FilePath.join(busDirectory, "devices"), 0o700)
        for (name, target) in targets {
            symlink(target, FilePath.join(busDirectory, "devices/\(name)"))
        }
    }

    func remove() {
        if case .success(let entries) = Directory.entries(FilePath.join(busDirectory, "devices")) {
            for entry in entries { unlink(FilePath.join(busDirectory, "devices/\(entry)")) }
        }
        rmdir(FilePath.join(busDirectory, "devices"))
        rmdir(busDirectory)
    }

    private static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let directory = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return FilePath.resolve(path, relativeTo: directory)
    }
}
