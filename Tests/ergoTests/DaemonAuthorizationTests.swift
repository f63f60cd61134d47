import ErgometerTestSupport
import Foundation
import Testing

/// The peer's uid (SO_PEERCRED) decides what a user sees: another user's job is neither listed
/// nor reported nor ended nor fed for them, unless they are root or in `control.admin_group`.
/// Real uids: the clients run as `nobody` through setpriv.
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root to run as two users (CI runs as root)"))
struct DaemonAuthorizationTests {
    /// Runs `executable` as nobody, with `group` as its only group.
    static func asNobody(group: String = "nogroup", _ executable: String, _ arguments: [String]) throws -> ProcessResult {
        try ProcessResult.run("/usr/bin/setpriv", ["--reuid=nobody", "--regid=\(group)", "--clear-groups", "--", executable] + arguments)
    }

    /// A raw control request through curl as nobody; the output ends with the HTTP status.
    static func curlAsNobody(group: String = "nogroup", _ daemon: RunningDaemon, _ method: String, _ path: String, body: String? = nil) throws -> String {
        var arguments = ["-s", "-w", " %{http_code}", "--unix-socket", daemon.socket, "-X", method]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        return try asNobody(group: group, "/usr/bin/curl", arguments + ["http://ergod" + path]).standardOutput
    }

    static func daemon(control: String = "") throws -> RunningDaemon {
        let root = try Fixtures.scratchCopy(of: "no-powercap")  // the model: every tick has energy
        try Fixtures.run("/bin/chmod", ["755", root])
        return try RunningDaemon(root: root, configuration: "[daemon]\ninterval_seconds = 0.1\ncheckpoint_seconds = 0.5\n[control]\n" + control)
    }

