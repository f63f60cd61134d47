import ErgometerDaemon
import ErgometerStore
import ErgometerTestSupport
import ErgometerWire
import Foundation
import GRDB
import Synchronization
import Testing

/// `register` and `end` answer once what they changed is in the store, and the sampler goes on
/// meanwhile: with the store's file write-locked by another connection (ergod's writer waits in
/// SQLite's busy timeout), ticks run and the job is measured while its request has no answer;
/// once the lock goes, the request is answered and a second connection reads its row. Real
/// sampler, real SQLite, simulated time.
@Suite(.serialized)
struct SavedRepliesTests {
    static let root = ControlCaller(uid: 0, gid: 0, pid: 1, user: "root", isAdmin: true)

    @Test func aRequestWaitsForItsWriteWithoutHoldingTheTicks() async throws {
        let box = try SoakBox(fixtures: Fixtures.root)
        let clock = SimulatedClock(wall: 1_800_000_000)
        let configuration = box.daemonConfiguration(checkpointSeconds: 5)
        let sampler = try Sampler(
            configuration: configuration, store: try JobStore(directory: box.state, busyTimeout: 120), logger: RecordedLog().logger(label: "saved", level: .info),
            clock: clock.samplerClock)
        await sampler.restore()
        let path = box.state + "/ergometer.sqlite"
        let other = try DatabaseQueue(path: path)
        func tick(_ seconds: Int) async {
            for _ in 0..<seconds {
                clock.advance(seconds: 1)
                box.advance(seconds: 1)
                await sampler.tick()
            }
        }
        func stored(_ id: String) throws -> Row? {
            try other.read { db in try Row.fetchOne(db, sql: "SELECT id, ended FROM jobs WHERE id = ?", arguments: [id]) }
        }

        let id = await sampler.nextJobID
        try box.prepareRegisteredJob(id: id, pid: 4101)
        // ergod's writer idle (the restore's prune done) before the lock is taken. The store
        // waits up to 120 s for a lock (5 s by default, past which a write fails and a request
        // is answered with its rows kept in memory, as on a full disk): a test process whose
        // cooperative threads other suites keep busy can take seconds between two steps.
        await sampler.waitForPrune()
        await sampler.checkpoint()
        var unlock = try Self.holdWriteLock(of: path)
        let answered = Atomic<Int>(0)
        let registration = Task {
            defer { answered.store(1, ordering: .sequentiallyConsistent) }
            return try await sampler.register(
                RegisterJobRequest(name: "held", jobID: nil, labels: [:], command: ["train"], pid: 4101, processors: nil), caller: Self.root)
        }
        // The registration is in once the sampler knows the job.
        var known = false
        for _ in 0..<200 where !known {
            known = (try? await sampler.report(id: id)) != nil
            if !known { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(known, "the registration reached the sampler")
        let ticksBefore = await sampler.ticks
        await tick(6)
        try await Task.sleep(for: .milliseconds(100))
        #expect(await sampler.ticks == ticksBefore + 6, "ticks ran while the registration waited for the store")
        #expect(answered.load(ordering: .sequentiallyConsistent) == 0, "no answer before the job's row is saved")
        #expect(try stored(id) == nil, "the row is not in the store yet")
        #expect((try await sampler.report(id: id)).energyJoules > 0, "the job is measured meanwhile")
        unlock()
        let response = try await registration.value
        #expect(response.id == id)
        #expect(try stored(id) != nil, "answered once its row is in the store")

        // An end the same way: no answer while the lock is held, the ended row on disk after.
        await tick(3)
        box.removeJob(key: "run-\(id)")
        await sampler.waitForPrune()
        await sampler.checkpoint()
        unlock = try Self.holdWriteLock(of: path)
        let ending = Task { try await sampler.end(id: id, exitStatus: 0, caller: Self.root) }
        var ended = false
        for _ in 0..<200 where !ended {
            ended = (try? await sampler.report(id: id))?.ended != nil
            if !ended { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(ended, "the end reached the sampler")
        await tick(6)
        try await Task.sleep(for: .milliseconds(100))
        #expect(try stored(id)?["ended"] as Double? == nil, "the end is not in the store yet")
        unlock()
        let report = try await ending.value
        #expect(report.ended != nil)
        #expect(try stored(id)?["ended"] as Double? == report.ended, "answered once its end is in the store")
        await sampler.stop()
    }

    /// Takes the store's write lock from a connection of its own (a transaction held open on a
    /// thread of its own); the returned function lets it go and returns once it has.
    static func holdWriteLock(of path: String) throws -> () -> Void {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)  // ergod's own writes (a prune, a checkpoint) may hold it a moment
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        let locked = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        Thread.detachNewThread {
            do {
                try queue.inDatabase { db in
                    try db.execute(sql: "BEGIN IMMEDIATE")
                    locked.signal()
                    release.wait()
                    try db.execute(sql: "ROLLBACK")
                }
            } catch {
                failure.withLock { $0 = error }
                locked.signal()
            }
            done.signal()
        }
        locked.wait()
        if let error = failure.withLock({ $0 }) { throw error }
        return {
            release.signal()
            done.wait()
        }
    }
}
