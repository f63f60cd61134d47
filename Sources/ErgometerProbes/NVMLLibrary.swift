import CNVML

/// An NVML call that did not succeed: the return code and NVML's own words for it.
public struct NVMLError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String

    public var isNotSupported: Bool { code == ERGO_NVML_ERROR_NOT_SUPPORTED || code == ERGO_NVML_ERROR_FUNCTION_NOT_FOUND }
    public var isGPULost: Bool { code == ERGO_NVML_ERROR_GPU_IS_LOST }
    public var description: String { "\(message) (NVML \(code))" }

    static func missing(_ symbol: String) -> NVMLError {
        NVMLError(code: ERGO_NVML_ERROR_FUNCTION_NOT_FOUND, message: "\(symbol) is not in this NVML")
    }
}

/// One GPU NVML enumerates: its handle and who it is.
public struct NVMLDevice: Sendable, Equatable {
    public var index: Int
    /// The nvmlDevice_t, as an address (handles stay valid until nvmlShutdown).
    var handleBits: UInt
    public var uuid: String
    public var name: String
    /// `0000:3b:00.0`, as libpci and sysfs write it; nil when NVML cannot say.
    public var pciSlot: String?

    var handle: ergo_nvml_device? { ergo_nvml_device(bitPattern: handleBits) }
}

/// NVIDIA's management library, loaded at run time (dlopen, then dlsym per entry point: no
/// build-time NVIDIA dependency) and initialized. Only nvmlInit_v2, nvmlShutdown and the two
/// enumeration calls are required; every other call answers `NVMLError` (`isNotSupported` when
/// the library lacks it), and the callers degrade. NVML is thread-safe; the entry points do not
/// change after loading.
public final class NVMLLibrary: @unchecked Sendable {
    /// Where the library is looked up when no path is configured (the driver's soname).
    public static let defaultPath = "libnvidia-ml.so.1"

    private var table: ergo_nvml_library
    public let path: String
    public let driverVersion: String?
    /// The optional entry points this library lacks (an old driver, a stub).
    public let missingEntryPoints: [String]

    /// Loads and initializes NVML, or says why no NVIDIA GPU can be read (no library, not NVML,
    /// nvmlInit_v2 failing: no driver loaded, no device).
    public static func load(path: String = defaultPath) -> Result<NVMLLibrary, NVMLUnavailable> {
        var table = ergo_nvml_library()
        var error = [CChar](repeating: 0, count: 512)
        guard ergo_nvml_open(path, &table, &error, error.count) == 0 else {
            return .failure(NVMLUnavailable(path: path, reason: "cannot load " + Self.text(error)))
        }
        let status = table.init_v2()
        guard status == ERGO_NVML_SUCCESS else {
            let message = table.error_string.map { ($0(status).map { String(cString: $0) } ?? "error \(status)") } ?? "error \(status)"
            ergo_nvml_close(&table)
            return .failure(NVMLUnavailable(path: path, reason: "nvmlInit_v2 failed: \(message) (NVML \(status))"))
        }
        return .success(NVMLLibrary(path: path, table: table))
    }

    private init(path: String, table: ergo_nvml_library) {
        self.path = path
        self.table = table
        var names = [CChar](repeating: 0, count: 1024)
        ergo_nvml_missing(&self.table, &names, names.count)
        let missing = Self.text(names)
        missingEntryPoints = missing.isEmpty ? [] : missing.split(separator: ",").map { $0.trimmingPrefix(" ").description }
        if let call = table.system_get_driver_version {
            var version = [CChar](repeating: 0, count: 96)
            driverVersion = call(&version, UInt32(version.count)) == ERGO_NVML_SUCCESS ? Self.text(version) : nil
        } else {
            driverVersion = nil
        }
    }

