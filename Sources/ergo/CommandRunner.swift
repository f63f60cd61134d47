import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs the measured command as a child: environment added, SIGTERM and SIGHUP forwarded
/// (Ctrl-C already reaches it through the terminal's process group), exit status passed through
/// the shell's way: the code, or 128 + the signal that killed it.
struct CommandRunner {
    var command: [String]
    var environment: [String: String]

    func run() async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--"] + command
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let exited = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in exited.continuation.finish() }

        signal(SIGINT, SIG_IGN)  // the child gets the terminal's Ctrl-C; ergo waits to report
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGHUP, SIGQUIT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { if process.isRunning { kill(process.processIdentifier, number) } }
            source.resume()
            sources.append(source)
        }
        defer { sources.forEach { $0.cancel() } }
        do {
            try process.run()
        } catch {
            throw CommandFailure("cannot start \(command.first ?? ""): \(error.localizedDescription)")
        }
        for await _ in exited.stream {}
        if process.terminationReason == .uncaughtSignal { return 128 + process.terminationStatus }
        // env exits 127 when the command is not found, 126 when it cannot be run.
        return process.terminationStatus
    }
}
