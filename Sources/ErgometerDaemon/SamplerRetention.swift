import CFreeMemory
import ErgometerCore
public import ErgometerStore
public import ErgometerWire
import Foundation
import Logging

extension Sampler {
    /// How often the store is pruned (after a checkpoint), seconds of the sampler's clock.
    static let pruneSeconds = 60.0

    /// After a checkpoint: starts a prune when one is due (a minute after the last) and none
    /// runs; a store far behind catches up a budget a minute (`pruneBehind`). It runs off the actor,
    /// in the store's small transactions, so ticks go on meanwhile; only the checkpoint's own
    /// write can wait, for one of those transactions at most.
    func pruneIfDue(now: UInt64) {
        guard let store, pruneTask == nil, !stopping,
            lastPruneStart == 0 || Double(now &- lastPruneStart) / 1e9 >= Self.pruneSeconds
        else { return }
        lastPruneStart = now
        let retention = configuration.retention
        let wall = lastWall
        let since = ledger.since
        pruneTask = Task.detached { [weak self] in
            // On a utility thread, as the store's other writes: behind the tick, and off the
            // cooperative pool, whose few threads must not wait for SQLite.
            let outcome = await withCheckedContinuation { (done: CheckedContinuation<Result<StorePrune, StoreError>, Never>) in
                DispatchQueue.global(qos: .utility).async {
                    let outcome: Result<StorePrune, StoreError>
                    do throws(StoreError) {
                        outcome = .success(try store.prune(retention: retention, now: wall, ledgerSince: since))
                    } catch {
                        outcome = .failure(error)
                    }
                    // Memory freed since the last prune (its rows, the checkpoints' batches) goes
                    // back to the system: without this, glibc keeps it in each thread's arena, and a
                    // daemon running for months grows by what it once needed at most.
                    _ = ergo_release_free_memory()
                    done.resume(returning: outcome)
                }
            }
            await self?.pruned(outcome)
        }
    }

    /// Waits for a prune that is running (tests, the soak, and the final checkpoint).
    public func waitForPrune() async {
        await pruneTask?.value
    }

    /// Prunes now and waits for it (tests; `ergo store` never prunes).
    public func pruneNow() async -> StorePrune? {
        await waitForPrune()
        lastPruneStart = 0
        pruneIfDue(now: clock.monotonicNanoseconds())
        await waitForPrune()
        return lastPrune
    }

    private func pruned(_ outcome: Result<StorePrune, StoreError>) {
        pruneTask = nil
        pruneBehind = false
        switch outcome {
        case .failure(let error):
            noteStoreFailure(error)
        case .success(let prune):
            pruneBehind = prune.moreToDo
            if prune.changedAnything { lastPrune = prune }
            longestPruneTransactionSeconds = max(longestPruneTransactionSeconds, prune.longestTransactionSeconds)
            say(prune)
        }
    }

    /// The log's account of a prune: what went, and why. Drops for size are said at once the
    /// first time, then at most once an hour with what went meanwhile (a store kept at its
    /// bound drops a little at every prune).
    private func say(_ prune: StorePrune) {
        let bound = configuration.retention.maxBytes
        if prune.droppedForSizeRows > 0 {
            droppedForSizeUnsaid.rows += prune.droppedForSizeRows
            droppedForSizeUnsaid.through = max(droppedForSizeUnsaid.through ?? 0, prune.droppedForSizeThrough ?? 0)
            let now = clock.monotonicNanoseconds()
            if lastSizeDropSaid == 0 || Double(now &- lastSizeDropSaid) / 1e9 >= 3600 {
                lastSizeDropSaid = now
                logger.warning("the job store passed store.max_bytes: dropped its oldest time series (job totals are kept)", metadata: [
                    "ergometer.store.rows_dropped": "\(droppedForSizeUnsaid.rows)",
                    "ergometer.store.dropped_through": "\(droppedForSizeUnsaid.through.map(UTCTimestamp.iso8601) ?? "?")",
                    "ergometer.store.bytes": "\(prune.bytesAfter)", "ergometer.store.max_bytes": "\(bound)",
                ])
                droppedForSizeUnsaid = (0, nil)
            }
        }
        if prune.overBound != saidOverBound {
            saidOverBound = prune.overBound
            if prune.overBound {
                logger.error("the job store is over store.max_bytes with no time series left to drop: job totals are never dropped for size; raise store.max_bytes or set store.jobs_days", metadata: [
                    "ergometer.store.bytes": "\(prune.bytesAfter)", "ergometer.store.max_bytes": "\(bound)",
                ])
            }
        }
        guard prune.rolledUpRows + prune.expiredRows + prune.expiredJobs > 0 else { return }
        logger.info("job store pruned", metadata: [
            "ergometer.store.rolled_up_rows": "\(prune.rolledUpRows)", "ergometer.store.minute_rows": "\(prune.minuteRows)",
            "ergometer.store.expired_rows": "\(prune.expiredRows)", "ergometer.store.expired_jobs": "\(prune.expiredJobs)",
            "ergometer.store.bytes": "\(prune.bytesAfter)", "ergometer.store.seconds": "\(prune.seconds)",
        ])
    }

    /// The store this sampler writes (nil: in memory only).
    public nonisolated var jobStore: JobStore? { store }

    /// What `ergo store` shows, from the store, with the retention in force. Its row counts
    /// read the store's indexes (long on a big store): off the actor, so no tick waits for them.
    public nonisolated func storeStatus() async throws(StoreError) -> StoreStatus? {
        guard let store else { return nil }
        let (retention, lastPrune) = await retentionAndLastPrune()
        var status = try store.status(retention: retention)
        if let lastPrune, (status.lastPrune?.at ?? 0) < lastPrune.at { status.lastPrune = lastPrune }
        return status
    }

    private func retentionAndLastPrune() -> (StoreRetention, StorePrune?) { (configuration.retention, lastPrune) }
}
