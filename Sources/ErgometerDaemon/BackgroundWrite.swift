import ErgometerStore
import Foundation
import Synchronization

/// One checkpoint written on the store's queue: its outcome once it is known, and ways to
/// wait for it: blocking (a checkpoint that must be on disk when it returns, a query that reads
/// the store) or suspending (a request answered once its job is saved, the sampler free meanwhile).
final class BackgroundWrite: Sendable {
    private struct State {
        var result: Result<Void, StoreError>?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let done = DispatchSemaphore(value: 0)

    /// The outcome, nil while the write runs.
    var result: Result<Void, StoreError>? { state.withLock { $0.result } }

    /// Called once, on the store's queue.
    func finish(_ result: Result<Void, StoreError>) {
        let waiters = state.withLock { state in
            state.result = result
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        done.signal()
        for waiter in waiters { waiter.resume() }
    }

    /// Blocks until the write has finished. The store's queue is its own thread (it never
    /// waits for the sampler), so this is bounded by one transaction.
    func wait() -> Result<Void, StoreError> {
        if let result { return result }
        done.wait()
        done.signal()  // for a later `wait`
        return result!
    }

    /// Suspends until the write has finished, holding no thread meanwhile.
    func finished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let over = state.withLock { state in
                if state.result != nil { return true }
                state.waiters.append(continuation)
                return false
            }
            if over { continuation.resume() }
        }
    }
}
