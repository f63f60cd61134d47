import ErgometerClient
import ErgometerDaemon
import ErgometerTestSupport
import ErgometerWire
import Foundation
import Synchronization
import Testing

/// The client a training program links: what it says outside a job, and that a report the
/// daemon cannot take yet is kept and arrives later, over the real control API.
@Suite(.serialized)
struct TrainingReporterTests {
    final class Messages: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func add(_ line: String) { lines.withLock { $0.append(line) } }
    }

    /// An in-process sampler on a fixture tree measuring a `sleep` as a job, and the path of the
    /// private control socket it can serve.
    final class SessionWithJob {
        let root: String
        let session: StandaloneSession
        let process = Process()
        let job: RegisterJobResponse
        var socket: String { root + "/control.sock" }

        init(name: String) async throws {
            root = try Fixtures.scratchCopy(of: "intel-1s")
            var configuration = DaemonConfiguration()
            configuration.sysfsRoot = root + "/sys"
            configuration.stateDirectory = root + "/state"
            configuration.intervalSeconds = 0.1
            session = try StandaloneSession(configuration: configuration)
            process.executableURL = URL(fileURLWithPath: "/bin/sleep")
            process.arguments = ["30"]
            try process.run()
            job = try await session.start(RegisterJobRequest(name: name, jobID: nil, labels: [:], command: ["sleep"], pid: process.processIdentifier, processors: nil))
        }

        /// SIGKILL: a test process may hand its children SIGTERM ignored.
        func stopProcess() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        deinit {
            stopProcess()
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    /// Runs blocking client calls on a thread of their own: the server they talk to needs the
    /// concurrency pool, which other tests may be holding with blocking calls of theirs.
    static func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    @Test func outsideAJobItSaysSoOnceAndDoesNothing() {
        let messages = Messages()
        let reporter = TrainingReporter.fromEnvironment([:], warn: messages.add)
        #expect(!reporter.isMeasured)
        for _ in 0..<1000 { reporter.add(flops: 1e9, steps: 1, samples: 64) }
        reporter.record("loss", 0.5)
        reporter.finish()
        #expect(messages.all == ["ergometer: not measured (ERGOMETER_JOB_ID is not set; run under `ergo run -- ...` to measure)"])
    }

    @Test func reportsWaitForTheDaemonAndNothingIsLost() async throws {
        let fixture = try await SessionWithJob(name: "reporter")
        let (session, job, socket) = (fixture.session, fixture.job, fixture.socket)
        let messages = Messages()
        let reporter = TrainingReporter(jobID: job.id, socketPath: socket, flushInterval: 0.05, warn: messages.add)
        reporter.add(flops: 1000, steps: 1, samples: 32)
        reporter.record("loss", 2.5)
        try await Task.sleep(for: .milliseconds(300))  // several flushes find no daemon
        #expect(reporter.reportsSent == 0)
        #expect(messages.all.count == 1 && messages.all[0].contains("progress is kept and sent when ergod answers"), "\(messages.all)")

        try await session.servingControlAPI(at: socket) {
            reporter.add(flops: 500, steps: 2, samples: 64)
            reporter.record("loss", 1.5)
            reporter.record("test_error", 0.25)
            try await Self.offThePool { reporter.finish() }
        }
        #expect(reporter.reportsSent >= 1)
        fixture.stopProcess()
        let report = try await session.finish(id: job.id, exitStatus: 0)
        #expect(report.flops == 1500)
        #expect(report.steps == 3)
        #expect(report.samples == 96)
        #expect(report.metrics == ["loss": 1.5, "test_error": 0.25])
    }

    @Test func aReportSentAgainIsAppliedOnce() async throws {
        let fixture = try await SessionWithJob(name: "twice")
        let (session, job, socket) = (fixture.session, fixture.job, fixture.socket)
        try await session.servingControlAPI(at: socket) {
            let id = job.id
            try await Self.offThePool {
                let client = ControlClient(socketPath: socket)
                try client.progress(id: id, JobProgress(flops: 100, steps: 1, sequence: 1))
                try client.progress(id: id, JobProgress(flops: 100, steps: 1, sequence: 1))  // its answer was lost: sent again
                try client.progress(id: id, JobProgress(flops: 7, sequence: 2))
                try client.progress(id: id, JobProgress(flops: 100, sequence: 1))  // late and stale
            }
        }
        fixture.stopProcess()
        let report = try await session.finish(id: job.id, exitStatus: 0)
        #expect(report.flops == 107)
        #expect(report.steps == 1)
    }

    @Test(arguments: [
        (JobProgress(flops: -1), "flops -1.0: an increment is zero or more"),
        (JobProgress(steps: -2), "steps and samples are increments"),
        (JobProgress(metrics: [String(repeating: "x", count: 65): 1]), "1 to 64 bytes"),
        (JobProgress(metrics: ["loss": .nan]), "metric loss = nan: must be finite"),
        (JobProgress(metrics: Dictionary(uniqueKeysWithValues: (0..<65).map { ("m\($0)", 1.0) })), "65 metrics: at most 64"),
    ])
    func boundsOnWhatAProgramMayReport(progress: JobProgress, problem: String) {
        #expect(progress.problem?.contains(problem) == true, "\(progress.problem ?? "accepted")")
    }
}
