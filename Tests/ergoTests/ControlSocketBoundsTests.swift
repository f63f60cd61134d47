import ErgometerTestSupport
import Foundation
import Testing

/// What one client can cost ergod is bounded: body and header sizes, what a registration may
/// carry, the connections a user holds, and how long a silent connection stays open. A stuck
/// client neither stalls the sampler nor other users.
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root to run clients as another user (CI runs as root)"))
struct ControlSocketBoundsTests {
    static func daemon(control: String = "") throws -> RunningDaemon {
        let root = try Fixtures.scratchCopy(of: "no-powercap")  // the model: every tick has energy
        try Fixtures.run("/bin/chmod", ["755", root])
        return try RunningDaemon(root: root, configuration: "[daemon]\ninterval_seconds = 0.1\ncheckpoint_seconds = 0.5\n[control]\n" + control)
    }

    static func curl(_ daemon: RunningDaemon, _ arguments: [String]) throws -> String {
        try ProcessResult.run("/usr/bin/curl", ["-s", "-w", " %{http_code}", "--unix-socket", daemon.socket] + arguments).standardOutput
    }

    @Test func oversizedAndMalformedRequestsAreRefusedWithTheLimit() throws {
        let daemon = try Self.daemon()
        defer { daemon.stop(); try? FileManager.default.removeItem(atPath: daemon.root) }
        let huge = "{\"name\":\"" + String(repeating: "x", count: 100_000) + "\",\"labels\":{},\"command\":[],\"pid\":1}"
        let tooLarge = try Self.curl(daemon, ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", huge, "http://ergod/v1/jobs"])
        #expect(tooLarge.hasSuffix(" 413"), "\(tooLarge.suffix(200))")
        let badLabel = try Self.curl(daemon, [
            "-X", "POST", "-H", "Content-Type: application/json",
            "--data-binary", "{\"name\":\"x\",\"labels\":{\"bad key\":\"v\"},\"command\":[],\"pid\":\(getpid())}", "http://ergod/v1/jobs",
        ])
        #expect(badLabel.hasSuffix(" 400") && badLabel.contains("a key is 1 to 64 letters, digits or _"), "\(badLabel)")
        let manyLabels = (0..<40).map { "\"k\($0)\":\"v\"" }.joined(separator: ",")
        let tooMany = try Self.curl(daemon, [
            "-X", "POST", "-H", "Content-Type: application/json",
            "--data-binary", "{\"name\":\"x\",\"labels\":{\(manyLabels)},\"command\":[],\"pid\":\(getpid())}", "http://ergod/v1/jobs",
        ])
        #expect(tooMany.hasSuffix(" 400") && tooMany.contains("40 labels: at most 32"), "\(tooMany)")
        let hugeHeader = try Self.curl(daemon, ["-H", "X-Filler: " + String(repeating: "y", count: 20_000), "http://ergod/v1/health"])
        #expect(!hugeHeader.hasSuffix(" 200"), "a 20 KB header is not served: \(hugeHeader.suffix(100))")
        #expect(try daemon.ergo(["jobs"]).status == 0, "ergod is still serving")
        // ergo refuses the same mistakes before asking ergod.
        let local = try daemon.ergo(["run", "--label", "9lives=1", "--", "/bin/true"])
        #expect(local.status != 0 && local.standardError.contains("label \"9lives\""), "\(local.standardError)")
    }

    @Test func stuckClientsAreCappedAndTimedOutWhileTheSamplerTicks() throws {
        let daemon = try Self.daemon(control: "max_connections_per_user = 4\nidle_timeout_seconds = 1\n")
        defer { daemon.stop(); try? FileManager.default.removeItem(atPath: daemon.root) }
        // Six requests as nobody that send their headers and then wait (up to 30 s) for a
        // "100 Continue" before sending their body: stuck mid-request.
        try "{}".write(toFile: daemon.root + "/body.json", atomically: true, encoding: .utf8)
        try Fixtures.run("/bin/chmod", ["644", daemon.root + "/body.json"])
        var stuck: [Process] = []
        for _ in 0..<6 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = [
                "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", "/usr/bin/curl", "-s", "-H", "Expect: 100-continue",
                "--expect100-timeout", "30", "--data-binary", "@" + daemon.root + "/body.json", "--unix-socket", daemon.socket,
                "http://ergod/v1/jobs",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            stuck.append(process)
        }
        defer { for process in stuck where process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        usleep(300_000)
        #expect(stuck.filter { !$0.isRunning }.count == 2, "two beyond nobody's four connections were closed at once")
        // Meanwhile other users are served and the sampler keeps its tick.
        let started = Date()
        let first = try #require(try JSONSerialization.jsonObject(with: Data(try daemon.ergo(["ledger", "--json"]).standardOutput.utf8)) as? [String: Any])
        #expect(Date().timeIntervalSince(started) < 0.5, "root's request did not wait for the stuck ones")
        usleep(400_000)
        let second = try #require(try JSONSerialization.jsonObject(with: Data(try daemon.ergo(["ledger", "--json"]).standardOutput.utf8)) as? [String: Any])
        let before = try #require(first["measured_microjoules"] as? UInt64)
        let after = try #require(second["measured_microjoules"] as? UInt64)
        #expect(after > before, "ticks went on while clients were stuck")
        // The idle timeout (1 s) closes the four that were let in.
        let deadline = Date().addingTimeInterval(4)
        while Date() < deadline && stuck.contains(where: { $0.isRunning }) { usleep(50_000) }
        #expect(!stuck.contains(where: { $0.isRunning }), "ergod closed every silent connection")
        #expect(daemon.log().contains("control connection refused: too many open"))
        // And nobody may connect again once their connections are gone.
        let again = try ProcessResult.run(
            "/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", "/usr/bin/curl", "-s", "--unix-socket", daemon.socket, "http://ergod/v1/health"])
        #expect(again.standardOutput.contains("ok"), "\(again.standardOutput) \(again.standardError)")
    }
}
