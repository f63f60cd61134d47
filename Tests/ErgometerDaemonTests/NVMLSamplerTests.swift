import ErgometerDaemon
import ErgometerStore
import ErgometerTestSupport
import ErgometerWire
import Foundation
import Testing

/// The sampler on the fake NVML: its counters follow a scripted power over a virtual clock, so
/// each GPU's energy over the run is known exactly (W × ms), and its processes are real child
/// processes of the test, registered as jobs (their own cgroups) or left outside every job.
@Suite(.serialized)
struct NVMLSamplerTests {
    /// A sampler on the intel-1s tree with the fake NVML, and the test's child processes.
    final class Box {
        let nvml: FakeNVML
        let root: String
        let log = RecordedLog()
        let configuration: DaemonConfiguration
        var sampler: Sampler
        var children: [Process] = []
        let subtree = "ergometer-nvml-\(UUID().uuidString.prefix(8))"
        var jobs: [String] = []
        var clock: UInt64 = 0
        var gpus: [FakeNVML.GPU]
        var processes: [FakeNVML.Process] = []
        var phantoms: [Int: Int] = [:]

        init(gpus: [FakeNVML.GPU], lackingProcessUtilization: Bool = false, policy: String = "proportional") async throws {
            nvml = try FakeNVML(lackingProcessUtilization: lackingProcessUtilization)
            self.gpus = gpus
            try nvml.write(clockMilliseconds: 0, gpus: gpus)
            root = try Fixtures.scratchCopy(of: "intel-1s")
            var configuration = DaemonConfiguration()
            configuration.sysfsRoot = root + "/sys"
            configuration.stateDirectory = root + "/state"
            configuration.cgroupSubtree = subtree
            configuration.checkpointSeconds = 600
            configuration.idleWatts = 0
            configuration.nvmlLibrary = nvml.libraryPath
            configuration.idlePolicy = policy == "separate" ? .separate : .proportional
            try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true)
            self.configuration = configuration
            sampler = try SamplerFaultTests.Bench.sampler(configuration, log: log)
            await sampler.restore()
        }

