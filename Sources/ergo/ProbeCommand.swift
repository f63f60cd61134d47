import ArgumentParser
import ErgometerCore
import ErgometerProbes
import Foundation

/// `ergo probe`: one snapshot of what the machine exposes, or two and the power between them.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Show what this machine exposes: RAPL zones, hwmon power and energy sensors, NVIDIA GPUs (NVML), temperatures, CPU, memory, PCI devices.",
        discussion: """
            With --interval, reads the counters twice and prints power per zone and CPU utilization \
            over the interval. Exit status: 0 when anything was read, 1 when nothing, 2 for bad arguments.
            """
    )

    @OptionGroup var roots: MachineRootOptions

    @Option(help: ArgumentHelp("Take two snapshots this many seconds apart (0.05 to 3600).", valueName: "SECONDS"))
    var interval: Double?

    @Option(help: ArgumentHelp("NVML to load: a soname, a path, or off (default libnvidia-ml.so.1).", valueName: "LIBRARY"))
    var nvmlLibrary: String?

    @Flag(help: "Print JSON (keys documented in the README).")
    var json = false

    @Option(help: ArgumentHelp("TDP of all CPUs together for the power model, in watts.", valueName: "WATTS"))
    var tdpWatts: Double?

    @Option(help: ArgumentHelp("Idle power for the power model, in watts.", valueName: "WATTS"))
    var idleWatts: Double?

    @Option(help: "hwmon reader (temperatures, power, energy): automatic (libsensors on /sys, sysfs files elsewhere), libsensors, sysfs.")
    var temperatureReader: MachineProbe.TemperatureReaderChoice = .automatic

    func validate() throws {
        if let interval, !(0.05...3600).contains(interval) {
            throw ValidationError("--interval \(interval): must be between 0.05 and 3600 seconds.")
        }
        if let tdpWatts, !(tdpWatts > 0 && tdpWatts.isFinite) {
            throw ValidationError("--tdp-watts \(tdpWatts): must be a positive number of watts.")
        }
        if let idleWatts, !(idleWatts >= 0 && idleWatts.isFinite) {
            throw ValidationError("--idle-watts \(idleWatts): must be zero or a positive number of watts.")
        }
        if let idleWatts, let tdpWatts, idleWatts > tdpWatts {
            throw ValidationError("--idle-watts \(idleWatts) is above --tdp-watts \(tdpWatts): idle power cannot exceed the maximum.")
        }
    }

    func run() async throws {
        let probe = MachineProbe(sysfs: roots.sysfs, procfs: roots.procfs, temperatureReader: temperatureReader)
        let (nvml, status) =
            nvmlLibrary == "off"
            ? (nil, NVMLStatus(library: "off", readable: false, reason: "no NVIDIA GPU read: --nvml-library off", driverVersion: nil, missingEntryPoints: []))
            : NVMLProbe.load(path: nvmlLibrary)
        var report: ProbeReport
        var readAnything: Bool
        if let interval {
            let first = probe.counters()
            // The GPUs' interval is their own: NVML is read right after and right before the
            // snapshots, each read timed on the monotonic clock.
            let firstGPUTime = MonotonicClock.nanoseconds()
            let firstGPUs = nvml.map(NVMLProbe.read) ?? []
            try await Task.sleep(nanoseconds: UInt64(interval * 1e9))
            let secondGPUTime = MonotonicClock.nanoseconds()
            let secondGPUs = nvml.map(NVMLProbe.read) ?? []
            let second = probe.snapshot()
            report = ProbeReport(first: first, second: second, model: model(for: second))
            report.addGPUs(first: firstGPUs, second: secondGPUs, seconds: Double(secondGPUTime &- firstGPUTime) / 1e9, status: status)
            readAnything = second.readAnything
        } else {
            let snapshot = probe.snapshot()
            report = ProbeReport(first: snapshot, model: model(for: snapshot))
            report.addGPUs(first: nvml.map(NVMLProbe.read) ?? [], second: nil, seconds: nil, status: status)
            readAnything = snapshot.readAnything
        }
        readAnything = readAnything || !report.gpus.isEmpty
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(ProbeTextRenderer(sysfsRoot: roots.sysfsRoot, procfsRoot: roots.procfsRoot).render(report), terminator: "")
        }
        if !readAnything { throw ExitCode(1) }
    }

    private func model(for snapshot: MachineSnapshot) -> PowerModel {
        let cpu =
            snapshot.cpuInfo
            ?? CPUInfo(model: "unknown", logicalCPUs: max(snapshot.cpuStat?.perCPU.count ?? 1, 1), sockets: 1, virtualized: false)
        return PowerModel.forMachine(cpu: cpu, tdpWatts: tdpWatts, idleWatts: idleWatts)
    }
}

extension MachineProbe.TemperatureReaderChoice: ExpressibleByArgument {}
