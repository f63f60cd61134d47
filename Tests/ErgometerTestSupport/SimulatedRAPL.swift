import Foundation

/// Stands in for RAPL hardware in a copied fixture tree: advances `package-0` and `dram`
/// energy_uj as a machine would draw idle + k × (busy cores of this real machine), wrapping at
/// max_energy_range_uj. Keeps the exact energy it added, so a test can compare what ergod
/// measured with what was "drawn".
public final class SimulatedRAPL: @unchecked Sendable {
    public let packagePath: String
    public let dramPath: String
    let packageRange: UInt64
    let dramRange: UInt64
    let idleWatts: Double
    let wattsPerBusyCore: Double
    let dramWatts: Double
    private let lock = NSLock()
    private var thread: Thread?
    private var running = false
    private var addedMicrojoules: UInt64 = 0

    /// - Parameter packageStartBelowWrap: start the package counter this many µJ below its range,
    ///   so it wraps during the test.
    public init(
        sysfs: String, idleWatts: Double, wattsPerBusyCore: Double, dramWatts: Double, packageStartBelowWrap: UInt64
    ) throws {
        packagePath = sysfs + "/class/powercap/intel-rapl:0/energy_uj"
        dramPath = sysfs + "/class/powercap/intel-rapl:0:2/energy_uj"
        packageRange = UInt64(try String(contentsOfFile: sysfs + "/class/powercap/intel-rapl:0/max_energy_range_uj", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        dramRange = UInt64(try String(contentsOfFile: sysfs + "/class/powercap/intel-rapl:0:2/max_energy_range_uj", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        self.idleWatts = idleWatts
        self.wattsPerBusyCore = wattsPerBusyCore
        self.dramWatts = dramWatts
        try Self.write(packageRange - packageStartBelowWrap, to: packagePath)
    }

    /// Energy added to package + DRAM since `start()`, microjoules.
    public var totalAddedMicrojoules: UInt64 { lock.withLock { addedMicrojoules } }

    public func start() {
        lock.withLock { running = true }
        let thread = Thread { [self] in loop() }
        self.thread = thread
        thread.start()
    }

    /// Stops advancing; returns once the last write is done.
    public func stop() {
        lock.withLock { running = false }
        while thread?.isFinished == false { usleep(1000) }
    }

    private func loop() {
        var lastBusy = Self.busySeconds()
        var last = Date()
        var packageValue = UInt64(try! String(contentsOfFile: packagePath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        var dramValue = UInt64(try! String(contentsOfFile: dramPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        while lock.withLock({ running }) {
            // Every 5 ms: energy reaches the counters at most a few ms after the CPU time that
            // drew it, so a job's last moments are not billed to the tick after its end.
            usleep(5_000)
            let now = Date()
            let busy = Self.busySeconds()
            let seconds = now.timeIntervalSince(last)
            let package = UInt64(((idleWatts * seconds) + wattsPerBusyCore * max(busy - lastBusy, 0)) * 1e6)
            let dram = UInt64(dramWatts * seconds * 1e6)
            packageValue = Self.advance(packageValue, by: package, range: packageRange)
            dramValue = Self.advance(dramValue, by: dram, range: dramRange)
            try? Self.write(packageValue, to: packagePath)
            try? Self.write(dramValue, to: dramPath)
            lock.withLock { addedMicrojoules += package + dram }
            last = now
            lastBusy = busy
        }
    }

    /// The counter after `delta` more microjoules, wrapping as ergod expects:
    /// after a wrap, now + range − previous = delta.
    static func advance(_ value: UInt64, by delta: UInt64, range: UInt64) -> UInt64 {
        value + delta <= range ? value + delta : value + delta - range
    }

    static func write(_ value: UInt64, to path: String) throws {
        let temporary = path + ".new"
        try "\(value)\n".write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, path) == 0 else { throw FixtureError("rename \(temporary): \(errno)") }
    }

    /// Busy CPU seconds of this machine so far (user+nice+system+irq+softirq of /proc/stat).
    static func busySeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
        else { return 0 }
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 7 else { return 0 }
        return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / 100
    }
}
