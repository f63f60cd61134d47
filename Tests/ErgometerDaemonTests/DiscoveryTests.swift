import ErgometerDaemon
import ErgometerStore
import ErgometerTestSupport
import ErgometerWire
import Foundation
import Testing

/// The schedulers' cgroup layouts, made for real with mkdir in this machine's cgroup v2 tree,
/// each with a real process moved in: the sampler finds each job, names it, measures its CPU, and
/// ends it when its folder goes. These folders sit where a real box has them (system.slice,
/// machine.slice, kubepods.slice at the top of the tree), where every other sampler's discovery
/// would find them too, so the suite runs alone: `make test` runs it in a pass of its own
/// (ERGOMETER_DISCOVERY_TESTS=1).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["ERGOMETER_DISCOVERY_TESTS"] == "1"))
struct DiscoveryTests {
    static let containerID = "4f1c2a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d"
    static let podUID = "8d3e2f1a-7c6b-4a5d-9e8f-1a2b3c4d5e6f"
    static let sluid = "sZ9X3KQ2WB"

    /// A process that waits for a line on its standard input, burns `loops` iterations of CPU
    /// (after it was moved into its cgroup and found), then sleeps.
    final class Burner {
        let process = Process()
        let input = Pipe()

        init(loops: Int, environment: [String: String] = [:]) throws {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "read go; i=0; while [ $i -lt \(loops) ]; do i=$((i+1)); done; exec sleep 600"]
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            process.standardInput = input
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }
        func go() { input.fileHandleForWriting.write(Data("go\n".utf8)) }
        func stop() {
            if process.isRunning { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// The v2 mount, from mountinfo.
    static func unifiedMount() throws -> String {
        let mountinfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        return try #require(mountinfo.split(separator: "\n").first { $0.contains(" - cgroup2 ") }.map { String($0.split(separator: " ")[4]) })
    }

    /// Folders made (deepest last) and removed in reverse, their processes moved back to the root.
    final class Folders {
        let mount: String
        var made: [String] = []
        init(mount: String) { self.mount = mount }

        func make(_ path: String, holding pid: Int32? = nil) throws {
            var partial = ""
            for component in path.split(separator: "/") {
                partial += "/" + component
                if mkdir(mount + partial, 0o755) == 0 { made.append(partial) }
            }
            if let pid { try "\(pid)\n".write(toFile: mount + path + "/cgroup.procs", atomically: false, encoding: .utf8) }
        }

        func remove(_ path: String) {
            for folder in made.reversed() where folder.hasPrefix(path) {
                if let pids = try? String(contentsOfFile: mount + folder + "/cgroup.procs", encoding: .utf8) {
                    for pid in pids.split(separator: "\n") { try? "\(pid)\n".write(toFile: mount + "/cgroup.procs", atomically: false, encoding: .utf8) }
                }
                rmdir(mount + folder)
            }
            made.removeAll { $0.hasPrefix(path) }
        }

        deinit { remove("/") }
    }

    func sampler(root: String, units: [String] = [], maxActiveJobs: Int = 1000) throws -> (Sampler, RecordedLog) {
        var configuration = DaemonConfiguration()
        configuration.maxActiveJobs = maxActiveJobs
        configuration.sysfsRoot = root + "/sys"
        configuration.stateDirectory = root + "/state"
        configuration.cgroupSubtree = "ergometer-discovery-\(UUID().uuidString.prefix(8))"
        configuration.intervalSeconds = 0.05
        configuration.discoveryScanSeconds = 0.05
        configuration.checkpointSeconds = 600
        configuration.discoverSystemdUnits = units
        try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true)
        let log = RecordedLog()
        return (try SamplerFaultTests.Bench.sampler(configuration, log: log), log)
    }

    /// Ticks until `done` holds (at most 5 s), 60 ms apart: each tick may scan.
    func tick(_ sampler: Sampler, until done: () async -> Bool) async throws {
        for _ in 0..<80 {
            try await Task.sleep(nanoseconds: 60_000_000)
            await sampler.tick()
            if await done() { return }
        }
    }

    @Test func everyLayoutIsFoundNamedMeasuredAndEndedWithItsFolder() async throws {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folders = Folders(mount: try Self.unifiedMount())
        let unit = "ergotest-\(UUID().uuidString.prefix(6).lowercased()).service"
        let kube = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(Self.podUID.replacingOccurrences(of: "-", with: "_")).slice"
        // Each layout, the job it is, and the name it gets.
        let layouts: [(path: String, leaf: String, jobID: String, scheduler: String, name: String)] = [
            ("/system.slice/slurmstepd.scope/job_4242", "/step_batch/user/task_0", "4242", "slurm", "resnet-sweep"),
            ("/system.slice/slurmstepd.scope/\(Self.sluid)", "/step_0/user/task_0", Self.sluid, "slurm", "slurm-\(Self.sluid)"),
            ("/system.slice/docker-\(Self.containerID).scope", "", "4f1c2a9d8e7b", "docker", "docker-4f1c2a9d8e7b"),
            ("/machine.slice/libpod-\(Self.containerID).scope", "", "4f1c2a9d8e7b", "podman", "podman-4f1c2a9d8e7b"),
            ("/system.slice/cri-containerd-\(Self.containerID).scope", "", "4f1c2a9d8e7b", "containerd", "containerd-4f1c2a9d8e7b"),
            ("/system.slice/crio-\(Self.containerID).scope", "", "4f1c2a9d8e7b", "crio", "crio-4f1c2a9d8e7b"),
            (kube, "/cri-containerd-\(String(repeating: "a", count: 64)).scope", Self.podUID, "kubernetes", "pod-\(Self.podUID)"),
            ("/system.slice/\(unit)", "", unit, "systemd", unit),
        ]
        var burners: [Burner] = []
        defer { for burner in burners { burner.stop() } }
        for layout in layouts {
            let burner = try Burner(loops: 150_000, environment: layout.jobID == "4242" ? ["SLURM_JOB_NAME": "resnet-sweep"] : [:])
            burners.append(burner)
            try folders.make(layout.path + layout.leaf, holding: burner.pid)
        }
        // The pod's second container.
        let second = try Burner(loops: 150_000)
        burners.append(second)
        try folders.make(kube + "/cri-containerd-\(String(repeating: "b", count: 64)).scope", holding: second.pid)
        // The conmon scope beside a container is no job.
        try folders.make("/machine.slice/libpod-conmon-\(Self.containerID).scope")

        let (sampler, log) = try sampler(root: root, units: ["ergotest-*.service"])
        await sampler.restore()
        let caller = SamplerFaultTests.Bench.caller
        try await tick(sampler) { await sampler.jobs(all: true, caller: caller).count >= layouts.count }
        let found = await sampler.jobs(all: true, caller: caller)
        #expect(found.count == layouts.count, "\(found.map(\.jobID)) \(log.recorded)")
        for burner in burners { burner.go() }
        try await Task.sleep(nanoseconds: 1_500_000_000)
        await sampler.tick()
        for layout in layouts {
            let job = try #require(found.first { $0.scheduler == layout.scheduler && $0.jobID == layout.jobID }, "\(layout.path) not found")
            #expect(job.name == layout.name)
            let report = try await sampler.report(id: job.id)
            #expect(report.labels["scheduler"] == layout.scheduler && report.scheduler == layout.scheduler)
            #expect(report.user == UserDatabase.userName(uid: Int(getuid())))
            let expected = layout.scheduler == "kubernetes" ? 0.1 : 0.05  // two containers' processes in one pod
            #expect(report.cpuSeconds > expected, "\(layout.path): \(report.cpuSeconds) CPU-s")
            #expect(report.tracking == .cgroup && report.ended == nil)
        }
        // Removed by its scheduler: the job ends, and ergod never removed a folder it did not make.
        burners[2].stop()
        folders.remove(layouts[2].path)
        let docker = try #require(found.first { $0.scheduler == "docker" })
        try await tick(sampler) { (try? await sampler.report(id: docker.id).ended) != nil }
        #expect(try await sampler.report(id: docker.id).ended != nil)
        #expect(log.contains("scheduler's job ended"))
        #expect(FileManager.default.fileExists(atPath: folders.mount + layouts[0].path), "Slurm's folder is Slurm's to remove")
    }
    /// An `ergo run` inside a Slurm job is a job of its own (followed by its process tree, left
    /// in Slurm's cgroup so Slurm's limits hold) and the Slurm job's weights exclude it: two
    /// processes burning alike, one the Slurm job's own and one the `ergo run`'s, get about the
    /// same energy, not 2:1 as they would if the inner one counted in both.
    @Test func anErgoRunInsideASlurmJobCountsOnce() async throws {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folders = Folders(mount: try Self.unifiedMount())
        let meter = try SimulatedRAPL(sysfs: root + "/sys", idleWatts: 0, wattsPerBusyCore: 20, dramWatts: 0, packageStartBelowWrap: 50_000_000)
        let own = try Burner(loops: 400_000)
        let inner = try Burner(loops: 400_000)
        defer { own.stop(); inner.stop() }
        try folders.make("/system.slice/slurmstepd.scope/job_77/step_batch/user/task_0", holding: own.pid)
        try folders.make("/system.slice/slurmstepd.scope/job_77/step_0/user/task_0", holding: inner.pid)
        let (sampler, _) = try sampler(root: root)
        await sampler.restore()
        let caller = SamplerFaultTests.Bench.caller
        try await tick(sampler) { await sampler.jobs(all: true, caller: caller).contains { $0.jobID == "77" } }
        let registered = try await sampler.register(
            RegisterJobRequest(name: "inner", jobID: nil, labels: [:], command: ["sh"], pid: inner.pid, processors: nil), caller: caller)
        #expect(registered.tracking == .processTree)
        #expect(registered.trackingNote?.contains("inside slurm job 77") == true, "\(registered.trackingNote ?? "")")
        let slurm = try #require(await sampler.jobs(all: true, caller: caller).first { $0.jobID == "77" })
        meter.start()
        defer { meter.stop() }
        own.go()
        inner.go()
        for _ in 0..<60 {
            try await Task.sleep(nanoseconds: 50_000_000)
            await sampler.tick()
        }
        let outer = try await sampler.report(id: slurm.id)
        let nested = try await sampler.report(id: registered.id)
        #expect(nested.cpuSeconds > 0.2 && outer.cpuSeconds > 0.2, "\(nested.cpuSeconds) and \(outer.cpuSeconds) CPU-s")
        let ratio = outer.energyByDomain.packageJoules / max(nested.energyByDomain.packageJoules, 1e-9)
        #expect(ratio > 0.6 && ratio < 1.6, "Slurm job \(outer.energyByDomain.packageJoules) J against the ergo run's \(nested.energyByDomain.packageJoules) J")
        // Conservation still: every package microjoule in one bucket.
        let ledger = await sampler.ledger(for: caller)
        for domain in ledger.domains {
            guard let buckets = domain.buckets else { continue }
            #expect(buckets.jobsMicrojoules.values.reduce(buckets.systemMicrojoules + buckets.idleMicrojoules, +) == domain.measuredMicrojoules)
        }
    }
    /// A scheduler's job running across an ergod restart is the same job afterwards (found again
    /// by its folder, not admitted twice), its CPU while ergod was down counted from its counter.
    @Test func aDiscoveredJobContinuesAcrossARestart() async throws {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folders = Folders(mount: try Self.unifiedMount())
        let burner = try Burner(loops: 300_000)
        defer { burner.stop() }
        try folders.make("/system.slice/slurmstepd.scope/job_501/step_batch/user/task_0", holding: burner.pid)
        let (first, _) = try sampler(root: root)
        await first.restore()
        let caller = SamplerFaultTests.Bench.caller
        try await tick(first) { await first.jobs(all: true, caller: caller).count == 1 }
        let id = try #require(await first.jobs(all: true, caller: caller).first?.id)
        await first.checkpoint()
        burner.go()  // burns while no ergod runs
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let configuration = await first.configuration
        let second = try SamplerFaultTests.Bench.sampler(configuration, log: RecordedLog())
        await second.restore()
        for _ in 0..<5 {
            try await Task.sleep(nanoseconds: 60_000_000)
            await second.tick()
        }
        let jobs = await second.jobs(all: true, caller: caller)
        #expect(jobs.map(\.id) == [id], "\(jobs.map { "\($0.id) \($0.jobID)" })")
        let report = try await second.report(id: id)
        #expect(report.ended == nil && report.cpuSeconds > 0.1, "the burn while ergod was down: \(report.cpuSeconds) CPU-s")
    }
    /// A Slurm job's folder made before its process (slurmstepd makes the step, then moves the
    /// task in): no job while it is empty, and measured once its process is there, though no
    /// folder any scan lists changed in between (the scans that find nothing new skip the rest).
    @Test func aJobWhoseProcessComesAfterItsFolderIsMeasuredWhenItComes() async throws {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folders = Folders(mount: try Self.unifiedMount())
        let burner = try Burner(loops: 1)
        defer { burner.stop() }
        let task = "/system.slice/slurmstepd.scope/job_720/step_batch/user/task_0"
        try folders.make(task)
        let (sampler, _) = try sampler(root: root)
        await sampler.restore()
        let caller = SamplerFaultTests.Bench.caller
        for _ in 0..<6 {  // six scans of the empty job
            try await Task.sleep(nanoseconds: 60_000_000)
            await sampler.tick()
        }
        #expect(await sampler.jobs(all: true, caller: caller).isEmpty)
        try "\(burner.pid)\n".write(toFile: folders.mount + task + "/cgroup.procs", atomically: false, encoding: .utf8)
        try await tick(sampler) { await sampler.jobs(all: true, caller: caller).contains { $0.jobID == "720" } }
        let jobs = await sampler.jobs(all: true, caller: caller)
        #expect(jobs.map(\.jobID) == ["720"] && jobs.first?.ended == nil, "\(jobs.map(\.jobID))")
    }
    /// At the job limit a scheduler's job is left unmeasured, said once however many scans see
    /// it, and measured once there is room.
    @Test func aJobOverTheLimitIsSaidOnceAndAdmittedWhenThereIsRoom() async throws {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folders = Folders(mount: try Self.unifiedMount())
        let burners = [try Burner(loops: 1), try Burner(loops: 1)]
        defer { for burner in burners { burner.stop() } }
        for (index, burner) in burners.enumerated() {
            try folders.make("/system.slice/slurmstepd.scope/job_\(610 + index)/step_0", holding: burner.pid)
        }
        let (sampler, log) = try sampler(root: root, maxActiveJobs: 1)
        await sampler.restore()
        let caller = SamplerFaultTests.Bench.caller
        for _ in 0..<8 {
            try await Task.sleep(nanoseconds: 60_000_000)
            await sampler.tick()
        }
        let running = await sampler.jobs(all: true, caller: caller).filter { $0.ended == nil }
        #expect(running.count == 1)
        #expect(log.recorded.filter { $0.contains("not measured: a job limit") }.count == 1)
        // The admitted one's folder goes: the other is measured at the next scan.
        let admitted = try #require(running.first)
        folders.remove("/system.slice/slurmstepd.scope/job_\(admitted.jobID)")
        try await tick(sampler) {
            let now = await sampler.jobs(all: true, caller: caller).filter { $0.ended == nil }
            return now.count == 1 && now.first?.id != admitted.id
        }
        let now = await sampler.jobs(all: true, caller: caller).filter { $0.ended == nil }
        #expect(now.count == 1 && now.first?.jobID != admitted.jobID, "\(now.map(\.jobID)) \(log.recorded.suffix(6))")
    }
}
