import ErgometerDaemon
import ErgometerStore
import ErgometerTestSupport
import ErgometerWire
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The tick's checkpoints are written on the store's queue (`checkpointInBackground`): while
/// the disk is full each failed write's batch is pending again, and once there is room every
/// tick is saved exactly once, with the job's totals, and what queries showed meanwhile was
/// never missing a job. Real sampler, real SQLite on a real full file system, simulated time.
@Suite(.serialized)
struct BackgroundCheckpointTests {
    static let root = ControlCaller(uid: 0, gid: 0, pid: 1, user: "root", isAdmin: true)

    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root (CI runs as root)"))
    func aFullDiskKeepsEveryBatchUntilTheStoreTakesIt() async throws {
        let box = try SoakBox(fixtures: Fixtures.root)
        try Fixtures.run("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", box.state])
        defer { _ = try? Fixtures.run("/bin/umount", ["-l", box.state]) }
        let clock = SimulatedClock(wall: 1_800_000_000)
        let configuration = box.daemonConfiguration(checkpointSeconds: 5)
        let log = RecordedLog()
        let sampler = try Sampler(
            configuration: configuration, store: try JobStore(directory: box.state), logger: log.logger(label: "background", level: .info),
            clock: clock.samplerClock)
        await sampler.restore()
        var ids: [String] = []
        for pid: Int32 in [4001, 4002] {
            let id = await sampler.nextJobID
            try box.prepareRegisteredJob(id: id, pid: pid)
            _ = try await sampler.register(
                RegisterJobRequest(name: "job \(id)", jobID: nil, labels: [:], command: ["train"], pid: pid, processors: nil), caller: Self.root)
            ids.append(id)
        }
        func tick(_ seconds: Int) async {
            for _ in 0..<seconds {
                clock.advance(seconds: 1)
                box.advance(seconds: 1)
                await sampler.tick()
            }
        }
        await tick(20)
        // The disk fills (dd stops at ENOSPC); checkpoints go on failing for a minute, and the
        // first job ends meanwhile: its end is a write that fails too.
        _ = try? ProcessResult.run("/bin/dd", ["if=/dev/zero", "of=\(box.state)/filler", "bs=4k"])
        await tick(31)
        box.removeJob(key: "run-\(ids[0])")
        _ = try? await sampler.end(id: ids[0], exitStatus: 0, caller: Self.root)
        await tick(29)
        #expect(log.recorded.contains { $0.contains("cannot write the job store") }, "\(log.recorded)")
        let listed = await sampler.jobs(all: true, caller: Self.root)
        #expect(Set(listed.map(\.id)) == Set(ids), "both jobs listed while their rows wait: \(listed.map(\.id))")
        #expect((try? await sampler.report(id: ids[0]))?.ended != nil, "the ended job reports from memory")

        try FileManager.default.removeItem(atPath: box.state + "/filler")
        await tick(20)
        // The writer runs behind the tick (utility): the ticks above may outrun its write; this
        // one waits for it.
        await sampler.checkpoint()
        #expect(log.recorded.contains { $0.contains("job store writable again") }, "\(log.recorded)")
        await sampler.stop()

        let store = try JobStore(directory: box.state)
        for (index, id) in ids.enumerated() {
            let samples = try store.samples(job: id)
            let seconds = index == 0 ? 51 : 100  // the first ended after its 51st second
            #expect(samples.count == seconds, "job \(id): \(samples.count) ticks stored, each once")
            #expect(Set(samples.map(\.start)).count == samples.count, "job \(id): no tick twice")
            #expect(zip(samples, samples.dropFirst()).allSatisfy { $0.end == $1.start }, "job \(id): no gap")
            let (_, totals) = try #require(try store.job(id: id))
            #expect(samples.reduce(0) { $0 + $1.energyMicrojoules } == totals.energyMicrojoules, "job \(id): its series holds its total")
            #expect(samples.reduce(0) { $0 + $1.cpuMicroseconds } == Int64(seconds) * 1_000_000, "job \(id): one core for each second")
        }
        #expect(try store.job(id: ids[0])?.0.ended != nil, "the end saved once there was room")
    }
}
