import ErgometerTestSupport
import Foundation
import Testing

extension LoadSensitiveSuites {
    /// ergod on a fixture powercap tree whose counters a simulated meter advances with this
    /// machine's real CPU load; real `ergo run` jobs in real cgroups.
    @Suite(.serialized, .enabled(if: getuid() == 0, "job cgroups need root (CI runs as root)"))
    struct DaemonEndToEndTests {
        /// A running ergod with its own state, socket and fixture tree.
        final class Daemon {
            let root: String
            let socket: String
            let config: String
            var process: Process?
            let log: String

            init(idleWatts: Double) throws {
                root = try Fixtures.scratchCopy(of: "intel-1s")
                socket = root + "/ergod.sock"
                config = root + "/ergometer.toml"
                log = root + "/ergod.log"
                try """
                [daemon]
                interval_seconds = 0.1
                checkpoint_seconds = 0.5
                state_dir = "\(root)/state"
                socket = "\(socket)"
                sysfs_root = "\(root)/sys"

                [power]
                idle_policy = "separate"
                idle_watts = \(idleWatts)

                [metrics]
                listen = "off"
                """.write(toFile: config, atomically: true, encoding: .utf8)
            }

            func start() throws {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: BuiltProducts.executable("ergod"))
                process.arguments = ["--config", config]
                _ = FileManager.default.createFile(atPath: log, contents: nil)
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
                handle.seekToEndOfFile()
                process.standardError = handle
                process.standardOutput = FileHandle.nullDevice
                try process.run()
                self.process = process
                for _ in 0..<200 where !FileManager.default.fileExists(atPath: socket) { usleep(25_000) }
                usleep(300_000)  // a few ticks: the baseline reading is taken
            }

            func kill(_ signal: Int32) {
                guard let process else { return }
                Foundation.kill(process.processIdentifier, signal)
                process.waitUntilExit()
                self.process = nil
            }

            func ergo(_ arguments: [String]) throws -> ProcessResult {
                try ProcessResult.run(BuiltProducts.executable("ergo"), arguments + ["--socket", socket])
            }

