import Synchronization
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Catches SIGTERM, SIGHUP and SIGQUIT from the moment `ergo run` starts, and forwards them to
/// the measured command once it runs: a signal that comes while ergo is still setting up (the
/// in-process sampler, the registration) is kept, not lost, and not fatal to ergo.
/// `@unchecked`: `sources` is written in `init` and read in `deinit` only; `state` is a Mutex.
final class SignalForwarder: @unchecked Sendable {
    static let signals = [SIGTERM, SIGHUP, SIGQUIT]
    /// Where signals go: kept until the child runs, then to it, then nowhere once it exited.
    enum Target {
        case pending([Int32])
        case child(pid_t)
        case exited
    }

    private let state = Mutex<Target>(.pending([]))
    private var sources: [any DispatchSourceSignal] = []

    init() {
        signal(SIGINT, SIG_IGN)  // the child gets the terminal's Ctrl-C; ergo waits to report
        for number in Self.signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.received(number) }
            source.resume()
            sources.append(source)
        }
    }

    private func received(_ number: Int32) {
        let child = state.withLock { target -> pid_t? in
            switch target {
            case .pending(let signals):
                target = .pending(signals + [number])
                return nil
            case .child(let pid): return pid
            case .exited: return nil
            }
        }
        if let child { kill(child, number) }
    }

    /// From now on signals go to `pid`, the ones kept so far first.
    func forward(to pid: pid_t) {
        guard pid > 0 else { return }
        let pending = state.withLock { target -> [Int32] in
            defer { target = .child(pid) }
            if case .pending(let signals) = target { return signals }
            return []
        }
        for number in pending { kill(pid, number) }
    }

    /// The child is gone: signals are ignored until ergo exits with its status.
    func childExited() {
        state.withLock { $0 = .exited }
    }

    deinit { sources.forEach { $0.cancel() } }
}

/// Runs the measured command as a child: environment added, SIGTERM and SIGHUP forwarded
/// (Ctrl-C already reaches it through the terminal's process group), exit status passed through
/// the shell's way: the code, or 128 + the signal that killed it.
///
/// Spawned with `posix_spawn` and an empty signal mask, every signal at its default: ergo's own
/// threads block signals (libdispatch's workers do, and the signal sources need it) and ignore
/// the ones it forwards, and a child inherits both through `exec` — Foundation's `Process`
/// passes the mask on, so a command under it could not be stopped by SIGTERM or Ctrl-C.
struct CommandRunner {
    var command: [String]
    var environment: [String: String]
    var signals: SignalForwarder

    func run() async throws -> Int32 {
        let pid = try spawn()
        signals.forward(to: pid)
        let status = await Self.exitStatus(of: pid)
        signals.childExited()
        return status
    }

    /// `/usr/bin/env -- COMMAND...` (env exits 127 when the command is not found, 126 when it
    /// cannot be run), with the environment merged in.
    private func spawn() throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let arguments = ["/usr/bin/env", "--"] + command
        let variables = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }.map { "\($0.key)=\($0.value)" }
        var argv = arguments.map { strdup($0) } + [nil]
        var envp = variables.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/usr/bin/env", nil, &attributes, &argv, &envp)
        guard result == 0 else {
            throw CommandFailure("cannot start \(command.first ?? ""): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Waits for the child on a thread of its own (waitpid blocks), as the shell reports it:
    /// the exit code, or 128 + the signal that killed it.
    static func exitStatus(of pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                let signal = status & 0x7f
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
            }
        }
    }
}
