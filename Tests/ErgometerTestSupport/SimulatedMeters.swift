import Foundation

/// Stands in for energy counters and a GPU's DRM engine clock in a copied fixture tree: each
/// counter advances at its own constant watts, and one DRM client's engine time at one second
/// per second. Either in real time, on a thread of its own (`start`/`stop`, every 5 ms, as RAPL
/// and hwmon counters refresh), or in simulated time, by exactly the seconds a test advances
/// its `SimulatedClock` (`advance`). Values are written in place at a fixed width (the sampler
/// keeps hwmon files open). Keeps the exact energy each counter gained, so a test can compare
/// what ergod measured with what was drawn.
public final class SimulatedMeters: @unchecked Sendable {
    public struct Counter: Sendable {
        public var path: String
        public var watts: Double

        public init(path: String, watts: Double) {
            self.path = path
            self.watts = watts
        }
    }

    let counters: [Counter]
    let engineFile: String?
    private let lock = NSLock()
    private var thread: Thread?
    private var running = false
    private var drawn: [UInt64]
    /// Simulated time: the counters' values, the fractions of a µJ carried, the engine time.
    private var values: [UInt64]?
    private var carried: [Double]
    private var engineNanoseconds: UInt64 = 0

    /// - Parameter engineFile: an fdinfo file whose `drm-engine-gfx` advances in real time.
    public init(counters: [Counter], engineFile: String? = nil) {
        self.counters = counters
        self.engineFile = engineFile
        drawn = counters.map { _ in 0 }
        carried = counters.map { _ in 0 }
    }

    /// Simulated time: every counter gains its watts × `seconds`, the engine time `seconds`,
    /// written before this returns (no thread: what a tick reads next is exact).
    public func advance(seconds: Double) {
        lock.withLock {
            var current = values ?? counters.map(Self.read)
            for index in counters.indices {
                let exact = counters[index].watts * seconds * 1e6 + carried[index]
                let added = UInt64(exact)
                carried[index] = exact - Double(added)
                current[index] += added
                drawn[index] += added
                Self.writeInPlace(current[index], to: counters[index].path)
            }
            values = current
            engineNanoseconds += UInt64((seconds * 1e9).rounded())
            if let engineFile { Self.writeEngine(nanoseconds: engineNanoseconds, to: engineFile) }
        }
    }

    static func read(_ counter: Counter) -> UInt64 {
        UInt64((try? String(contentsOfFile: counter.path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "0") ?? 0
    }

    /// Energy each counter gained since `start()`, µJ, in the order given.
    public var drawnMicrojoules: [UInt64] { lock.withLock { drawn } }

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
        var values = counters.map(Self.read)
        var carried = counters.map { _ in 0.0 }
        let start = DispatchTime.now().uptimeNanoseconds
        var last = start
        while lock.withLock({ running }) {
            usleep(5_000)
            let now = DispatchTime.now().uptimeNanoseconds
            let seconds = Double(now - last) / 1e9
            var added = counters.map { _ in UInt64(0) }
            for index in counters.indices {
                let exact = counters[index].watts * seconds * 1e6 + carried[index]
                added[index] = UInt64(exact)
                carried[index] = exact - Double(added[index])
                values[index] += added[index]
                Self.writeInPlace(values[index], to: counters[index].path)
            }
            if let engineFile { Self.writeEngine(nanoseconds: now - start, to: engineFile) }
            lock.withLock { for index in added.indices { drawn[index] += added[index] } }
            last = now
        }
    }

    /// The value as 20 digits and a newline, over the old one: a reader sees one or the other.
    public static func writeInPlace(_ value: UInt64, to path: String) {
        let text = String(repeating: "0", count: max(0, 20 - String(value).count)) + String(value) + "\n"
        let descriptor = open(path, O_WRONLY)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        _ = text.withCString { pwrite(descriptor, $0, 21, 0) }
    }

    /// An amdgpu client's fdinfo with its engine time (kernel Documentation/gpu/drm-usage-stats.rst).
    public static func writeEngine(nanoseconds: UInt64, to path: String) {
        let text = """
            pos:\t0
            flags:\t02100002
            mnt_id:\t24
            ino:\t1038
            drm-driver:\tamdgpu
            drm-client-id:\t42
            drm-pdev:\t0000:03:00.0
            pasid:\t32770
            drm-memory-vram:\t1048576 KiB
            drm-engine-gfx:\t\(nanoseconds) ns
            drm-engine-compute:\t0 ns
            drm-engine-capacity-compute:\t4

            """
        try? text.write(toFile: path + ".new", atomically: false, encoding: .utf8)
        rename(path + ".new", path)
    }
}
