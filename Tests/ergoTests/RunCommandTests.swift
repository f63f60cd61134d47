import ErgometerTestSupport
import Foundation
import Testing

/// `ergo run` without a daemon: measures in-process, passes the exit status through, sets the
/// job's environment, forwards SIGTERM, and falls back to process-tree tracking for non-root.
struct RunCommandTests {
    static let ergo = BuiltProducts.executable("ergo")

    /// Environment for a run with no daemon and a private standalone store.
    static func environment(state: String) -> [String: String] {
        ProcessInfo.processInfo.environment.merging([
            "XDG_STATE_HOME": state, "ERGOMETER_SOCKET": state + "/no-daemon.sock",
        ]) { _, new in new }
    }

    @Test func standaloneRunPassesTheExitStatusAndSetsTheEnvironment() throws {
        let state = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let result = try ProcessResult.run(
            Self.ergo, ["run", "--name", "env", "--label", "team=vision", "--", "/bin/sh", "-c", "echo job=$ERGOMETER_JOB_ID; exit 7"],
            environment: Self.environment(state: state))
        #expect(result.status == 7)
        #expect(result.standardOutput == "job=1\n")
        #expect(result.standardError.contains("no ergod on \(state)/no-daemon.sock; measuring in-process, saving to \(state)/ergometer"))
        #expect(result.standardError.contains("exit status:  7"))
        #expect(result.standardError.contains("team=vision"))
        let report = try ProcessResult.run(Self.ergo, ["report", "1", "--json"], environment: Self.environment(state: state))
        #expect(report.status == 0, "\(report.standardError)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.standardOutput.utf8)) as? [String: Any])
        for key in ["id", "name", "duration_seconds", "cpu_seconds", "energy_joules", "co2_grams", "source", "exit_status"] {
            #expect(json[key] != nil, "report key \(key)")
        }
        #expect(json["exit_status"] as? Int == 7)
        #expect(json["name"] as? String == "env")
    }

    @Test func signalDeathIsReportedTheShellsWay() throws {
        let state = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let result = try ProcessResult.run(Self.ergo, ["run", "--", "/bin/sh", "-c", "kill -KILL $$"], environment: Self.environment(state: state))
        #expect(result.status == 128 + 9)
    }

    @Test func sigtermReachesTheCommand() throws {
        let state = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.ergo)
        process.arguments = ["run", "--", "/bin/sh", "-c", "trap 'echo got TERM > \(state)/signal; exit 42' TERM; while true; do sleep 0.05; done"]
        process.environment = Self.environment(state: state)
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(800_000)
        process.terminate()  // SIGTERM to ergo, which forwards it
        process.waitUntilExit()
        #expect(process.terminationStatus == 42)
        #expect((try? String(contentsOfFile: state + "/signal", encoding: .utf8)) == "got TERM\n")
    }

    /// A SIGTERM while ergo is still setting up (the in-process sampler, the store) is kept and
    /// forwarded once the command runs: ergo neither dies of it nor leaves the command running.
    @Test func aSIGTERMDuringSetupReachesTheCommand() throws {
        let state = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.ergo)
        process.arguments = ["run", "--", "/bin/sleep", "30"]
        process.environment = Self.environment(state: state)
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(150_000)
        process.terminate()
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!process.isRunning, "ergo run still waits on a command that never got the signal")
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "ergo itself must not die of the signal")
        #expect(process.terminationStatus == 128 + SIGTERM, "the command was killed by the forwarded SIGTERM")
    }

    @Test func missingCommandAndBadLabelsAreUsageErrors() throws {
        #expect(try ProcessResult.run(Self.ergo, ["run"]).status == 2)
        let label = try ProcessResult.run(Self.ergo, ["run", "--label", "novalue", "--", "true"])
        #expect(label.status == 2)
        #expect(label.standardError.contains("labels are KEY=VALUE"))
    }

    @Test func commandNotFoundExits127() throws {
        let state = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let result = try ProcessResult.run(Self.ergo, ["run", "--", "no-such-command-here"], environment: Self.environment(state: state))
        #expect(result.status == 127)
    }

    @Test(.enabled(if: getuid() == 0, "dropping privileges needs root (CI runs as root)"))
    func nonRootStandaloneRunTracksTheProcessTreeAndSaysSo() throws {
        let state = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        try Fixtures.run("/bin/chmod", ["777", state])
        let result = try ProcessResult.run(
            "/usr/bin/setpriv",
            ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", Self.ergo, "run", "--json", "--", "/bin/sh", "-c",
             "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"],
            environment: Self.environment(state: state).merging(["HOME": state]) { _, new in new })
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("tracked by process tree"))
        let jsonStart = try #require(result.standardError.firstIndex(of: "{"))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.standardError[jsonStart...].utf8)) as? [String: Any])
        #expect(report["tracking"] as? String == "process-tree")
        #expect(report["user"] as? String == "nobody")
        #expect((report["cpu_seconds"] as? Double ?? 0) > 0.05, "the shell loop's CPU time was seen through /proc")
    }
}
