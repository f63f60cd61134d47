import ArgumentParser
import ErgometerClient
import ErgometerDaemon
import ErgometerWire
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `ergo run -- CMD`: measure a command. With ergod it registers the job and the daemon
/// samples; without one it samples in-process and says so.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command as a measured job and print its report when it ends.",
        discussion: "The report goes to standard error; the command's own output is untouched. The exit status is the command's."
    )

    @Option(help: "A name for the job (default: the command).")
    var name: String?

    @Option(help: ArgumentHelp("A job id shared across machines (Prometheus job_id label).", valueName: "ID"))
    var jobID: String?

    @Option(name: .customLong("label"), help: ArgumentHelp("A label KEY=VALUE; repeatable.", valueName: "KEY=VALUE"))
    var labels: [String] = []

    @Option(help: ArgumentHelp("Processors the job uses (e.g. GPUs), for `ergo compare`; default: busy cores.", valueName: "N"))
    var processors: Int?

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Seconds to wait for ergod to come back if it restarts while the job runs.", valueName: "SECONDS"))
    var waitForDaemon = 120.0

    @OptionGroup var daemon: DaemonOptions

    @OptionGroup var roots: MachineRootOptions

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("no command: give it after --, e.g. ergo run -- ./train --epochs 3") }
        for label in labels where !label.contains("=") || label.hasPrefix("=") {
            throw ValidationError("--label \(label): labels are KEY=VALUE")
        }
        if let processors, processors < 1 { throw ValidationError("--processors \(processors): must be at least 1") }
    }

    func run() async throws {
        let signals = SignalForwarder()  // first: a SIGTERM during setup reaches the command
        let request = RegisterJobRequest(
            name: name ?? URL(fileURLWithPath: command[0]).lastPathComponent, jobID: jobID,
            labels: Dictionary(labels.map { label in
                let parts = label.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }, uniquingKeysWith: { _, last in last }),
            command: command, pid: getpid(), processors: processors)
        if let problem = request.problem { throw ValidationError(problem) }
        let client = daemon.client
        let registration: RegisterJobResponse
        do {
            registration = try client.register(request)
        } catch ControlClientError.daemonAbsent {
            let (report, status) = try await runStandalone(request, signals: signals)
            StandardError.write(json ? JSONOutput.string(report) + "\n" : ReportTextRenderer.render(report))
            throw ExitCode(status)
        } catch {
            throw CommandFailure("\(error)")
        }
        if let note = registration.trackingNote { StandardError.write("ergo: \(note)\n") }
        let status = try await CommandRunner(command: command, environment: [
            ControlAPI.jobIDEnvironment: registration.id, ControlAPI.socketEnvironment: client.socketPath,
        ], signals: signals).run()
        let report = try endWithRetry(client: client, id: registration.id, status: status)
        StandardError.write(json ? JSONOutput.string(report) + "\n" : ReportTextRenderer.render(report))
        throw ExitCode(status)
    }

    /// Ends the job, waiting for ergod if it is restarting (its checkpoint keeps the job).
    private func endWithRetry(client: ControlClient, id: String, status: Int32) throws -> JobReport {
        let deadline = Date().addingTimeInterval(waitForDaemon)
        var warned = false
        while true {
            do {
                return try client.end(id: id, exitStatus: status)
            } catch {
                // A stopping ergod (503) keeps the job in its last checkpoint: wait for the next one.
                if case .refused(let code, _) = error, code != 503 { throw CommandFailure("\(error)") }
                guard Date() < deadline else {
                    throw CommandFailure("\(error); job \(id) stays open in ergod until its processes are gone")
                }
                if !warned {
                    StandardError.write("ergo: \(error); waiting up to \(Int(waitForDaemon)) s for ergod to come back\n")
                    warned = true
                }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }

    private func runStandalone(_ request: RegisterJobRequest, signals: SignalForwarder) async throws -> (JobReport, Int32) {
        var configuration = DaemonConfiguration()
        configuration.stateDirectory = daemon.stateDir ?? DaemonOptions.standaloneStateDirectory
        configuration.sysfsRoot = roots.sysfsRoot
        configuration.procfsRoot = roots.procfsRoot
        StandardError.write("ergo: no ergod on \(daemon.client.socketPath); measuring in-process, saving to \(configuration.stateDirectory)\n")
        let session = try StandaloneSession(configuration: configuration)
        let registration = try await session.start(request)
        if let note = registration.trackingNote { StandardError.write("ergo: \(note)\n") }
        // The job's program reports its progress to this process, as it would to ergod.
        let socket = configuration.stateDirectory + "/ergo-run-\(getpid()).sock"
        let status = try await session.servingControlAPI(at: socket) {
            try await CommandRunner(command: command, environment: [
                ControlAPI.jobIDEnvironment: registration.id, ControlAPI.socketEnvironment: socket,
            ], signals: signals).run()
        }
        return (try await session.finish(id: registration.id, exitStatus: status), status)
    }
}