            func json(_ arguments: [String]) throws -> [String: Any] {
                let result = try ergo(arguments + ["--json"])
                return try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any], "\(result.standardError)")
            }

            deinit {
                kill(SIGTERM)
                try? FileManager.default.removeItem(atPath: root)
            }
        }

        /// A job that keeps one core busy with a shell loop until `stopFile` exists, run with
        /// `ergo run`. Jobs end by wall time, not by a count of iterations: how much CPU time an
        /// iteration costs depends on what else the machine runs (a CI host once gave two jobs of
        /// 2:1 iterations a CPU ratio of 1.24), how long a loop runs on its core does not.
        static func burn(_ daemon: Daemon, name: String, stopFile: String) -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: BuiltProducts.executable("ergo"))
            let loop = "while [ ! -e '\(stopFile)' ]; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; done"
            process.arguments = ["run", "--socket", daemon.socket, "--name", name, "--", "/bin/sh", "-c", loop]
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try! process.run()
            return process
        }

        struct Outcome {
            var energyRatio: Double
            var cpuRatio: Double
            var measuredMicrojoules: UInt64
            var drawnMicrojoules: UInt64
            var bucketsMicrojoules: UInt64
            /// Both jobs' joules and CPU seconds, for a failure's message.
            var summary: String
        }

        static func sleep(until deadline: Date) {
            let seconds = deadline.timeIntervalSinceNow
            if seconds > 0 { usleep(UInt32(seconds * 1e6)) }
        }

        /// Two jobs to completion; ergod is SIGKILLed and restarted after each of `kills` (µs).
        func runTwoJobs(kills: [UInt32] = []) throws -> Outcome {
            let daemon = try Daemon(idleWatts: 15)
            // 10 W package idle + 5 W DRAM = the configured 15 W idle; 20 W per busy core on top.
            // The package counter starts 15 J below its wrap, so it wraps during the run.
            let meter = try SimulatedRAPL(
                sysfs: daemon.root + "/sys", idleWatts: 10, wattsPerBusyCore: 20, dramWatts: 5, packageStartBelowWrap: 15_000_000)
            try daemon.start()
            meter.start()
            let bigStop = daemon.root + "/stop-big"
            let smallStop = daemon.root + "/stop-small"
            let big = Self.burn(daemon, name: "big", stopFile: bigStop)
            let small = Self.burn(daemon, name: "small", stopFile: smallStop)
            defer {  // a test that throws midway leaves no loop burning a core
                for stop in [smallStop, bigStop] { _ = FileManager.default.createFile(atPath: stop, contents: nil) }
            }
            // Both registered before the clock starts (and before any kill: kills are about
            // ergod, not about a client caught registering).
            for _ in 0..<200 {
                if try daemon.ergo(["jobs", "--json"]).standardOutput.components(separatedBy: "\"id\"").count - 1 >= 2 { break }
                usleep(10_000)
            }
            let started = Date()
            for delay in kills {
                usleep(delay)
                daemon.kill(SIGKILL)
                usleep(100_000)
                try daemon.start()
            }
            // The small job runs 4 s, the big one 8 s: about twice the CPU time on two or more
            // cores, three times on one. Long enough that the edges (energy reaching the counter
            // a few ms after the CPU time that drew it) weigh ~1 % (2.5 s jobs: up to 3 % on a
            // loaded machine).
            Self.sleep(until: started.addingTimeInterval(4))
            _ = FileManager.default.createFile(atPath: smallStop, contents: nil)
            Self.sleep(until: started.addingTimeInterval(8))
            _ = FileManager.default.createFile(atPath: bigStop, contents: nil)
            big.waitUntilExit()
            small.waitUntilExit()
            #expect(big.terminationStatus == 0)
            #expect(small.terminationStatus == 0)
            meter.stop()
            usleep(600_000)  // ergod reads the final counter values
            let jobs = try #require(try JSONSerialization.jsonObject(with: Data(try daemon.ergo(["jobs", "--all", "--json"]).standardOutput.utf8)) as? [[String: Any]])
            let ids = Dictionary(uniqueKeysWithValues: jobs.map { ($0["name"] as! String, $0["id"] as! String) })
            let bigReport = try daemon.json(["report", try #require(ids["big"])])
            let smallReport = try daemon.json(["report", try #require(ids["small"])])
            let ledger = try daemon.json(["ledger"])
            let buckets = try #require(ledger["buckets"] as? [String: Any])
            let jobMicrojoules = (buckets["jobs_microjoules"] as? [String: UInt64] ?? [:]).values.reduce(0, +)
            let bucketSum = jobMicrojoules + (buckets["system_microjoules"] as? UInt64 ?? 0) + (buckets["idle_microjoules"] as? UInt64 ?? 0)
            #expect(bigReport["source"] as? String == "rapl")
            #expect(ledger["source"] as? String == "rapl")
            let log = (try? String(contentsOfFile: daemon.log, encoding: .utf8)) ?? ""
            #expect(!log.contains("error"), "\(log)")
            let outcome = Outcome(
                energyRatio: (bigReport["energy_joules"] as! Double) / (smallReport["energy_joules"] as! Double),
                cpuRatio: (bigReport["cpu_seconds"] as! Double) / (smallReport["cpu_seconds"] as! Double),
                measuredMicrojoules: ledger["measured_microjoules"] as? UInt64 ?? 0,
                drawnMicrojoules: meter.totalAddedMicrojoules, bucketsMicrojoules: bucketSum,
                summary: "big \(bigReport["energy_joules"] ?? "?") J, \(bigReport["cpu_seconds"] ?? "?") CPU s; small \(smallReport["energy_joules"] ?? "?") J, \(smallReport["cpu_seconds"] ?? "?") CPU s")
            print("energy ratio \(outcome.energyRatio), CPU ratio \(outcome.cpuRatio): \(outcome.summary)")
            return outcome
        }

        @Test func jobsShareEnergyByCPUTimeAndTheLedgerEqualsTheCounter() throws {
            let outcome = try runTwoJobs()
            // About 2 (the big job runs twice as long); lower when other work crowds the cores (two
            // CPU hogs beside the test on this 2-vCPU VM: 1.61). Distinct enough that a split
            // which ignored CPU time would miss the 5 % below by far.
            #expect(outcome.cpuRatio > 1.3, "the big job burns about twice the CPU of the small one: \(outcome.summary)")
            #expect(abs(outcome.energyRatio / outcome.cpuRatio - 1) < 0.05, "energy ratio \(outcome.energyRatio) vs CPU ratio \(outcome.cpuRatio): \(outcome.summary)")
            #expect(outcome.measuredMicrojoules == outcome.drawnMicrojoules, "every drawn microjoule measured, across a counter wrap")
            #expect(outcome.bucketsMicrojoules == outcome.measuredMicrojoules)
        }

        /// Killed three times at random moments (seeded; the seed is printed to replay a failure):
        /// mid-tick, mid-checkpoint, before the first checkpoint or between, the restarted ergod
        /// attributes every gap. (A kill before the first checkpoint lost the jobs and the energy
        /// since start until ergod checkpointed at start: found by this test.)
        @Test func aDaemonKilledAtRandomPointsAndRestartedLosesNothing() throws {
            let seed = UInt64(Date().timeIntervalSince1970)
            var generator = SplitMix64(seed: seed)
            // The first kill comes soon after both jobs registered, before ergod's first periodic
            // checkpoint (0.5 s after start): the start's own checkpoint must hold the readings.
            let kills = [UInt32.random(in: 0...100_000, using: &generator)]
                + (0..<2).map { _ in UInt32.random(in: 150_000...450_000, using: &generator) }
            print("killing ergod after \(kills) µs (seed \(seed))")
            let outcome = try runTwoJobs(kills: kills)
            #expect(abs(outcome.energyRatio / outcome.cpuRatio - 1) < 0.05, "energy ratio \(outcome.energyRatio) vs CPU ratio \(outcome.cpuRatio): \(outcome.summary)")
            #expect(outcome.measuredMicrojoules == outcome.drawnMicrojoules, "the gap was attributed from the cumulative counters")
            #expect(outcome.bucketsMicrojoules == outcome.measuredMicrojoules)
        }
    }
}
