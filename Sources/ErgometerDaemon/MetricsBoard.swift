import ErgometerCore
public import NIOCore
import Synchronization

/// The rendered /metrics page, shared between the sampler (which publishes) and the listener
/// (which serves). A scrape takes a lock for a reference copy; only when a tick has passed since
/// the last publication, and the update interval with it, does it ask the sampler for a new one.
/// So a thousand scrapes a second cost the sampler at most one publication per interval.
public final class MetricsBoard: Sendable {
    struct Page {
        var body: ByteBuffer
        var tick: UInt64
        var publishedNanoseconds: UInt64
    }

    private let page = Mutex<Page?>(nil)
    /// The sampler's tick count, bumped every tick without taking the lock.
    private let latestTick = Atomic<UInt64>(0)
    /// A page younger than this is served even after a tick (metrics.update_interval_seconds).
    private let minimumAge = Atomic<UInt64>(0)

    public init() {}

    func setMinimumAge(nanoseconds: UInt64) {
        minimumAge.store(nanoseconds, ordering: .relaxed)
    }

    func tickCompleted(_ tick: UInt64) {
        latestTick.store(tick, ordering: .relaxed)
    }

    func publish(_ body: [UInt8], tick: UInt64, at nanoseconds: UInt64) {
        let buffer = ByteBuffer(bytes: body)
        page.withLock { $0 = Page(body: buffer, tick: tick, publishedNanoseconds: nanoseconds) }
    }

    /// The last page published, however old.
    public func latest() -> ByteBuffer? {
        page.withLock { $0?.body }
    }

    /// The page, or nil when it is missing, or both a tick and the minimum age older than now.
    public func current(now: UInt64) -> ByteBuffer? {
        let tick = latestTick.load(ordering: .relaxed)
        let minimumAgeNanoseconds = minimumAge.load(ordering: .relaxed)
        return page.withLock { page -> ByteBuffer? in
            guard let page else { return nil }
            if page.tick >= tick || now &- page.publishedNanoseconds < minimumAgeNanoseconds { return page.body }
            return nil
        }
    }
}
