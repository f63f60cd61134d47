import ErgometerTestSupport
import Foundation
import Testing

/// ergod with the fake NVML named by `gpu.nvml_library`: jobs started by `ergo run` whose
/// processes the fake lists on its GPUs, ergod killed -9 and restarted mid-job, `ergo compare`
/// counting GPUs, and `ergo probe` with and without a library.
@Suite(.serialized, .enabled(if: getuid() == 0, "job cgroups need root (CI runs as root)"))
struct GPUJobsEndToEndTests {
    static func configuration(_ nvml: FakeNVML) -> String {
        "[daemon]\ninterval_seconds = 0.1\ncheckpoint_seconds = 0.5\n\n[gpu]\nnvml_library = \"\(nvml.libraryPath)\"\n"
    }

    /// `ergo run -- sh -c '…'` in the background: the shell writes its pid to `pidFile` first.
    static func run(_ daemon: RunningDaemon, name: String, pidFile: String, then command: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.executable("ergo"))
        process.arguments = ["run", "--socket", daemon.socket, "--name", name, "--", "/bin/sh", "-c", "echo $$ > '\(pidFile)'; \(command)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func waitForPID(_ path: String) throws -> Int32 {
        for _ in 0..<400 {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return pid
            }
            usleep(10_000)
        }
        throw FixtureError("the job's shell never wrote \(path)")
    }

    static func json(_ result: ProcessResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any], "\(result.standardError)")
    }

    /// A 200 W GPU held by one job at SM 50 % on a virtual clock: 3 s with ergod, 2 s after it
    /// was killed -9 (its last checkpoint up to 0.5 s old), 1 s with the restarted one. The
    /// job's GPU energy is all six seconds' 1200 J, exactly: nothing drawn while ergod was down
    /// or since its last checkpoint is lost.
    @Test func killingErgodMidJobLosesNoGPUEnergy() throws {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let nvml = try FakeNVML()
        let gpus = [FakeNVML.GPU(index: 0, watts: 200), FakeNVML.GPU(index: 1, watts: 80)]
        try nvml.write(clockMilliseconds: 0, gpus: gpus)
        var daemon = try RunningDaemon(root: root, configuration: Self.configuration(nvml))
        defer { daemon.stop() }
        let pidFile = root + "/hold.pid"
        let job = try Self.run(daemon, name: "hold", pidFile: pidFile, then: "exec sleep 60")
        defer { if job.isRunning { job.terminate() } }
        let pid = try Self.waitForPID(pidFile)
        usleep(300_000)  // registered, in its cgroup
        let processes = [FakeNVML.Process(gpu: 0, pid: pid, sm: 50)]
        for clock in [1000, 2000, 3000] as [UInt64] {
            try nvml.write(clockMilliseconds: clock, gpus: gpus, processes: processes)
            usleep(300_000)
        }
        daemon.signal(SIGKILL)
        daemon.process.waitUntilExit()
        try nvml.write(clockMilliseconds: 5000, gpus: gpus, processes: processes)
        daemon = try RunningDaemon(root: root, configuration: Self.configuration(nvml))
        usleep(300_000)
        try nvml.write(clockMilliseconds: 6000, gpus: gpus, processes: processes)
        usleep(500_000)
        kill(pid, SIGKILL)  // the job's command ends; `ergo run` ends the job
        job.waitUntilExit()
        let listed = try daemon.ergo(["jobs", "--all", "--json"])
        let jobs = try #require(try JSONSerialization.jsonObject(with: Data(listed.standardOutput.utf8)) as? [[String: Any]], "\(listed.standardError)")
        let id = try #require(jobs.first { $0["name"] as? String == "hold" }?["id"] as? String)
        let report = try Self.json(try daemon.ergo(["report", id, "--json"]))
        let used = try #require(report["gpus"] as? [[String: Any]], "\(report)")
        #expect(used.count == 1)
        #expect(used.first?["uuid"] as? String == gpus[0].uuid && used.first?["source"] as? String == "nvml-energy")
        let joules = try #require(used.first?["energy_joules"] as? Double)
        #expect(abs(joules - 1200) < 1e-6, "six seconds at 200 W across the kill: \(joules) J")
        #expect((used.first?["gpu_seconds"] as? Double ?? 0) > 0)
        // The idle GPU's energy is idle's, and each GPU's buckets add up to what was measured.
        let ledger = try Self.json(try daemon.ergo(["ledger", "--json"]))
        let domains = try #require(ledger["domains"] as? [[String: Any]])
        let idleGPU = try #require(domains.first { $0["domain"] as? String == gpus[1].domain })
        let buckets = try #require(idleGPU["buckets"] as? [String: Any])
        #expect(buckets["idle_microjoules"] as? UInt64 == idleGPU["measured_microjoules"] as? UInt64)
        let text = try daemon.ergo(["report", id])
        #expect(text.standardOutput.contains("GPUs used:    1"), "\(text.standardOutput)")
        #expect(text.standardOutput.contains("\(gpus[0].uuid) NVIDIA H100 80GB HBM3 (\(gpus[0].pciSlot)): "))
        #expect(text.standardOutput.contains("1200.000 J [nvml-energy]"))
    }

    /// Two ergo-train jobs, one on one GPU, the other on two: `ergo compare` counts GPUs.
    @Test func compareCountsTheGPUsEachJobUsed() throws {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let nvml = try FakeNVML()
        let gpus = (0..<3).map { FakeNVML.GPU(index: $0, watts: 250) }
        try nvml.write(clockMilliseconds: nil, gpus: gpus)
        let daemon = try RunningDaemon(root: root, configuration: Self.configuration(nvml))
        defer { daemon.stop() }
        let train = "\(BuiltProducts.executable("ergo-train")) --epochs 2 --samples 2048 --hidden 64; sleep 1"
        var processes: [FakeNVML.Process] = []
        for (name, onGPUs) in [("one-gpu", [0]), ("two-gpus", [1, 2])] {
            let pidFile = root + "/\(name).pid"
            let job = try Self.run(daemon, name: name, pidFile: pidFile, then: train)
            let pid = try Self.waitForPID(pidFile)
            processes += onGPUs.map { FakeNVML.Process(gpu: $0, pid: pid, sm: 90) }
            try nvml.write(clockMilliseconds: nil, gpus: gpus, processes: processes)
            job.waitUntilExit()
            #expect(job.terminationStatus == 0)
        }
        let compare = try daemon.ergo(["compare", "1", "2", "--json"])
        let output = try Self.json(compare)
        let b = try #require(output["b"] as? [String: Any])
        let a = try #require(output["a"] as? [String: Any])
        #expect(a["processors"] as? Double == 1 && b["processors"] as? Double == 2, "\(output)")
        #expect(try #require(output["basis"] as? [String: [String: String]])["b"]?["processors"] == "observed")
        #expect(try #require(output["factors"] as? [String: Double])["processors"] == 2)
    }

    /// Without any NVIDIA library, one line says why; with the fake, every GPU's figures.
    @Test func probeSaysWhyNoGPUIsReadOrShowsThem() throws {
        let ergo = BuiltProducts.executable("ergo")
        let missing = try ProcessResult.run(ergo, ["probe", "--nvml-library", "/nonexistent/libnvidia-ml.so.1"])
        let lines = missing.standardOutput.split(separator: "\n").filter { $0.contains("NVIDIA") }
        #expect(lines.count == 1 && lines[0].hasPrefix("no NVIDIA GPU readable: cannot load /nonexistent/libnvidia-ml.so.1"), "\(lines)")
        // A library that is not NVML, and NVML whose nvmlInit_v2 fails (the fake without a
        // script: "Driver Not Loaded"), each one line.
        let notNVML = try ProcessResult.run(ergo, ["probe", "--nvml-library", "libm.so.6"])
        #expect(notNVML.standardOutput.contains("no NVIDIA GPU readable: cannot load libm.so.6: no nvmlInit_v2"), "\(notNVML.standardOutput)")
        let nvml = try FakeNVML()
        let noDriver = try ProcessResult.run(ergo, ["probe", "--nvml-library", nvml.libraryPath])
        #expect(noDriver.standardOutput.contains("no NVIDIA GPU readable: nvmlInit_v2 failed: Driver Not Loaded (NVML 9)"), "\(noDriver.standardOutput)")
        var gpus = [FakeNVML.GPU(index: 0, watts: 300), FakeNVML.GPU(index: 1, watts: 120, energyCounter: false)]
        gpus[1].mig = true
        try nvml.write(clockMilliseconds: nil, gpus: gpus, processes: [.init(gpu: 0, pid: getpid(), sm: 40)])
        let probe = try Self.json(try ProcessResult.run(ergo, ["probe", "--nvml-library", nvml.libraryPath, "--json", "--interval", "0.5"]))
        let listed = try #require(probe["gpus"] as? [[String: Any]])
        #expect(listed.count == 2)
        #expect(listed[0]["uuid"] as? String == gpus[0].uuid && listed[0]["pci_slot"] as? String == gpus[0].pciSlot)
        #expect(listed[0]["source"] as? String == "nvml-energy" && listed[1]["source"] as? String == "nvml-power")
        #expect(listed[0]["driver_version"] as? String == "550.54.15-fake" && listed[1]["mig_mode"] as? Bool == true)
        let power = try #require(listed[0]["power_watts"] as? Double)
        #expect(abs(power - 300) < 3, "the counter's increase over the interval: \(power) W")
        let processes = try #require(listed[0]["processes"] as? [[String: Any]])
        #expect(processes.first?["pid"] as? Int == Int(getpid()) && processes.first?["sm_percent"] as? Int == 40)
        #expect((probe["nvml"] as? [String: Any])?["readable"] as? Bool == true)
    }
}
