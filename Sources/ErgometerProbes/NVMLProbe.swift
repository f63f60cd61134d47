import CNVML
public import ErgometerCore

/// `ergo probe`'s view of NVML: every GPU it enumerates, each call answered or noted.
public enum NVMLProbe {
    /// The library's status, loaded from `path` (the driver's soname when nil).
    public static func load(path: String?) -> (NVMLLibrary?, NVMLStatus) {
        let path = path ?? NVMLLibrary.defaultPath
        switch NVMLLibrary.load(path: path) {
        case .failure(let failure):
            return (nil, NVMLStatus(library: path, readable: false, reason: failure.description, driverVersion: nil, missingEntryPoints: []))
        case .success(let library):
            return (library, NVMLStatus(
                library: path, readable: true, reason: nil, driverVersion: library.driverVersion, missingEntryPoints: library.missingEntryPoints))
        }
    }

    /// Every GPU now.
    public static func read(_ library: NVMLLibrary) -> [NVMLGPUReading] {
        guard case .success(let count) = library.deviceCount() else { return [] }
        var infos = [ergo_nvml_process_info](repeating: ergo_nvml_process_info(), count: 32)
        var samples = [ergo_nvml_process_sample](repeating: ergo_nvml_process_sample(), count: 64)
        return (0..<count).map { index in
            guard case .success(let device) = library.device(at: index) else {
                var reading = NVMLGPUReading(index: index, uuid: "unknown", name: "unknown", pciSlot: nil)
                reading.lost = true
                reading.notes.append("its handle could not be had (lost, or gone)")
                return reading
            }
            var reading = NVMLGPUReading(index: index, uuid: device.uuid, name: device.name, pciSlot: device.pciSlot)
            func note(_ call: String, _ error: NVMLError) {
                if error.isGPULost { reading.lost = true }
                reading.notes.append("\(call): \(error)")
            }
            switch library.totalEnergyMillijoules(device) {
            case .success(let value): reading.energyMillijoules = value
            case .failure(let error): note("energy counter", error)
            }
            switch library.powerMilliwatts(device) {
            case .success(let value): reading.powerMilliwatts = value
            case .failure(let error): note("power", error)
            }
            switch library.utilization(device) {
            case .success(let rates):
                reading.gpuUtilizationPercent = rates.gpu
                reading.memoryUtilizationPercent = rates.memory
            case .failure(let error): note("utilization", error)
            }
            switch library.migEnabled(device) {
            case .success(let mig): reading.migEnabled = mig
            case .failure(let error): note("MIG mode", error)
            }
            switch library.runningProcesses(device, into: &infos) {
            case .success(let count):
                reading.processes = infos.prefix(count).map { info in
                    // NVML answers an all-ones memory figure where it cannot say (no privilege, MIG).
                    NVMLGPUReading.Process(pid: Int32(bitPattern: info.pid), usedMemoryBytes: info.used_gpu_memory == UInt64.max ? nil : info.used_gpu_memory, smPercent: nil)
                }
            case .failure(let error): note("processes", error)
            }
            switch library.processUtilization(device, since: 0, into: &samples) {
            case .success(let count):
                for sample in samples.prefix(count) {
                    let pid = Int32(bitPattern: sample.pid)
                    if let known = reading.processes.firstIndex(where: { $0.pid == pid }) {
                        reading.processes[known].smPercent = max(reading.processes[known].smPercent ?? 0, sample.sm_util)
                    } else {
                        reading.processes.append(.init(pid: pid, usedMemoryBytes: nil, smPercent: sample.sm_util))
                    }
                }
            case .failure(let error): note("per-process utilization", error)
            }
            return reading
        }
    }
}