    /// root's job, still running (a sleep under `ergo run` in the background).
    static func rootJob(_ daemon: RunningDaemon, seconds: Int = 8) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.executable("ergo"))
        process.arguments = ["run", "--name", "roots-secret", "--", "/bin/sleep", "\(seconds)"]
        process.environment = ProcessInfo.processInfo.environment.merging(["ERGOMETER_SOCKET": daemon.socket]) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if try daemon.ergo(["jobs"]).standardOutput.contains("roots-secret") { break }
            usleep(50_000)
        }
        return process
    }

    /// SIGKILL: a test runner may start children with SIGTERM ignored. The sleep it ran ends
    /// on its own.
    static func stop(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    @Test func anotherUsersJobIsHidden() throws {
        let daemon = try Self.daemon()
        defer { daemon.stop(); try? FileManager.default.removeItem(atPath: daemon.root) }
        #expect(try daemon.ergo(["run", "--", "/bin/true"]).status == 0)
        let running = try Self.rootJob(daemon)
        defer { Self.stop(running) }
        let ergo = BuiltProducts.executable("ergo")
        #expect(try daemon.ergo(["jobs", "--all"]).standardOutput.contains("root"))
        let listed = try Self.asNobody(ergo, ["jobs", "--all", "--json", "--socket", daemon.socket])
        #expect(listed.status == 0, "\(listed.standardError)")
        let visible = try JSONSerialization.jsonObject(with: Data(listed.standardOutput.utf8)) as? [Any]
        #expect(visible?.isEmpty == true, "nobody sees root's jobs: \(listed.standardOutput)")
        let report = try Self.asNobody(ergo, ["report", "1", "--socket", daemon.socket])
        #expect(report.status == 1)
        #expect(report.standardError.contains("403"))
        #expect(report.standardError.contains("belongs to another user"))
        #expect(!report.standardOutput.contains("energy"), "no data with the refusal")
        #expect(daemon.log().contains("refused a report request"))
        // Nor its time series (`ergo report --svg`).
        let series = try Self.curlAsNobody(daemon, "GET", "/v1/jobs/1/series", body: nil)
        #expect(series.hasSuffix(" 403") && !series.contains("series_uj"), "\(series)")
        #expect(daemon.log().contains("refused a series request"))
        // Nor end it: the running job stays running.
        let end = try Self.curlAsNobody(daemon, "POST", "/v1/jobs/2/end", body: "{\"exit_status\":0}")
        #expect(end.hasSuffix(" 403"), "\(end)")
        #expect(daemon.log().contains("refused an end request"))
        #expect(try daemon.ergo(["jobs"]).standardOutput.contains("roots-secret"), "still running")
        // Nor have ergod move another user's process into a job.
        let registration = try Self.curlAsNobody(daemon, "POST", "/v1/jobs", body: "{\"name\":\"x\",\"labels\":{},\"command\":[],\"pid\":1}")
        #expect(registration.contains("belongs to another user") && registration.hasSuffix(" 403"), "\(registration)")
        #expect(daemon.log().contains("refused to measure another user's process"))
        // Nor report progress (FLOPs) for another user's job.
        let progress = try Self.curlAsNobody(daemon, "POST", "/v1/jobs/2/progress", body: "{\"flops\":1e12,\"steps\":1,\"samples\":1,\"metrics\":{}}")
        #expect(progress.hasSuffix(" 403"), "\(progress)")
        #expect(daemon.log().contains("refused a progress report"))
        // The ledger names only the caller's jobs; the others' energy is one sum, so it still adds up.
        let ledger = try #require(try JSONSerialization.jsonObject(with: Data(try Self.asNobody(ergo, ["ledger", "--json", "--socket", daemon.socket]).standardOutput.utf8)) as? [String: Any])
        let buckets = try #require(ledger["buckets"] as? [String: Any])
        #expect((buckets["jobs_microjoules"] as? [String: Any])?.isEmpty == true, "\(buckets)")
        let others = try #require(buckets["other_users_microjoules"] as? UInt64)
        #expect(others > 0)
        let system = buckets["system_microjoules"] as? UInt64 ?? 0
        let idle = buckets["idle_microjoules"] as? UInt64 ?? 0
        #expect(others + system + idle == ledger["measured_microjoules"] as? UInt64)
        // Floored to the 1 mJ export resolution, as /metrics is: no µJ RAPL oracle for users.
        #expect([others, system, idle].allSatisfy { $0 % 1000 == 0 }, "\(buckets)")
        let rootsLedger = try #require(try JSONSerialization.jsonObject(with: Data(try daemon.ergo(["ledger", "--json"]).standardOutput.utf8)) as? [String: Any])
        #expect((rootsLedger["buckets"] as? [String: Any])?["other_users_microjoules"] == nil, "root sees every job by id")
    }

    @Test func membersOfTheAdminGroupSeeAndEndEveryJob() throws {
        let daemon = try Self.daemon(control: "admin_group = \"adm\"\n")
        defer { daemon.stop(); try? FileManager.default.removeItem(atPath: daemon.root) }
        let running = try Self.rootJob(daemon)
        defer { Self.stop(running) }
        let ergo = BuiltProducts.executable("ergo")
        let listed = try Self.asNobody(group: "adm", ergo, ["jobs", "--json", "--socket", daemon.socket])
        #expect(listed.standardOutput.contains("roots-secret"), "an admin sees root's job: \(listed.standardOutput)")
        let report = try Self.asNobody(group: "adm", ergo, ["report", "1", "--socket", daemon.socket])
        #expect(report.status == 0, "\(report.standardError)")
        let ledger = try Self.asNobody(group: "adm", ergo, ["ledger", "--json", "--socket", daemon.socket]).standardOutput
        #expect(ledger.contains("\"1\""), "the admin's ledger names every job: \(ledger)")
        // Reporting FLOPs stays the owner's: an admin reads, but does not write, a job's work.
        #expect(try Self.curlAsNobody(group: "adm", daemon, "POST", "/v1/jobs/1/progress", body: "{\"flops\":1,\"steps\":0,\"samples\":0,\"metrics\":{}}").hasSuffix(" 403"))
        let end = try Self.curlAsNobody(group: "adm", daemon, "POST", "/v1/jobs/1/end", body: "{\"exit_status\":0}")
        #expect(end.hasSuffix(" 200"), "\(end)")
        #expect(!(try daemon.ergo(["jobs"]).standardOutput.contains("roots-secret")), "ended by the admin")
        // The same user outside the group sees nothing.
        let outsider = try Self.asNobody(ergo, ["jobs", "--all", "--json", "--socket", daemon.socket]).standardOutput
        #expect((try JSONSerialization.jsonObject(with: Data(outsider.utf8)) as? [Any])?.isEmpty == true, "\(outsider)")
    }

    @Test func runningJobsAreLimitedPerUserAndInAll() throws {
        let daemon = try Self.daemon(control: "max_active_jobs_per_user = 2\nmax_active_jobs = 3\n")
        defer { daemon.stop(); try? FileManager.default.removeItem(atPath: daemon.root) }
        let ergo = BuiltProducts.executable("ergo")
        var sleepers: [Process] = []
        defer { sleepers.forEach(Self.stop) }
        for index in 0..<2 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", ergo, "run", "--name", "n\(index)", "--", "/bin/sleep", "8"]
            process.environment = ["ERGOMETER_SOCKET": daemon.socket, "PATH": "/usr/bin:/bin"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            sleepers.append(process)
        }
        for _ in 0..<100 {
            if try daemon.ergo(["jobs", "--json"]).standardOutput.components(separatedBy: "\"id\"").count - 1 >= 2 { break }
            usleep(50_000)
        }
        let third = try ProcessResult.run(
            "/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", ergo, "run", "--", "/bin/true"],
            environment: ["ERGOMETER_SOCKET": daemon.socket, "PATH": "/usr/bin:/bin"])
        #expect(third.status != 0)
        #expect(third.standardError.contains("429") && third.standardError.contains("control.max_active_jobs_per_user"), "\(third.standardError)")
        #expect(daemon.log().contains("the user's limit of running jobs is reached"))
        // Root is not limited per user, but counts toward the total of 3.
        let running = try Self.rootJob(daemon)
        defer { Self.stop(running) }
        let fourth = try daemon.ergo(["run", "--", "/bin/true"])
        #expect(fourth.status != 0)
        #expect(fourth.standardError.contains("control.max_active_jobs"), "\(fourth.standardError)")
    }
}
