import ErgometerCore
import ErgometerProbes

/// Measurement, one owner: every meter of the box (RAPL with its model fallback, the hwmon
/// GPUs and platform meter, the NVIDIA GPUs through NVML), their domains in one list, and, where a platform meter exists, a
/// `rest` domain at the end (platform − components, worked out by the attribution and the
/// ledger). Each tick reads every meter into one reused array.
struct BoxMeters {
    var rapl: RaplMeter
    var hwmon: HwmonMeter
    var nvml: NVMLMeter
    /// Every domain: RAPL's two first (`cpu-package`, `dram`), then hwmon's, NVML's, `rest`.
    let domains: [EnergyDomain]
    let kinds: [DomainKind]
    /// The last tick's energy per domain (`rest` left at zero: the attribution fills it in).
    private(set) var readings: [DomainEnergy]
    /// `rest`'s energy over the last tick (its reading stays 0: it is what attribution leaves).
    private(set) var restTickMicrojoules: UInt64 = 0
    /// Idle power learned per domain from its own readings; the CPU domains learn together
    /// (`cpuIdleLearner`), as the host figure did.
    private(set) var cpuIdleLearner = IdlePowerLearner()
    private(set) var idleLearners: [IdlePowerLearner]
    /// Idle power of each domain, W: learned from its own readings, as the CPU's is (0 W until
    /// the learner has seen enough ticks: a GPU under load from the start would otherwise take
    /// its load for its idle power); `rest` learns from what the attribution worked out. Kept
    /// here and updated only when a learner observes, so a tick neither allocates nor scans
    /// the learners' histograms for it.
    private(set) var idleWatts: [Double]
    /// Index of `rest`, when there is a platform meter.
    let restIndex: Int?
    /// Energy per domain and source since ergod started, at `domain * sourceCount + source`
    /// (what /metrics exports).
    private(set) var totals: [UInt64]

    /// Whether an hwmon GPU domain has a PCI slot, so that DRM clients can be matched to it.
    let hasPCIGPUs: Bool
    /// Where hwmon's domains (DRM-weighted GPUs among them) and NVML's are in `domains`.
    let hwmonDomains: Range<Int>
    let nvmlDomains: Range<Int>

    init(rapl: RaplMeter, hwmon: HwmonMeter, nvml: NVMLMeter) {
        self.rapl = rapl
        self.hwmon = hwmon
        self.nvml = nvml
        hwmonDomains = rapl.domains.count..<(rapl.domains.count + hwmon.domains.count)
        nvmlDomains = hwmonDomains.upperBound..<(hwmonDomains.upperBound + nvml.domains.count)
        var domains = rapl.domains + hwmon.domains + nvml.domains
        let hasPlatform = domains.contains { $0.kind == .platform }
        restIndex = hasPlatform ? domains.count : nil
        if hasPlatform { domains.append(EnergyDomain(name: "rest", kind: .rest, detail: "platform − components: fans, disks, NICs, PSU loss")) }
        self.domains = domains
        kinds = domains.map(\.kind)
        hasPCIGPUs = hwmon.domains.contains { $0.kind == .gpu && $0.pciSlot != nil }
        readings = domains.map { _ in DomainEnergy(microjoules: 0, source: .model) }
        if let restIndex { readings[restIndex].source = hwmon.source(ofDomain: hwmon.domains.firstIndex { $0.kind == .platform }!) }
        idleLearners = domains.map { _ in IdlePowerLearner() }
        idleWatts = domains.map { _ in 0 }
        totals = [UInt64](repeating: 0, count: domains.count * EnergySource.allCases.count)
    }

    mutating func prime(bootID: String) {
        rapl.prime(bootID: bootID)
        hwmon.prime(bootID: bootID)
        nvml.prime(bootID: bootID)
    }

    /// Reads every meter for the tick and, when `learn`, learns each domain's idle power from it
    /// (the sampler's scheduled ticks only: the sub-millisecond ticks a registration forces
    /// would drag the low percentile toward 0 W).
    mutating func measure(_ tick: MeterTick, learn: Bool) {
        rapl.measure(tick, into: &readings, at: 0)
        hwmon.measure(tick, into: &readings, at: hwmonDomains.lowerBound)
        nvml.measure(tick, into: &readings, at: nvmlDomains.lowerBound)
        for index in readings.indices where index != restIndex {
            totals[index * EnergySource.allCases.count + readings[index].source.ordinal] += readings[index].microjoules
        }
        guard learn, tick.seconds > 0 else { return }
        if readings[0].source == .rapl {
            cpuIdleLearner.observe(watts: Double(readings[0].microjoules + readings[1].microjoules) / 1e6 / tick.seconds)
        }
        for index in rapl.domains.count..<readings.count where index != restIndex {
            // An NVIDIA GPU learns its idle power from ticks with no process on it only.
            if nvmlDomains.contains(index), !nvml.gpus[index - nvmlDomains.lowerBound].processes.isEmpty { continue }
            idleLearners[index].observe(watts: Double(readings[index].microjoules) / 1e6 / tick.seconds)
            idleWatts[index] = idleLearners[index].idleWatts() ?? 0
        }
    }

    /// `rest`'s learned idle power takes the tick's rest energy (known only after attribution).
    mutating func observeRest(microjoules: UInt64, seconds: Double, learn: Bool) {
        guard let restIndex else { return }
        restTickMicrojoules = microjoules
        totals[restIndex * EnergySource.allCases.count + readings[restIndex].source.ordinal] += microjoules
        guard learn, seconds > 0 else { return }
        idleLearners[restIndex].observe(watts: Double(microjoules) / 1e6 / seconds)
        idleWatts[restIndex] = idleLearners[restIndex].idleWatts() ?? 0
    }

    /// The source of the CPU domains this tick (`rapl`, or `model` when RAPL could not be used).
    var cpuSource: EnergySource { readings[0].source }

    var savedReadings: [String: UInt64] {
        rapl.savedReadings.merging(hwmon.savedReadings) { a, _ in a }.merging(nvml.savedReadings) { a, _ in a }
    }

    mutating func restore(_ saved: [String: UInt64], bootID: String) {
        rapl.restore(saved, bootID: bootID)
        hwmon.restore(saved, bootID: bootID)
        nvml.restore(saved, bootID: bootID)
    }
}
