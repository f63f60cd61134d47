import ErgometerClient
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
        // The idle timeout (3 s) leaves a wide window between "two refused at accept" and
        // "the other four timed out", so a slow start of the six clients on a busy CI host
        // cannot blur the two.
        let daemon = try Self.daemon(control: "max_connections_per_user = 4\nidle_timeout_seconds = 3\n")
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
        let refusedBy = Date().addingTimeInterval(2)
        while Date() < refusedBy && stuck.filter({ !$0.isRunning }).count < 2 { usleep(20_000) }
        #expect(stuck.filter { !$0.isRunning }.count == 2, "two beyond nobody's four connections were closed at once")
        // Meanwhile other users are served and the sampler keeps its tick.
        let started = Date()
        let first = try #require(try JSONSerialization.jsonObject(with: Data(try daemon.ergo(["ledger", "--json"]).standardOutput.utf8)) as? [String: Any])
        #expect(Date().timeIntervalSince(started) < 1.5, "root's request did not wait for the stuck ones (3 s)")
        usleep(400_000)
        let second = try #require(try JSONSerialization.jsonObject(with: Data(try daemon.ergo(["ledger", "--json"]).standardOutput.utf8)) as? [String: Any])
        let before = try #require(first["measured_microjoules"] as? UInt64)
        let after = try #require(second["measured_microjoules"] as? UInt64)
        #expect(after > before, "ticks went on while clients were stuck")
        // The idle timeout closes the four that were let in.
        let deadline = Date().addingTimeInterval(6)
        while Date() < deadline && stuck.contains(where: { $0.isRunning }) { usleep(50_000) }
        #expect(!stuck.contains(where: { $0.isRunning }), "ergod closed every silent connection")
        #expect(daemon.log().contains("control connection refused: too many open"))
        // And nobody may connect again once their connections are gone.
        let again = try ProcessResult.run(
            "/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", "/usr/bin/curl", "-s", "--unix-socket", daemon.socket, "http://ergod/v1/health"])
        #expect(again.standardOutput.contains("ok"), "\(again.standardOutput) \(again.standardError)")
    }
}

extension ControlSocketBoundsTests {
    /// Seeded garbage through the real server: valid requests of every route, mutated (bytes
    /// flipped, inserted, cut, repeated), each on its own connection. ergod answers or closes
    /// each one, never dies, and serves a clean request afterwards.
    @Test func mutatedRawRequestsNeverTakeErgodDown() throws {
        let daemon = try Self.daemon()
        defer { daemon.stop(); try? FileManager.default.removeItem(atPath: daemon.root) }
        let valid = [
            "GET /v1/health HTTP/1.1\r\nHost: ergod\r\n\r\n",
            "GET /v1/jobs?all=1 HTTP/1.1\r\nHost: ergod\r\n\r\n",
            "POST /v1/jobs HTTP/1.1\r\nHost: ergod\r\nContent-Type: application/json\r\nContent-Length: 62\r\n\r\n{\"name\":\"x\",\"labels\":{\"a\":\"b\"},\"command\":[\"y\"],\"pid\":999999}",
            "POST /v1/jobs/1/progress HTTP/1.1\r\nHost: ergod\r\nTransfer-Encoding: chunked\r\n\r\n12\r\n{\"flops\":1,\"steps\":\r\nF\r\n1,\"samples\":1}\r\n0\r\n\r\n",
            "POST /v1/jobs/1/end HTTP/1.1\r\nHost: ergod\r\nContent-Length: 17\r\n\r\n{\"exit_status\":0}",
        ].map { Array($0.utf8) }
        var random = SplitMix64(seed: 0xE460_D)
        var answered = 0
        for round in 0..<400 {
            var bytes = valid[round % valid.count]
            for _ in 0...Int(random.next() % 3) {
                let position = Int(random.next() % UInt64(bytes.count + 1))
                switch random.next() % 4 {
                case 0 where position < bytes.count: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.insert(contentsOf: (0..<Int(random.next() % 6)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: position)
                case 2: bytes.removeSubrange(position..<min(bytes.count, position + Int(random.next() % 12)))
                default: bytes.insert(contentsOf: Array(repeating: bytes[..<min(position, 32)], count: Int(random.next() % 200)).joined(), at: position)
                }
            }
            if try RawUnixSocket.exchange(path: daemon.socket, bytes, timeoutSeconds: 3).starts(with: Array("HTTP/1.1 ".utf8)) { answered += 1 }
            #expect(daemon.process.isRunning, "ergod died on round \(round): \(String(decoding: bytes.prefix(200), as: UTF8.self))")
            if !daemon.process.isRunning { return }
        }
        print("mutated raw requests: \(answered) of 400 answered over HTTP, the rest closed")
        #expect(answered > 100, "most mutated requests still get an HTTP answer (\(answered) of 400)")
        #expect(try daemon.ergo(["jobs", "--all"]).status == 0, "and a clean request is served after them")
    }
}

/// A client that sends bytes over a Unix socket and reads until the server closes or a
/// timeout: what an arbitrary local program could do.
enum RawUnixSocket {
    static func exchange(path: String, _ bytes: [UInt8], timeoutSeconds: Int) throws -> [UInt8] {
        let fd = try UnixHTTPClient(socketPath: path, timeoutSeconds: timeoutSeconds).connect()
        defer { close(fd) }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        shutdown(fd, Int32(SHUT_WR))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got <= 0 { break }
            answer += buffer[..<got]
        }
        return answer
    }
}
