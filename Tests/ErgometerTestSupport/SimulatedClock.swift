import ErgometerDaemon
import Synchronization

/// Time a test drives: a monotonic clock and a wall clock that move together, only when told
/// (`advance`), so a day of one-second ticks runs as fast as the ticks themselves. Hand
/// `samplerClock` to a `Sampler`; advance the meters (`SimulatedMeters.advance`) by the same
/// seconds so that their counters follow it.
public final class SimulatedClock: Sendable {
    private let state: Mutex<(monotonic: UInt64, wall: Double)>

    /// Starts at `wall` (Unix seconds) and an arbitrary monotonic reading, as after a boot.
    public init(wall: Double, monotonicNanoseconds: UInt64 = 1_000_000_000_000) {
        state = Mutex((monotonicNanoseconds, wall))
    }

    public var monotonicNanoseconds: UInt64 { state.withLock { $0.monotonic } }
    public var wallSeconds: Double { state.withLock { $0.wall } }

    /// Both clocks move on by `seconds` (rounded to the nanosecond on the monotonic one).
    public func advance(seconds: Double) {
        let nanoseconds = UInt64((seconds * 1e9).rounded())
        state.withLock {
            $0.monotonic += nanoseconds
            $0.wall += Double(nanoseconds) / 1e9
        }
    }

    /// The wall clock alone jumps (NTP, `date -s`); intervals stay the monotonic clock's.
    public func stepWall(by seconds: Double) {
        state.withLock { $0.wall += seconds }
    }

    public var samplerClock: SamplerClock {
        SamplerClock(monotonicNanoseconds: { self.monotonicNanoseconds }, wallSeconds: { self.wallSeconds })
    }
}
