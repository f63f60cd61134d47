import ArgumentParser
import ErgometerCore
import ErgometerProbes

/// `ergo bench`: times Ergometer's hot paths on this machine, each against a baseline measured
/// in the same run, so the figures compare across machines as ratios.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: the probe's reads (default), or a scrape load against a /metrics endpoint.",
        subcommands: [BenchProbeCommand.self, BenchScrapeCommand.self],
        defaultSubcommand: BenchProbeCommand.self
    )
}

/// `ergo bench probe`: the probe's reads, per call, against one sysfs read as the baseline.
struct BenchProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Time the probe's reads (per call, median and p99) against one sysfs read as the baseline."
    )

    @OptionGroup var roots: MachineRootOptions

    @Option(help: "Calls per measurement.")
    var iterations = 2000

    func validate() throws {
        guard (10...1_000_000).contains(iterations) else {
            throw ValidationError("--iterations \(iterations): must be between 10 and 1000000.")
        }
    }

    func run() throws {
        let probe = MachineProbe(sysfs: roots.sysfs, procfs: roots.procfs)
        let zones = PowercapReader(sysfs: roots.sysfs).discover().zones
        let baselinePath = roots.procfs.path("sys/kernel/random/boot_id")
        var sink = 0

        let baseline = measure { sink &+= (try? SysfsFile.readLine(baselinePath).get())?.count ?? 0 }
        let rows: [(String, Timing)] = [
            ("baseline: read one attribute (boot_id)", baseline),
            ("RAPL counters of discovered zones (\(zones.count))", measure {
                for zone in zones { sink &+= Int(truncatingIfNeeded: (try? zone.readEnergy().get()) ?? 0) }
            }),
            ("/proc/stat parse", measure { sink &+= (try? ProcStatReader.read(procfs: roots.procfs).get())?.perCPU.count ?? 0 }),
            ("probe counters (RAPL discovery + read, /proc/stat, boot_id)", measure { sink &+= probe.counters().rapl.count }),
            ("temperatures (\(probe.usesLibsensors ? "libsensors" : "hwmon files"))", measure(iterations: max(iterations / 20, 10)) {
                sink &+= probe.temperatures().temperatures.count
            }),
            ("PCI inventory (libpci + pci.ids)", measure(iterations: max(iterations / 20, 10)) {
                sink &+= PCIReader(sysfs: roots.sysfs).read().devices.count
            }),
            ("probe snapshot (counters + cpuinfo, meminfo, sensors, PCI)", measure(iterations: max(iterations / 20, 10)) {
                sink &+= probe.snapshot().pci.count
            }),
        ]
        print("ergo bench: sysfs \(roots.sysfsRoot), procfs \(roots.procfsRoot), \(iterations) calls each")
        var table = [["OPERATION", "MEDIAN (µs)", "P99 (µs)", "× BASELINE"]]
        for (name, timing) in rows {
            table.append([
                name, Format.fixed(timing.median, 2), Format.fixed(timing.p99, 2),
                Format.fixed(timing.median / baseline.median, 1),
            ])
        }
        print(Format.table(table), terminator: "")
        if sink == Int.min { print(sink) }  // keeps the work observable to the optimizer
    }

    struct Timing {
        var median: Double
        var p99: Double
    }

    private func measure(iterations count: Int? = nil, _ body: () -> Void) -> Timing {
        let count = count ?? iterations
        for _ in 0..<min(count, 50) { body() }  // warm caches and dentries
        var samples = [Double](repeating: 0, count: count)
        for index in 0..<count {
            let start = MonotonicClock.nanoseconds()
            body()
            samples[index] = Double(MonotonicClock.nanoseconds() - start) / 1000
        }
        samples.sort()
        return Timing(median: samples[count / 2], p99: samples[min(count - 1, count * 99 / 100)])
    }
}
