import ArgumentParser
import ErgometerClient
import ErgometerDaemon
import ErgometerStore
import ErgometerWire
import Foundation

/// Where `ergo` finds jobs: ergod over its socket, or a store read directly.
struct DaemonOptions: ParsableArguments {
    @Option(help: ArgumentHelp("ergod's control socket (else $ERGOMETER_SOCKET, else /run/ergometer/ergod.sock).", valueName: "PATH"))
    var socket: String?

    @Option(help: ArgumentHelp("Read a job store directly instead of asking ergod.", valueName: "DIR"))
    var stateDir: String?

    var client: ControlClient { ControlClient(socketPath: ControlClient.socketPath(flag: socket)) }

    /// The store `ergo run` uses without a daemon: $XDG_STATE_HOME/ergometer or ~/.local/state/ergometer.
    static var standaloneStateDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/ergometer" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/ergometer"
    }

    /// Where a read-only command gets its answers: `--state-dir` if given; else ergod if it
    /// answers; else the standalone store if it exists.
    func repository() throws -> any JobRepository {
        if let stateDir { return StoreJobRepository(store: try open(stateDir), directory: stateDir) }
        let client = self.client
        if UnixSocketProbe.answers(client.socketPath) { return DaemonJobRepository(client: client) }
        let standalone = Self.standaloneStateDirectory
        if FileManager.default.fileExists(atPath: standalone + "/" + JobStore.fileName) {
            return StoreJobRepository(store: try open(standalone), directory: standalone)
        }
        throw ValidationError("no ergod answers on \(client.socketPath) and there is no standalone store at \(standalone). Start ergod, give --socket or --state-dir, or measure a job with `ergo run -- CMD`.")
    }

    private func open(_ directory: String) throws -> JobStore {
        guard FileManager.default.fileExists(atPath: directory + "/" + JobStore.fileName) else {
            throw CommandFailure("no job store in \(directory) (expected \(JobStore.fileName)); give the state directory ergod or ergo run used.")
        }
        do { return try JobStore(directory: directory) } catch { throw CommandFailure(error.description) }
    }
}

/// A failure `ergo` reports as `ergo: <message>` and exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
