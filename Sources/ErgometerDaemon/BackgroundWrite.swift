import ErgometerStore
import Foundation
import Synchronization

/// One checkpoint written on the store's queue: its outcome once it is known, and a way to
/// wait for it (a checkpoint that must be on disk when it returns, a query that reads the store).
final class BackgroundWrite: Sendable {
    private let outcome = Mutex<Result<Void, StoreError>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    /// The outcome, nil while the write runs.
    var result: Result<Void, StoreError>? { outcome.withLock { $0 } }

    /// Called once, on the store's queue.
    func finish(_ result: Result<Void, StoreError>) {
        outcome.withLock { $0 = result }
        done.signal()
    }

    /// Blocks until the write has finished. The store's queue is its own thread (it never
    /// waits for the sampler), so this is bounded by one transaction.
    func wait() -> Result<Void, StoreError> {
        if let result { return result }
        done.wait()
        done.signal()  // for a later `wait`
        return result!
    }
}
