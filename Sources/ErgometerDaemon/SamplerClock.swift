import ErgometerProbes

/// The two clocks the sampler reads: CLOCK_MONOTONIC for every interval, the wall clock for
/// timestamps. ergod uses the system's; a test passes one it drives (both together, and the
/// meters' counters with them), so a simulated day of ticks takes seconds, not a day.
public struct SamplerClock: Sendable {
    /// Nanoseconds on a clock that never steps.
    public var monotonicNanoseconds: @Sendable () -> UInt64
    /// Unix seconds.
    public var wallSeconds: @Sendable () -> Double

    public init(monotonicNanoseconds: @escaping @Sendable () -> UInt64, wallSeconds: @escaping @Sendable () -> Double) {
        self.monotonicNanoseconds = monotonicNanoseconds
        self.wallSeconds = wallSeconds
    }

    /// The machine's clocks.
    public static let system = SamplerClock(monotonicNanoseconds: { MonotonicClock.nanoseconds() }, wallSeconds: { WallClock.seconds() })
}
