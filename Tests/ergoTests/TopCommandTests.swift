import ErgometerTestSupport
import Foundation
import Testing

extension LoadSensitiveSuites {
    /// `ergo top` against a real ergod with two jobs, on a fixture tree whose RAPL counters a
    /// simulated meter advances: `--once` as plain text, and the live view in a real terminal
    /// (tmux), read back with `capture-pane`.
    @Suite(.serialized, .enabled(if: getuid() == 0, "job cgroups need root (CI runs as root)"), .timeLimit(.minutes(2)))
    struct TopCommandTests {
        /// A tmux server of the test's own, one pane running `sh`.
        final class Terminal {
            let server = "ergometer-top-\(UUID().uuidString.prefix(8))"

            init(columns: Int, rows: Int, environment: [String: String]) throws {
                let exports = environment.map { "\($0.key)=\($0.value)" }
                // Started as a daemon: tmux forks its server, which Foundation's Process loses track of.
                try Fixtures.startDaemon("/usr/bin/tmux", ["-L", server, "new-session", "-d", "-x", "\(columns)", "-y", "\(rows)", "/usr/bin/env"] + exports + ["/bin/sh"])
            }

            /// Ends the server and everything in its panes.
            /// (An interactive shell in a pane outlives `kill-server`, and the server waits for it.)
            func close() {
                let pids = (try? ProcessResult.run("/usr/bin/tmux", ["-L", server, "display-message", "-p", "-t", "0", "#{pid} #{pane_pid}"]))?
                    .standardOutput.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int32($0) } ?? []
                for pid in pids.reversed() { kill(pid, SIGKILL) }
            }

            func type(_ keys: String...) throws {
                _ = try ProcessResult.run("/usr/bin/tmux", ["-L", server, "send-keys", "-t", "0"] + keys)
            }

            func screen() throws -> String {
                try ProcessResult.run("/usr/bin/tmux", ["-L", server, "capture-pane", "-p", "-t", "0"]).standardOutput
            }

            /// The screen once `condition` holds of it (within 10 s), else the last one seen.
            func screen(until condition: (String) -> Bool) throws -> String {
                var last = ""
                for _ in 0..<100 {
                    last = try screen()
                    if condition(last) { return last }
                    usleep(100_000)
                }
                return last
            }
        }

        /// ergod on a metered tree with two running `ergo run` jobs: a sleeper (job 1), then a
        /// busy loop (job 2), both ending when `stopFile` appears.
        final class BoxWithTwoJobs {
            let root: String
            let meter: SimulatedRAPL
            let daemon: RunningDaemon
            let stopFile: String
            var runs: [Process] = []

            init() throws {
                root = try Fixtures.scratchCopy(of: "intel-1s")
                meter = try SimulatedRAPL(sysfs: root + "/sys", idleWatts: 10, wattsPerBusyCore: 20, dramWatts: 5, packageStartBelowWrap: 100_000_000)
                meter.start()
                daemon = try RunningDaemon(root: root)
                stopFile = root + "/stop"
                for (name, loop) in [("sleeper", "sleep 0.1"), ("busy loop", ":")] {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: BuiltProducts.executable("ergo"))
                    process.arguments = ["run", "--name", name, "--", "/bin/sh", "-c", "while [ ! -e \(stopFile) ]; do \(loop); done"]
                    process.environment = ProcessInfo.processInfo.environment.merging(["ERGOMETER_SOCKET": daemon.socket]) { _, new in new }
                    process.standardOutput = FileHandle.nullDevice
                    process.standardError = FileHandle.nullDevice
                    try process.run()
                    runs.append(process)
                    for _ in 0..<100 {
                        let jobs = try daemon.ergo(["jobs", "--json"]).standardOutput
                        if jobs.contains("\"\(name)\"") { break }
                        usleep(50_000)
                    }
                }
                usleep(1_000_000)  // ticks with both running
            }

