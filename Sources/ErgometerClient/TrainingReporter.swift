import ErgometerWire
import Dispatch
import Foundation
import Synchronization

/// What a training program links to tell ergod what it computes: FLOPs, steps, samples and
/// named metrics (loss, error rate). Calls only add to counters under a lock (tens of
/// nanoseconds, no I/O), so they fit in every step; a background thread sends the increments
/// once per `flushInterval`. Outside a job (no `ERGOMETER_JOB_ID`) it says once that the run is
/// not measured and does nothing else. A report ergod cannot take yet (restarting) is kept and
/// sent with the next one, so nothing reported is lost.
public final class TrainingReporter: Sendable {
    /// The job this process belongs to, from `ergo run`; nil when not measured.
    public let jobID: String?
    let client: ControlClient?
    let flushInterval: Double
    let warn: @Sendable (String) -> Void

    struct State {
        var pending = JobProgress()
        /// A report sent whose answer did not come: sent again as is, so it is applied once.
        var inFlight: JobProgress?
        var nextSequence: Int64 = 1
        var stopped = false
        /// Set when ergod said the job is over or refused it: reporting stops, once said.
        var gaveUp = false
        var warnedUnreachable = false
        var sent = 0
    }

    let state = Mutex(State())
    let wake = DispatchSemaphore(value: 0)
    let finished = DispatchSemaphore(value: 0)

    /// From the environment `ergo run` sets (`ERGOMETER_JOB_ID`, `ERGOMETER_SOCKET`).
    public static func fromEnvironment(
        _ environment: [String: String]? = nil, flushInterval: Double = 1,
        warn: @escaping @Sendable (String) -> Void = TrainingReporter.standardError
    ) -> TrainingReporter {
        let environment = environment ?? ProcessInfo.processInfo.environment
        let id = environment[ControlAPI.jobIDEnvironment].flatMap { $0.isEmpty ? nil : $0 }
        return TrainingReporter(
            jobID: id, socketPath: ControlClient.socketPath(flag: nil, environment: environment), flushInterval: flushInterval, warn: warn)
    }

    public init(jobID: String?, socketPath: String, flushInterval: Double = 1, warn: @escaping @Sendable (String) -> Void = TrainingReporter.standardError) {
        self.jobID = jobID
        self.flushInterval = max(flushInterval, 0.01)
        self.warn = warn
        guard jobID != nil else {
            client = nil
            warn("ergometer: not measured (ERGOMETER_JOB_ID is not set; run under `ergo run -- ...` to measure)")
            return
        }
        client = ControlClient(socketPath: socketPath, timeoutSeconds: 5)
        Thread { [self] in loop() }.start()
    }

    public var isMeasured: Bool { client != nil }

    /// Adds work done since the last call: floating-point operations, optimizer steps, samples.
    public func add(flops: Double, steps: Int = 0, samples: Int = 0) {
        guard client != nil else { return }
        state.withLock {
            $0.pending.flops += flops
            $0.pending.steps += Int64(steps)
            $0.pending.samples += Int64(samples)
        }
    }

    /// Sets a named metric's latest value (`loss`, `test_error`).
    public func record(_ name: String, _ value: Double) {
        guard client != nil else { return }
        state.withLock { $0.pending.metrics[name] = value }
    }

    /// Sends what is pending and stops; call before the program exits. Waits for the send.
    public func finish() {
        guard client != nil else { return }
        let first = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        guard first else { return }
        wake.signal()
        finished.wait()
    }

    /// Reports sent so far (for tests and the program's own summary).
    public var reportsSent: Int { state.withLock { $0.sent } }

    /// How long `finish()` keeps trying to deliver what is pending while ergod cannot be reached.
    static let finishPatienceSeconds = 10.0

    private func loop() {
        while true {
            _ = wake.wait(timeout: .now() + flushInterval)
            let stopping = state.withLock { $0.stopped }
            let delivered = send()
            if stopping {
                let deadline = Date().addingTimeInterval(Self.finishPatienceSeconds)
                var delivered = delivered
                while !delivered && Date() < deadline {
                    Thread.sleep(forTimeInterval: 0.1)
                    delivered = send()
                }
                if !delivered { warn("ergometer: ergod did not answer for \(Int(Self.finishPatienceSeconds)) s; the last progress report is lost") }
                break
            }
        }
        finished.signal()
    }

    /// Sends what is pending; false when it is still pending (ergod unreachable).
    @discardableResult
    private func send() -> Bool {
        guard let client, let jobID else { return true }
        while true {
            let batch = state.withLock { state -> JobProgress? in
                guard !state.gaveUp else { return nil }
                if state.inFlight == nil && !state.pending.isEmpty {
                    var next = state.pending
                    next.sequence = state.nextSequence
                    state.nextSequence += 1
                    state.pending = JobProgress()
                    state.inFlight = next
                }
                return state.inFlight
            }
            guard let batch else { return true }
            do {
                try client.progress(id: jobID, batch)
                state.withLock {
                    $0.inFlight = nil
                    $0.sent += 1
                }
            } catch {
                let message: String? = state.withLock { state in
                    switch error {
                    case .refused(let status, let text) where status == 404 || status == 410 || status == 403 || status == 400:
                        state.gaveUp = true
                        return "ergometer: ergod will not take reports for job \(jobID) (\(text)); reporting stops"
                    default:
                        // Not reachable now (restarting), or the answer was lost: the same report
                        // goes again next time, and ergod applies it once.
                        defer { state.warnedUnreachable = true }
                        return state.warnedUnreachable ? nil : "ergometer: \(error); progress is kept and sent when ergod answers"
                    }
                }
                if let message { warn(message) }
                return state.withLock { $0.gaveUp }
            }
        }
    }

    public static let standardError: @Sendable (String) -> Void = { message in
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
