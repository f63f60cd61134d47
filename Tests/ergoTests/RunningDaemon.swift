import ErgometerTestSupport
import Foundation

/// ergod on a fixture tree at a 0.1 s tick, for tests that need one running. The /metrics
/// listener is off unless a test asks for it (`listen`), so parallel daemons never compete for
/// a port.
final class RunningDaemon {
    let root: String
    let socket: String
    let process: Process
    let logPath: String
    let configPath: String

    init(
        root: String, configuration: String = "", listen: String = "off", extraArguments: [String] = [],
        environment: [String: String] = [:]
    ) throws {
        self.root = root
        socket = root + "/ergod.sock"
        logPath = root + "/ergod.log"
        configPath = root + "/ergometer.toml"
        process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.executable("ergod"))
        try (configuration.isEmpty ? "[daemon]\ninterval_seconds = 0.1\ncheckpoint_seconds = 0.5\n" : configuration)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        process.arguments = [
            "--config", configPath, "--sysfs-root", root + "/sys", "--state-dir", root + "/state", "--socket", socket,
            "--listen", listen,
        ] + extraArguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = FileHandle.nullDevice  // never the test runner's pipe
        try process.run()
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socket) { usleep(25_000) }
        usleep(200_000)
    }

    func ergo(_ arguments: [String]) throws -> ProcessResult {
        try ProcessResult.run(BuiltProducts.executable("ergo"), arguments + (arguments.first == "run" ? [] : ["--socket", socket]), environment: ProcessInfo.processInfo.environment.merging(["ERGOMETER_SOCKET": socket]) { _, new in new })
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// Loopback TCP helpers: a port nobody listens on, and a plain HTTP GET through curl.
enum Loopback {
    /// A port the kernel just handed out and took back: free unless someone races for it.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw FixtureError("bind: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func get(_ url: String) throws -> ProcessResult {
        try ProcessResult.run("/usr/bin/curl", ["-sS", "--max-time", "10", url])
    }

    /// Waits until `url` answers (up to 10 s).
    static func waitForListener(_ url: String) throws {
        for _ in 0..<100 {
            if let result = try? get(url), result.status == 0 { return }
            usleep(100_000)
        }
        throw FixtureError("nothing answers at \(url)")
    }
}

/// A real Prometheus server (Debian's) scraping `targets` every second, its rules evaluated every
/// second, on a free loopback port; stopped on deinit.
final class RunningPrometheus {
    let api: String
    private let process = Process()

    init(directory: String, targets: [String], ruleFiles: [String] = []) throws {
        let port = try Loopback.freePort()
        let rules = ruleFiles.isEmpty ? "" : "rule_files:\n" + ruleFiles.map { "  - \($0)\n" }.joined()
        try """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        \(rules)scrape_configs:
          - job_name: ergometer
            static_configs:
              - targets: [\(targets.map { "\"\($0)\"" }.joined(separator: ", "))]

        """.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        process.arguments = ["--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/tsdb", "--web.listen-address=127.0.0.1:\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        api = "http://127.0.0.1:\(port)"
        try Loopback.waitForListener(api + "/-/ready")
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }
}