            deinit {
                _ = FileManager.default.createFile(atPath: stopFile, contents: nil)
                for run in runs { run.waitUntilExit() }
                daemon.stop()
                meter.stop()
                try? FileManager.default.removeItem(atPath: root)
            }
        }

        /// Rows of the jobs table: (id, name) in the order shown.
        static func jobRows(_ screen: String) -> [(id: String, name: String)] {
            screen.split(separator: "\n").compactMap { line in
                guard let match = line.firstMatch(of: /^([0-9]+)\s+(sleeper|busy loop)\s/) else { return nil }
                return (String(match.output.1), String(match.output.2))
            }
        }

        @Test func onceIsPlainTextWithTheBoxAndBothJobs() throws {
            let box = try BoxWithTwoJobs()
            let first = try box.daemon.ergo(["top", "--once"])
            #expect(first.status == 0, "\(first.standardError)")
            let text = first.standardOutput
            #expect(!text.contains("\u{1B}"), "no terminal codes in --once")
            #expect(text.hasPrefix("ergo top  box "), "\(text)")
            #expect(text.contains("2 jobs"))
            for domain in ["cpu-package  cpu-package  rapl", "dram         dram         rapl"] { #expect(text.contains(domain), "\(text)") }
            #expect(text.contains("ID  NAME       USER  SCHEDULER  W NOW  J SO FAR  CO2 g  CORES  GPUS  SOURCE"), "\(text)")
            // By power: the busy loop (job 2) above the sleeper (job 1), at more watts.
            #expect(Self.jobRows(text).map(\.id) == ["2", "1"], "\(text)")
            let watts = text.split(separator: "\n").compactMap { $0.firstMatch(of: /^[12] .*ergo run\s+([0-9.]+)\s/).map { Double($0.output.1)! } }
            #expect(watts.count == 2 && watts[0] > watts[1], "\(text)")

            // The same layout a second time (figures move, lines do not).
            let second = try box.daemon.ergo(["top", "--once", "--sort", "id"]).standardOutput
            #expect(second.split(separator: "\n").count == text.split(separator: "\n").count)
            #expect(second.contains("JOBS by id"))
            #expect(Self.jobRows(second).map(\.id) == ["1", "2"])

            let piped = try box.daemon.ergo(["top"])
            #expect(piped.status == 1)
            #expect(piped.standardError.contains("ergo top needs a terminal on standard input and output; `ergo top --once` prints one frame"), "\(piped.standardError)")
        }

        @Test func liveInATerminalSortsQuitsAndRestoresIt() throws {
            let box = try BoxWithTwoJobs()
            let ergo = BuiltProducts.executable("ergo")
            let terminal = try Terminal(columns: 120, rows: 30, environment: ["ERGOMETER_SOCKET": box.daemon.socket, "PS1": "$ "])
            defer { terminal.close() }
            let settings = "stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo AFTER-TOP-$((1+1))"
            try terminal.type("\(ergo) top --interval 0.3; \(settings)", "Enter")
            var screen = try terminal.screen { Self.jobRows($0).count == 2 }
            #expect(screen.contains("JOBS by power  s: sort, ↑↓: scroll, q: quit"), "\(screen)")
            #expect(screen.contains("cpu-package  cpu-package  rapl") && screen.contains("dram         dram         rapl"), "\(screen)")
            #expect(Self.jobRows(screen).map(\.id) == ["2", "1"], "\(screen)")

            try terminal.type("s")
            screen = try terminal.screen { $0.contains("JOBS by energy") }
            #expect(screen.contains("JOBS by energy"), "\(screen)")
            try terminal.type("s")
            screen = try terminal.screen { $0.contains("JOBS by id") }
            #expect(Self.jobRows(screen).map(\.id) == ["1", "2"], "\(screen)")

            try terminal.type("q")
            screen = try terminal.screen { $0.contains("AFTER-TOP-2") }
            #expect(screen.contains("icanon echo AFTER-TOP-2"), "the terminal is back in cooked mode with echo: \(screen)")
            #expect(!screen.contains("JOBS by"), "the alternate screen is gone: \(screen)")

            // Ctrl-C and SIGTERM restore it too.
            try terminal.type("clear; \(ergo) top --interval 0.3; \(settings)", "Enter")
            _ = try terminal.screen { $0.contains("JOBS by power") }
            try terminal.type("C-c")
            screen = try terminal.screen { $0.contains("AFTER-TOP-2") }
            #expect(screen.contains("icanon echo AFTER-TOP-2") && !screen.contains("JOBS by"), "\(screen)")
            try terminal.type("clear; \(ergo) top --interval 0.29; \(settings)", "Enter")
            _ = try terminal.screen { $0.contains("JOBS by power") }
            let pid = try #require(Int32(try Fixtures.run("/usr/bin/pgrep", ["-f", "ergo top --interval 0.29"]).split(separator: "\n").first ?? ""))
            kill(pid, SIGTERM)
            screen = try terminal.screen { $0.contains("AFTER-TOP-2") }
            #expect(screen.contains("icanon echo AFTER-TOP-2") && !screen.contains("JOBS by"), "\(screen)")
        }

        @Test func aTerminalTooSmallIsSaidSo() throws {
            let box = try BoxWithTwoJobs()
            let terminal = try Terminal(columns: 50, rows: 6, environment: ["ERGOMETER_SOCKET": box.daemon.socket])
            defer { terminal.close() }
            try terminal.type("\(BuiltProducts.executable("ergo")) top", "Enter")
            let screen = try terminal.screen { $0.contains("too small") }
            #expect(screen.contains("terminal 50×6 too small; ergo top needs 60×8"), "\(screen)")
            try terminal.type("q")
        }
    }
}
