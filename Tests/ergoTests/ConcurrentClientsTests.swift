import ErgometerClient
import ErgometerTestSupport
import ErgometerWire
import Foundation
import Synchronization
import Testing

extension LoadSensitiveSuites {
    /// A hundred clients at once against one ergod: each registers its own process, reports
    /// progress three times and ends its job, all on threads of their own. Nothing is refused,
    /// lost or counted twice, and the ledger still adds up.
    @Suite(.serialized, .enabled(if: getuid() == 0, "job cgroups need root (CI runs as root)"))
    struct ConcurrentClientsTests {
        @Test func aHundredClientsRegisterReportAndEndAtOnce() throws {
            let root = try Fixtures.scratchCopy(of: "no-powercap")
            let daemon = try RunningDaemon(root: root)
            defer {
                daemon.stop()
                try? FileManager.default.removeItem(atPath: root)
            }
            let clients = 100
            var sleepers: [Process] = []
            defer { for sleeper in sleepers where sleeper.isRunning { kill(sleeper.processIdentifier, SIGKILL) } }
            for _ in 0..<clients {
                let sleeper = Process()
                sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
                sleeper.arguments = ["60"]
                sleeper.standardOutput = FileHandle.nullDevice
                try sleeper.run()
                sleepers.append(sleeper)
            }
            let failures = Mutex<[String]>([])
            let reports = Mutex<[String: JobReport]>([:])
            let start = DispatchSemaphore(value: 0)
            let done = DispatchGroup()
            for index in 0..<clients {
                let pid = sleepers[index].processIdentifier
                let socket = daemon.socket
                done.enter()
                Thread {
                    defer { done.leave() }
                    start.wait()
                    let client = ControlClient(socketPath: socket, timeoutSeconds: 30)
                    do {
                        let job = try client.register(RegisterJobRequest(
                            name: "client-\(index)", jobID: nil, labels: ["client": "\(index)"], command: ["sleep"], pid: pid, processors: nil))
                        for sequence in 1...3 {
                            try client.progress(id: job.id, JobProgress(flops: Double(index + 1), steps: 1, samples: Int64(index), sequence: Int64(sequence)))
                        }
                        let report = try client.end(id: job.id, exitStatus: Int32(index % 7))
                        reports.withLock { $0["client-\(index)"] = report }
                    } catch {
                        failures.withLock { $0.append("client \(index): \(error)") }
                    }
                }.start()
            }
            for _ in 0..<clients { start.signal() }
            #expect(done.wait(timeout: .now() + 60) == .success, "every client finished within a minute")
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
            let ended = reports.withLock { $0 }
            #expect(ended.count == clients)
            for (name, report) in ended {
                let index = Int(name.dropFirst("client-".count))!
                #expect(report.flops == Double(3 * (index + 1)), "\(name): three reports, each applied once")
                #expect(report.steps == 3 && (report.samples ?? 0) == Int64(3 * index))
                #expect(report.exitStatus == Int32(index % 7) && report.labels["client"] == "\(index)")
            }
            #expect(Set(ended.values.map(\.id)).count == clients, "a hundred distinct job ids")
            let listed = try daemon.ergo(["jobs", "--all", "--json"])
            let jobs = try #require(try JSONSerialization.jsonObject(with: Data(listed.standardOutput.utf8)) as? [[String: Any]])
            #expect(jobs.count == clients && jobs.allSatisfy { $0["ended"] != nil })
            let ledger = try #require(try JSONSerialization.jsonObject(with: Data(try daemon.ergo(["ledger", "--json"]).standardOutput.utf8)) as? [String: Any])
            let buckets = try #require(ledger["buckets"] as? [String: Any])
            let jobMicrojoules = (buckets["jobs_microjoules"] as? [String: UInt64] ?? [:]).values.reduce(0, +)
            #expect(jobMicrojoules + (buckets["system_microjoules"] as? UInt64 ?? 0) + (buckets["idle_microjoules"] as? UInt64 ?? 0)
                == ledger["measured_microjoules"] as? UInt64)
            #expect(!daemon.log().contains("error"), "\(daemon.log().suffix(2000))")
        }
    }
}
