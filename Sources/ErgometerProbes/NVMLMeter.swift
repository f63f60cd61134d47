import CNVML
public import ErgometerCore

/// The NVIDIA GPUs NVML enumerates, one `gpu` domain each (`gpu-<PCI slot>`, with its UUID and
/// name). Energy from the total-energy counter (mJ since the driver loaded, `nvml-energy`), or,
/// where the board has none, power (mW, `nvml-power`, on most Ampere-and-later boards a 1-s
/// average) integrated by the trapezoid. A counter below its last reading is a driver reload: a
/// new epoch, that interval counted as lost, never subtracted. A GPU that answers GPU_IS_LOST
/// reads 0 until it answers again; its domain keeps what it measured. Each tick also reads each
/// GPU's compute processes and their SM utilization since the last sample seen (`processes`).
public struct NVMLMeter: EnergyMeter {
    /// One GPU and what the next tick needs from the last.
    public struct GPU: Sendable {
        public var device: NVMLDevice
        public var source: EnergySource
        var counter: EnergyCounterReading?
        var gauge = GaugeIntegral()
        public internal(set) var lost = false
        public internal(set) var migEnabled = false
        /// GPU utilization, percent, at the last tick (nil: not readable).
        public internal(set) var utilizationPercent: UInt32?
        /// The newest per-process sample seen (µs): the next read asks for samples after it.
        var lastSampleTimestamp: UInt64 = 0
        /// This tick's processes and their use.
        public internal(set) var processes: [GPUProcessUse] = []
        /// Whether the library answers the per-process calls for this GPU.
        public internal(set) var processListReadable = true
        public internal(set) var samplesReadable = true
    }

    public let library: NVMLLibrary?
    /// Why no NVIDIA GPU is read (no library, nvmlInit_v2 failing, no device); nil when some are.
    public let unavailable: String?
    public private(set) var gpus: [GPU] = []
    public private(set) var domains: [EnergyDomain] = []
    /// Things said once at start: a GPU skipped, a call the library lacks.
    public private(set) var notes: [String] = []
    public private(set) var problem: String?
    /// Intervals whose energy was lost to a driver reload or a failed read.
    public private(set) var lostIntervals: UInt64 = 0
    /// Times a GPU answered GPU_IS_LOST (each loss counted once).
    public private(set) var lostGPUEvents: UInt64 = 0
    private var infos = [ergo_nvml_process_info](repeating: ergo_nvml_process_info(), count: 32)
    private var samples = [ergo_nvml_process_sample](repeating: ergo_nvml_process_sample(), count: 64)

    /// No NVIDIA GPU: the reason is kept for `ergo probe` and the log.
    public init(unavailable reason: String) {
        library = nil
        unavailable = reason
    }

    /// The meter over the library at `path` (the driver's own when nil).
    public init(libraryPath path: String?) {
        switch NVMLLibrary.load(path: path ?? NVMLLibrary.defaultPath) {
        case .failure(let failure): self.init(unavailable: failure.description)
        case .success(let library): self.init(library: library)
        }
    }

    public init(library: NVMLLibrary) {
        self.library = library
        var notes: [String] = []
        if !library.missingEntryPoints.isEmpty {
            notes.append("\(library.path) lacks \(library.missingEntryPoints.joined(separator: ", ")): what they read is not available")
        }
        let count: Int
        switch library.deviceCount() {
        case .success(let value): count = value
        case .failure(let error):
            count = 0
            notes.append("nvmlDeviceGetCount_v2: \(error)")
        }
        for index in 0..<count {
            guard case .success(let device) = library.device(at: index).mapError({ error -> NVMLError in
                notes.append("GPU \(index) skipped: \(error)")
                return error
            }) else { continue }
            let source: EnergySource
            if case .success = library.totalEnergyMillijoules(device) {
                source = .nvmlEnergy
            } else if case .success = library.powerMilliwatts(device) {
                source = .nvmlPower
                notes.append("GPU \(index) (\(device.uuid)) has no energy counter (older than Volta): its power, a 1-s average on most boards, is integrated per tick")
            } else {
                notes.append("GPU \(index) (\(device.uuid)) answers neither energy nor power: not measured")
                continue
            }
            var gpu = GPU(device: device, source: source)
            if case .success(let mig) = library.migEnabled(device) { gpu.migEnabled = mig }
            if gpu.migEnabled { notes.append("GPU \(index) (\(device.uuid)) is in MIG mode: its power is board-level, split among its jobs") }
            gpus.append(gpu)
            domains.append(EnergyDomain(
                name: "gpu-" + (device.pciSlot ?? device.uuid), kind: .gpu, pciSlot: device.pciSlot,
                detail: "NVML GPU \(index) \(device.name) \(device.uuid) [\(source.rawValue)]", uuid: device.uuid, deviceName: device.name))
        }
        unavailable = gpus.isEmpty ? "no NVIDIA GPU readable: NVML \(library.driverVersion ?? "") enumerates no measurable GPU" : nil
        self.notes = notes
    }

    public mutating func prime(bootID: String) {
        guard let library else { return }
        for index in gpus.indices {
            switch gpus[index].source {
            case .nvmlEnergy:
                if case .success(let millijoules) = library.totalEnergyMillijoules(gpus[index].device) {
                    gpus[index].counter = EnergyCounterReading(microjoules: millijoules &* 1000, maxRangeMicrojoules: nil, bootID: bootID)
                }
            default:
                if case .success(let milliwatts) = library.powerMilliwatts(gpus[index].device) {
                    _ = gpus[index].gauge.add(microwatts: UInt64(milliwatts) * 1000, afterNanoseconds: 0)
                }
            }
        }
        readProcesses()
    }

