import ArgumentParser
import ErgometerClient
import ErgometerWire
import Foundation
import Glibc

/// `ergo top`: the box and its running jobs, live, like htop: power per domain with its source,
/// CPU busy, the hottest sensor, then the jobs by power (the caller's own unless admin), redrawn
/// every interval from ergod's `GET /v1/live`. `--once` prints one frame as plain text.
struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top", abstract: "Watch the box's power and its running jobs live (q quits, s sorts, arrows scroll).")

    @Option(help: ArgumentHelp("Seconds between frames.", valueName: "SECONDS")) var interval = 1.0
    @Flag(help: "Print one frame as plain text and exit (for scripts; no terminal needed).") var once = false
    @Option(help: ArgumentHelp("Sort the jobs by power, energy, id or name.", valueName: "KEY")) var sort = "power"
    @Option(help: ArgumentHelp("ergod's control socket (else $ERGOMETER_SOCKET, else /run/ergometer/ergod.sock).", valueName: "PATH"))
    var socket: String?

    func validate() throws {
        guard interval >= 0.1 && interval <= 3600 else { throw ValidationError("--interval \(interval): 0.1 to 3600 seconds") }
        guard TopFrame.Sort(rawValue: sort) != nil else {
            throw ValidationError("--sort \(sort): one of \(TopFrame.Sort.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let client = ControlClient(socketPath: ControlClient.socketPath(flag: socket))
        guard UnixSocketProbe.answers(client.socketPath) else {
            throw CommandFailure("ergo top needs ergod: none answers on \(client.socketPath). Start it (systemctl start ergod), or give --socket")
        }
        var frame = TopFrame(view: try Self.live(client), sort: TopFrame.Sort(rawValue: sort)!)
        if once {
            let columns = Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 120
            print(frame.lines(rows: 10_000, columns: max(columns, TopFrame.minimumColumns)).joined(separator: "\n"))
            return
        }
        guard TerminalScreen.isInteractive else {
            throw CommandFailure("ergo top needs a terminal on standard input and output; `ergo top --once` prints one frame as plain text")
        }
        TerminalSignals.install()
        let screen = TerminalScreen()
        defer { screen.restore() }
        frame.interactive = true
        var nextFetch = Date().addingTimeInterval(interval)
        while true {
            let (rows, columns) = TerminalScreen.size() ?? (24, 80)
            screen.draw(frame.lines(rows: rows, columns: columns), columns: columns)
            let key = screen.key(timeout: nextFetch.timeIntervalSinceNow)
            if let signal = TerminalSignals.take(), signal != SIGWINCH { return }
            switch key {
            case .character("q"), .character("Q"): return
            case .character("s"), .character("S"): frame.sort = frame.sort.next
            case .up: frame.scroll = max(frame.scroll - 1, 0)
            case .down: frame.scroll = min(frame.scroll + 1, max(frame.view.jobs.count - 1, 0))
            case .pageUp: frame.scroll = max(frame.scroll - rows / 2, 0)
            case .pageDown: frame.scroll = min(frame.scroll + rows / 2, max(frame.view.jobs.count - 1, 0))
            default: break
            }
            if Date() >= nextFetch {
                do {
                    frame.view = try Self.live(client)
                } catch {
                    screen.restore()
                    throw error
                }
                nextFetch = Date().addingTimeInterval(interval)
            }
        }
    }

    static func live(_ client: ControlClient) throws -> LiveView {
        do { return try client.live() } catch { throw CommandFailure("\(error)") }
    }
}