    /// A NUL-terminated C string in a buffer.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        _ = table.shutdown()
        ergo_nvml_close(&table)
    }

    private func check(_ status: ergo_nvml_return) -> NVMLError? {
        guard status != ERGO_NVML_SUCCESS else { return nil }
        let message = table.error_string.map { ($0(status).map { String(cString: $0) } ?? "error \(status)") } ?? "error"
        return NVMLError(code: status, message: message)
    }

    public func deviceCount() -> Result<Int, NVMLError> {
        var count: UInt32 = 0
        if let error = check(table.device_get_count_v2(&count)) { return .failure(error) }
        return .success(Int(count))
    }

    /// The GPU at `index` with its UUID, name and PCI slot (each empty or nil when NVML cannot say).
    public func device(at index: Int) -> Result<NVMLDevice, NVMLError> {
        var handle: ergo_nvml_device?
        if let error = check(table.device_get_handle_by_index_v2(UInt32(index), &handle)) { return .failure(error) }
        var text = [CChar](repeating: 0, count: 96)
        var uuid = "GPU-index-\(index)"
        if let call = table.device_get_uuid, call(handle, &text, UInt32(text.count)) == ERGO_NVML_SUCCESS { uuid = Self.text(text) }
        var name = "NVIDIA GPU"
        if let call = table.device_get_name, call(handle, &text, UInt32(text.count)) == ERGO_NVML_SUCCESS { name = Self.text(text) }
        var slot: String?
        var pci = ergo_nvml_pci_info()
        if let call = table.device_get_pci_info_v3, call(handle, &pci) == ERGO_NVML_SUCCESS {
            let busID = withUnsafeBytes(of: &pci.bus_id) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            slot = Self.pciSlot(domain: pci.domain, bus: pci.bus, device: pci.device, busID: busID)
        }
        return .success(NVMLDevice(index: index, handleBits: UInt(bitPattern: handle), uuid: uuid, name: name, pciSlot: slot))
    }

    /// `0000:3b:00.0` from NVML's fields (its own bus id string has an 8-digit domain, upper case).
    static func pciSlot(domain: UInt32, bus: UInt32, device: UInt32, busID: String) -> String {
        let function = busID.split(separator: ".").last.flatMap { UInt32($0, radix: 16) } ?? 0
        func hex(_ value: UInt32, _ digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        return "\(hex(domain, 4)):\(hex(bus, 2)):\(hex(device, 2)).\(hex(function, 1))"
    }

    /// The total-energy counter, mJ since the driver loaded (Volta and newer).
    public func totalEnergyMillijoules(_ device: NVMLDevice) -> Result<UInt64, NVMLError> {
        guard let call = table.device_get_total_energy_consumption else { return .failure(.missing("nvmlDeviceGetTotalEnergyConsumption")) }
        var value: UInt64 = 0
        if let error = check(call(device.handle, &value)) { return .failure(error) }
        return .success(value)
    }

    /// Board power, mW (a 1-s average on most Ampere-and-later boards).
    public func powerMilliwatts(_ device: NVMLDevice) -> Result<UInt32, NVMLError> {
        guard let call = table.device_get_power_usage else { return .failure(.missing("nvmlDeviceGetPowerUsage")) }
        var value: UInt32 = 0
        if let error = check(call(device.handle, &value)) { return .failure(error) }
        return .success(value)
    }

    /// GPU and memory utilization, percent over the driver's last sample period.
    public func utilization(_ device: NVMLDevice) -> Result<(gpu: UInt32, memory: UInt32), NVMLError> {
        guard let call = table.device_get_utilization_rates else { return .failure(.missing("nvmlDeviceGetUtilizationRates")) }
        var value = ergo_nvml_utilization()
        if let error = check(call(device.handle, &value)) { return .failure(error) }
        return .success((value.gpu, value.memory))
    }

    /// Whether MIG mode is on (per-instance power is then not visible).
    public func migEnabled(_ device: NVMLDevice) -> Result<Bool, NVMLError> {
        guard let call = table.device_get_mig_mode else { return .failure(.missing("nvmlDeviceGetMigMode")) }
        var current: UInt32 = 0
        var pending: UInt32 = 0
        if let error = check(call(device.handle, &current, &pending)) { return .failure(error) }
        return .success(current == 1)
    }

    /// The compute processes on the GPU, into `buffer` (grown and asked again when NVML answers
    /// INSUFFICIENT_SIZE with the count it needs); returns how many were written.
    func runningProcesses(_ device: NVMLDevice, into buffer: inout [ergo_nvml_process_info]) -> Result<Int, NVMLError> {
        guard let call = table.device_get_compute_running_processes_v3 else { return .failure(.missing("nvmlDeviceGetComputeRunningProcesses_v3")) }
        return readList(into: &buffer, empty: ergo_nvml_process_info(), what: "process list") { entries, count in call(device.handle, &count, entries) }
    }

    /// Per-process utilization samples newer than `since` (µs, the last timestamp seen), into
    /// `buffer` (grown as NVML asks); returns how many were written. No sample since then is 0.
    func processUtilization(_ device: NVMLDevice, since: UInt64, into buffer: inout [ergo_nvml_process_sample]) -> Result<Int, NVMLError> {
        guard let call = table.device_get_process_utilization else { return .failure(.missing("nvmlDeviceGetProcessUtilization")) }
        return readList(into: &buffer, empty: ergo_nvml_process_sample(), what: "sample list") { entries, count in
            let status = call(device.handle, entries, &count, since)
            if status == ERGO_NVML_ERROR_NOT_FOUND { count = 0; return ERGO_NVML_SUCCESS }  // no sample since then
            return status
        }
    }

    /// One of NVML's list calls into `buffer`, which grows (at most three times) while the library
    /// answers INSUFFICIENT_SIZE with the count it needs; returns how many entries were written.
    private func readList<Entry>(
        into buffer: inout [Entry], empty: Entry, what: String, _ call: (UnsafeMutablePointer<Entry>?, inout UInt32) -> ergo_nvml_return
    ) -> Result<Int, NVMLError> {
        for _ in 0..<4 {
            var count = UInt32(buffer.count)
            let status = buffer.withUnsafeMutableBufferPointer { call($0.baseAddress, &count) }
            if status == ERGO_NVML_ERROR_INSUFFICIENT_SIZE {
                buffer = [Entry](repeating: empty, count: max(Int(count) + 8, buffer.count * 2))
                continue
            }
            if let error = check(status) { return .failure(error) }
            return .success(min(Int(count), buffer.count))
        }
        return .failure(NVMLError(code: ERGO_NVML_ERROR_INSUFFICIENT_SIZE, message: "the \(what) kept growing while it was read"))
    }
}

/// Why no NVIDIA GPU is read: the library path tried and what went wrong. Not an error: most
/// boxes have no NVIDIA GPU.
public struct NVMLUnavailable: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "no NVIDIA GPU readable: \(reason)" }
}