    public mutating func measure(_ tick: MeterTick, into readings: inout [DomainEnergy], at offset: Int) {
        problem = nil
        guard let library else { return }
        for index in gpus.indices {
            readings[offset + index] = DomainEnergy(microjoules: measure(index, library: library, tick: tick), source: gpus[index].source)
            if case .success(let rates) = library.utilization(gpus[index].device) {
                gpus[index].utilizationPercent = rates.gpu
            } else {
                gpus[index].utilizationPercent = nil
            }
        }
        readProcesses()
    }

    /// One GPU's energy since the last tick, µJ.
    private mutating func measure(_ index: Int, library: NVMLLibrary, tick: MeterTick) -> UInt64 {
        let device = gpus[index].device
        switch gpus[index].source {
        case .nvmlEnergy:
            switch library.totalEnergyMillijoules(device) {
            case .success(let millijoules):
                markFound(index)
                let current = EnergyCounterReading(microjoules: millijoules &* 1000, maxRangeMicrojoules: nil, bootID: tick.bootID)
                defer { gpus[index].counter = current }
                guard let previous = gpus[index].counter else { return 0 }
                if let delta = current.delta(since: previous).microjoules { return delta }
                problem = "\(name(of: index)): the energy counter went backwards (a driver reload): a new epoch, this interval is not counted"
                lostIntervals += 1
                return 0
            case .failure(let error) where error.isNotSupported:
                // The counter stopped answering: power from now on.
                gpus[index].source = .nvmlPower
                problem = "\(name(of: index)): the energy counter is no longer supported (\(error)); integrating power"
                return 0
            case .failure(let error):
                // The counter keeps its last reading: the next good read covers the gap.
                markFailed(index, error)
                return 0
            }
        default:
            switch library.powerMilliwatts(device) {
            case .success(let milliwatts):
                markFound(index)
                return gpus[index].gauge.add(microwatts: UInt64(milliwatts) * 1000, afterNanoseconds: tick.nanoseconds)
            case .failure(let error):
                gpus[index].gauge.reset()
                markFailed(index, error)
                lostIntervals += 1
                return 0
            }
        }
    }

    private mutating func markFound(_ index: Int) { gpus[index].lost = false }

    /// How the log and the notes name a GPU; built only when something is said about it.
    private func name(of index: Int) -> String { "GPU \(gpus[index].device.index) (\(gpus[index].device.uuid))" }

    private mutating func markFailed(_ index: Int, _ error: NVMLError) {
        let name = name(of: index)
        if error.isGPULost {
            if !gpus[index].lost { lostGPUEvents += 1 }
            gpus[index].lost = true
            problem = "\(name) is lost (GPU_IS_LOST): its domain keeps its energy so far and reads 0 until it answers"
        } else {
            problem = "\(name) could not be read: \(error)"
        }
        gpus[index].processes.removeAll(keepingCapacity: true)
    }

    /// Reads each GPU's compute processes and their SM samples since the last one seen.
    mutating func readProcesses() {
        guard let library else { return }
        for index in gpus.indices {
            gpus[index].processes.removeAll(keepingCapacity: true)
            guard !gpus[index].lost else { continue }
            let device = gpus[index].device
            if gpus[index].processListReadable {
                switch library.runningProcesses(device, into: &infos) {
                case .success(let count):
                    for position in 0..<count where infos[position].pid != 0 {
                        gpus[index].processes.append(GPUProcessUse(pid: Int32(bitPattern: infos[position].pid), smPercent: nil))
                    }
                case .failure(let error) where error.isNotSupported:
                    gpus[index].processListReadable = false
                    notes.append("GPU \(device.index) (\(device.uuid)): no process list (\(error)); its energy goes to system or idle")
                case .failure(let error):
                    problem = "GPU \(device.index) (\(device.uuid)): its processes could not be read: \(error)"
                }
            }
            guard gpus[index].samplesReadable, !gpus[index].migEnabled else { continue }
            switch library.processUtilization(device, since: gpus[index].lastSampleTimestamp, into: &samples) {
            case .success(let count):
                for position in 0..<count {
                    let sample = samples[position]
                    gpus[index].lastSampleTimestamp = max(gpus[index].lastSampleTimestamp, sample.timestamp)
                    let pid = Int32(bitPattern: sample.pid)
                    if let known = gpus[index].processes.firstIndex(where: { $0.pid == pid }) {
                        gpus[index].processes[known].smPercent = (gpus[index].processes[known].smPercent ?? 0) + UInt64(sample.sm_util)
                    } else if pid != 0 {
                        gpus[index].processes.append(GPUProcessUse(pid: pid, smPercent: UInt64(sample.sm_util)))
                    }
                }
            case .failure(let error) where error.isNotSupported:
                gpus[index].samplesReadable = false
                notes.append("GPU \(device.index) (\(device.uuid)): no per-process utilization (\(error)); its processes share its active energy equally")
            case .failure(let error):
                problem = "GPU \(device.index) (\(device.uuid)): per-process utilization could not be read: \(error)"
            }
        }
    }

    public var savedReadings: [String: UInt64] {
        var saved: [String: UInt64] = [:]
        for gpu in gpus { if let counter = gpu.counter { saved["nvml:" + gpu.device.uuid] = counter.microjoules } }
        return saved
    }

    public mutating func restore(_ readings: [String: UInt64], bootID: String) {
        for index in gpus.indices {
            guard let value = readings["nvml:" + gpus[index].device.uuid] else { continue }
            gpus[index].counter = EnergyCounterReading(microjoules: value, maxRangeMicrojoules: nil, bootID: bootID)
        }
    }
}