        /// A child process (`sleep`), as a job or not.
        func child(job name: String?) async throws -> (pid: Int32, job: String?) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sleep")
            process.arguments = ["600"]
            try process.run()
            children.append(process)
            guard let name else { return (process.processIdentifier, nil) }
            let response = try await sampler.register(
                RegisterJobRequest(name: name, jobID: nil, labels: [:], command: ["sleep"], pid: process.processIdentifier, processors: nil),
                caller: SamplerFaultTests.Bench.caller)
            jobs.append(response.id)
            return (process.processIdentifier, response.id)
        }

        /// Virtual time forward by `milliseconds` with the script as it stands, then a tick.
        func tick(milliseconds: UInt64 = 1000) async throws {
            clock += milliseconds
            try nvml.write(clockMilliseconds: clock, gpus: gpus, processes: processes, phantoms: phantoms)
            await sampler.tick()
        }

        func ledger(_ domain: String) async -> Ledger.Domain? {
            await sampler.ledger(for: SamplerFaultTests.Bench.caller).domains.first { $0.domain == domain }
        }

        func joules(_ job: String, on domain: String) async throws -> Double {
            try await sampler.report(id: job).domains.filter { $0.domain == domain }.reduce(0) { $0 + $1.joules }
        }

        deinit {
            for child in children where child.isRunning {
                kill(child.processIdentifier, SIGKILL)
                child.waitUntilExit()
            }
            if let cgroups = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
                .split(separator: "\n").first(where: { $0.contains(" - cgroup2 ") })?.split(separator: " ")[4] {
                for job in jobs { rmdir("\(cgroups)/\(subtree)/job-\(job)") }
                rmdir("\(cgroups)/\(subtree)")
            }
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    /// Every bucket of a domain adds up to what its meter measured.
    static func addsUp(_ domain: Ledger.Domain?) -> Bool {
        guard let domain, let buckets = domain.buckets else { return false }
        return buckets.jobsMicrojoules.values.reduce(buckets.systemMicrojoules + buckets.idleMicrojoules, +) == domain.measuredMicrojoules
    }

    /// Three GPUs: two jobs share GPU 0 at SM 60 % and 30 %; GPU 1 runs a third job at 50 % and
    /// a process outside every job at 25 %; GPU 2 has no process. Five seconds of scripted power.
    @Test func eachGPUIsMeasuredExactlyAndSplitByItsProcessesUse() async throws {
        let box = try await Box(gpus: [FakeNVML.GPU(index: 0, watts: 300), FakeNVML.GPU(index: 1, watts: 200), FakeNVML.GPU(index: 2, watts: 55)])
        let a = try await box.child(job: "a")
        let b = try await box.child(job: "b")
        let c = try await box.child(job: "c")
        let outside = try await box.child(job: nil)
        box.processes = [
            .init(gpu: 0, pid: a.pid, sm: 60), .init(gpu: 0, pid: b.pid, sm: 30), .init(gpu: 1, pid: c.pid, sm: 50),
            .init(gpu: 1, pid: outside.pid, sm: 25),
        ]
        for _ in 0..<5 { try await box.tick() }

        // Measured == scripted, exactly: W × 5 s.
        let gpu0 = await box.ledger(box.gpus[0].domain)
        let gpu1 = await box.ledger(box.gpus[1].domain)
        let gpu2 = await box.ledger(box.gpus[2].domain)
        #expect(gpu0?.measuredMicrojoules == 1_500_000_000 && gpu0?.source == "nvml-energy")
        #expect(gpu1?.measuredMicrojoules == 1_000_000_000)
        #expect(gpu2?.measuredMicrojoules == 275_000_000)
        #expect(Self.addsUp(gpu0) && Self.addsUp(gpu1) && Self.addsUp(gpu2))
        // 60 % against 30 %: 2:1.
        let jobA = try await box.joules(a.job!, on: box.gpus[0].domain)
        let jobB = try await box.joules(b.job!, on: box.gpus[0].domain)
        #expect(abs(jobA / jobB - 2) < 0.04, "\(jobA) J vs \(jobB) J")
        #expect(abs(jobA + jobB - 1500) < 1e-6)
        // GPU 1: the job 2/3, the process outside every job's third is system's.
        let jobC = try await box.joules(c.job!, on: box.gpus[1].domain)
        #expect(abs(jobC - 1000.0 * 2 / 3) < 0.001, "\(jobC) J")
        #expect(abs(Double(gpu1?.buckets?.systemMicrojoules ?? 0) / 1e6 - 1000.0 / 3) < 0.001)
        // GPU 2: nobody, all idle.
        #expect(gpu2?.buckets?.idleMicrojoules == 275_000_000)
        // The reports list each job's GPUs.
        let report = try await box.sampler.report(id: a.job!)
        #expect(report.gpus.count == 1)
        #expect(report.gpus.first?.uuid == box.gpus[0].uuid && report.gpus.first?.source == "nvml-energy")
        #expect(report.gpus.first?.pciSlot == box.gpus[0].pciSlot && report.gpus.first?.name == "NVIDIA H100 80GB HBM3")
        #expect((report.gpus.first?.gpuSeconds ?? 0) > 0 && abs((report.gpus.first?.energyJoules ?? 0) - jobA) < 1e-9)
        // /metrics: each GPU's energy as measured, its utilization, each job's GPU series; promtool clean.
        let metrics = await box.sampler.metricsText()
        for (gpu, joules) in zip(box.gpus, ["1500", "1000", "275"]) {
            #expect(metrics.contains("ergometer_energy_joules_total{domain=\"\(gpu.domain)\",kind=\"gpu\",source=\"nvml-energy\"} \(joules)\n"))
            #expect(metrics.contains("ergometer_power_watts{domain=\"\(gpu.domain)\",kind=\"gpu\",source=\"nvml-energy\"}"))
            #expect(metrics.contains("ergometer_gpu_utilization_ratio{uuid=\"\(gpu.uuid)\",domain=\"\(gpu.domain)\"}"))
        }
        let jobSeries = metrics.split(separator: "\n").filter { $0.hasPrefix("ergometer_job_energy_joules_total{") && $0.contains("kind=\"gpu\"") }
        #expect(jobSeries.count == 3, "\(jobSeries)")
        let check = try ProcessResult.run("/usr/bin/promtool", ["check", "metrics"], input: Array(metrics.utf8))
        #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")
    }

    /// A board without the energy counter: its power integrated per tick (real time, so the
    /// bound is the scripted power over the sampler's lifetime on either side).
    @Test func withoutACounterPowerIsIntegratedWithinItsBound() async throws {
        let before = DispatchTime.now().uptimeNanoseconds
        let box = try await Box(gpus: [FakeNVML.GPU(index: 0, watts: 240, energyCounter: false)])
        let after = DispatchTime.now().uptimeNanoseconds
        let job = try await box.child(job: "power")
        let registered = DispatchTime.now().uptimeNanoseconds
        box.processes = [.init(gpu: 0, pid: job.pid, sm: 80)]
        for _ in 0..<4 {
            usleep(50_000)
            try await box.tick()
        }
        let lastTickStart = DispatchTime.now().uptimeNanoseconds
        try await box.tick()
        let end = DispatchTime.now().uptimeNanoseconds
        let domain = await box.ledger(box.gpus[0].domain)
        let measured = Double(domain?.measuredMicrojoules ?? 0) / 1e6
        #expect(domain?.source == "nvml-power")
        #expect(measured >= 240 * Double(lastTickStart - after) / 1e9 && measured <= 240 * Double(end - before) / 1e9, "\(measured) J")
        #expect(Self.addsUp(domain))
        let joules = try await box.joules(job.job!, on: box.gpus[0].domain)
        // The only process: all of it from its first tick; idle before (no process on the GPU).
        let idle = Double(domain?.buckets?.idleMicrojoules ?? 0) / 1e6
        #expect(abs(joules + idle - measured) < 1e-6 && idle <= 240 * Double(registered - before) / 1e9, "\(joules) J, idle \(idle) J")
        #expect(box.log.contains("no energy counter"))
    }

    /// A driver reload (the counter restarts at 0) loses that one interval and no more; a GPU
    /// that answers GPU_IS_LOST keeps what it measured, is logged, and its energy while lost
    /// is counted when it answers again; 40 processes more than the first list holds
    /// (INSUFFICIENT_SIZE) are read whole. The other GPU and the job go on throughout.
    @Test func reloadsLostGPUsAndLongListsLoseNothingElse() async throws {
        let box = try await Box(gpus: [FakeNVML.GPU(index: 0, watts: 300), FakeNVML.GPU(index: 1, watts: 200)])
        let job = try await box.child(job: "long")
        box.processes = [.init(gpu: 0, pid: job.pid, sm: 70), .init(gpu: 1, pid: job.pid, sm: 40)]
        box.phantoms = [0: 40]
        try await box.tick()
        try await box.tick()
        box.gpus[1].reload = 1
        try await box.tick()  // GPU 1's counter restarted: this interval is not counted
        box.gpus[0].lost = true
        try await box.tick()
        try await box.tick()
        #expect(box.log.contains("is lost (GPU_IS_LOST)"))
        let whileLost = await box.ledger(box.gpus[0].domain)
        #expect(whileLost?.measuredMicrojoules == 900_000_000, "three seconds before it was lost, kept")
        let report = try await box.sampler.report(id: job.job!)
        #expect(report.ended == nil)
        box.gpus[0].lost = false
        try await box.tick()
        #expect(box.log.contains("NVIDIA GPUs readable again"))
        let gpu0 = await box.ledger(box.gpus[0].domain)
        let gpu1 = await box.ledger(box.gpus[1].domain)
        #expect(gpu0?.measuredMicrojoules == 1_800_000_000, "six seconds at 300 W: the lost ones counted on its return")
        #expect(gpu1?.measuredMicrojoules == 1_000_000_000, "six seconds at 200 W less the reload's")
        #expect(Self.addsUp(gpu0) && Self.addsUp(gpu1))
        // The 40 phantoms have no samples: the job's process has all of the active energy.
        let onGPU0 = try await box.joules(job.job!, on: box.gpus[0].domain)
        #expect(abs(onGPU0 - 1800) < 1e-6, "\(onGPU0) J")
        let metrics = await box.sampler.metricsText()
        #expect(metrics.contains("ergometer_probe_errors_total{probe=\"nvml\"}"))
    }

    /// A library without nvmlDeviceGetProcessUtilization, and a GPU in MIG mode: processes that
    /// hold a GPU share its energy equally, and the reports say the split is board-level.
    @Test func withoutSamplesProcessesShareEquallyAndMIGIsBoardLevel() async throws {
        var mig = FakeNVML.GPU(index: 1, watts: 120)
        mig.mig = true
        let box = try await Box(gpus: [FakeNVML.GPU(index: 0, watts: 300), mig], lackingProcessUtilization: true)
        let a = try await box.child(job: "a")
        let b = try await box.child(job: "b")
        box.processes = [.init(gpu: 0, pid: a.pid, sm: 90), .init(gpu: 0, pid: b.pid, sm: 10), .init(gpu: 1, pid: a.pid, sm: nil), .init(gpu: 1, pid: b.pid, sm: nil)]
        for _ in 0..<3 { try await box.tick() }
        #expect(box.log.contains("lacks nvmlDeviceGetProcessUtilization"))
        #expect(box.log.contains("MIG mode"))
        let onA = try await box.joules(a.job!, on: box.gpus[0].domain)
        let onB = try await box.joules(b.job!, on: box.gpus[0].domain)
        #expect(abs(onA - 450) < 1e-6 && abs(onB - 450) < 1e-6, "\(onA) J, \(onB) J")
        let report = try await box.sampler.report(id: a.job!)
        let board = report.gpus.first { $0.uuid == box.gpus[1].uuid }
        #expect(board?.boardLevel == true && abs((board?.energyJoules ?? 0) - 180) < 1e-6)
    }

    /// A process in a folder below a job's cgroup counts in that job (the innermost job holding
    /// it); a process moved into a job while it holds no GPU is looked up again when it returns
    /// to one (its old answer, "outside every job", is not kept for a process NVML stopped listing).
    @Test func processesBelowAJobsCgroupAndMovedIntoOneCountInIt() async throws {
        let box = try await Box(gpus: [FakeNVML.GPU(index: 0, watts: 100)])
        let a = try await box.child(job: "a")
        let worker = try await box.child(job: nil)
        let wanderer = try await box.child(job: nil)
        let mount = try #require(try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
            .split(separator: "\n").first(where: { $0.contains(" - cgroup2 ") })?.split(separator: " ")[4])
        let jobFolder = "\(mount)/\(box.subtree)/job-\(a.job!)"
        // cgroup v2's rule: processes only in leaves, so the job's own process moves down too.
        for (folder, pid) in [("main", a.pid), ("worker", worker.pid)] {
            try FileManager.default.createDirectory(atPath: "\(jobFolder)/\(folder)", withIntermediateDirectories: true)
            try "\(pid)\n".write(toFile: "\(jobFolder)/\(folder)/cgroup.procs", atomically: false, encoding: .utf8)
        }
        defer {
            for folder in ["main", "worker"] {
                if let pids = try? String(contentsOfFile: "\(jobFolder)/\(folder)/cgroup.procs", encoding: .utf8) {
                    for pid in pids.split(separator: "\n") { try? "\(pid)\n".write(toFile: "\(jobFolder)/cgroup.procs", atomically: false, encoding: .utf8) }
                }
                rmdir("\(jobFolder)/\(folder)")
            }
        }
        box.processes = [.init(gpu: 0, pid: worker.pid, sm: 40), .init(gpu: 0, pid: wanderer.pid, sm: 40)]
        try await box.tick()
        try await box.tick()
        // Two seconds: half the GPU's 200 J to the job (the worker), half to system (the wanderer).
        #expect(abs(try await box.joules(a.job!, on: box.gpus[0].domain) - 100) < 1e-6)
        // The wanderer leaves the GPU, moves into the job, and comes back.
        box.processes = [.init(gpu: 0, pid: worker.pid, sm: 40)]
        try await box.tick()
        try "\(wanderer.pid)\n".write(toFile: "\(jobFolder)/worker/cgroup.procs", atomically: false, encoding: .utf8)
        box.processes = [.init(gpu: 0, pid: worker.pid, sm: 40), .init(gpu: 0, pid: wanderer.pid, sm: 40)]
        try await box.tick()
        // 100 J + 100 J (the worker alone) + 100 J (both, now in the job).
        let joules = try await box.joules(a.job!, on: box.gpus[0].domain)
        #expect(abs(joules - 300) < 1e-6, "\(joules) J")
        let gpu = await box.ledger(box.gpus[0].domain)
        #expect(abs(Double(gpu?.buckets?.systemMicrojoules ?? 0) / 1e6 - 100) < 1e-6)
    }

    /// ergod gone without a word (its checkpoint 600 s away) and a new one on the same store:
    /// the GPU energy drawn while it was down is the new one's first tick's, counter to counter.
    @Test func aRestartBetweenCheckpointsLosesNoGPUEnergy() async throws {
        let box = try await Box(gpus: [FakeNVML.GPU(index: 0, watts: 250)])
        let job = try await box.child(job: "restart")
        box.processes = [.init(gpu: 0, pid: job.pid, sm: 50)]
        try await box.tick()
        try await box.tick()
        await box.sampler.checkpoint()
        try await box.tick()
        // Down: two seconds pass on the GPU, then another sampler on the same store.
        box.clock += 2000
        try box.nvml.write(clockMilliseconds: box.clock, gpus: box.gpus, processes: box.processes)
        box.sampler = try SamplerFaultTests.Bench.sampler(box.configuration, log: box.log)
        await box.sampler.restore()
        try await box.tick()
        let joules = try await box.joules(job.job!, on: box.gpus[0].domain)
        #expect(abs(joules - 250 * 6) < 1e-6, "six seconds at 250 W, two of them while no sampler ran: \(joules) J")
    }
}
