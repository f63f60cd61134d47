import ErgometerTestSupport
import Foundation
import Testing

/// ergod and ergo given bad input: each stops with a message naming the problem and the fix,
/// or, for a store that breaks, keeps measuring in memory and says so.
@Suite(.serialized)
struct DaemonBadInputTests {
    static let ergod = BuiltProducts.executable("ergod")

    @Test func malformedConfigNamesTheKeyAndLine() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "[daemon]\ninterval_seconds = 0.01\n[power]\nidle_wats = 3\n".write(toFile: directory + "/bad.toml", atomically: true, encoding: .utf8)
        let result = try ProcessResult.run(Self.ergod, ["--config", directory + "/bad.toml", "--state-dir", directory, "--socket", directory + "/s.sock"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("line 4: power.idle_wats: unknown key"))
        #expect(result.standardError.contains("daemon.interval_seconds = 0.01: must be between 0.05 and 60 seconds"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/s.sock"))
    }

    @Test func aMetricsPortInUseNamesTheAddressAndTheFix() throws {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let port = try Loopback.freePort()
        let first = try RunningDaemon(root: root, listen: "127.0.0.1:\(port)")
        defer { first.stop() }
        try Loopback.waitForListener("http://127.0.0.1:\(port)/metrics")
        let second = try ProcessResult.run(Self.ergod, [
            "--sysfs-root", root + "/sys", "--state-dir", root + "/state2", "--socket", root + "/second.sock", "--listen", "127.0.0.1:\(port)",
        ])
        #expect(second.status != 0)
        #expect(second.standardError.contains("cannot listen for /metrics on 127.0.0.1:\(port): the address is in use"), "\(second.standardError)")
        #expect(second.standardError.contains("--listen host:port"))
        #expect(first.process.isRunning, "the first ergod is untouched")
    }

    @Test func aBadListenAddressIsRefusedBeforeStarting() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try ProcessResult.run(Self.ergod, ["--state-dir", directory, "--socket", directory + "/s.sock", "--listen", "9477"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("metrics.listen = \"9477\": write host:port (127.0.0.1:9477)"), "\(result.standardError)")
    }

    @Test func unknownFlagIsRefused() throws {
        let result = try ProcessResult.run(Self.ergod, ["--sample-rate", "3"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("Unknown option '--sample-rate'"))
    }

    @Test func socketInAPlaceThatCannotHoldOneIsRefused() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "x".write(toFile: directory + "/file", atomically: true, encoding: .utf8)
        let result = try ProcessResult.run(Self.ergod, ["--state-dir", directory, "--socket", directory + "/file/ergod.sock"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("cannot create the socket directory \(directory)/file"))
        #expect(result.standardError.contains("--socket"))
    }

    @Test(.enabled(if: getuid() == 0, "job cgroups need root (CI runs as root)"))
    func corruptStoreMeansMemoryOnlyAndSaysSo() throws {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/state", withIntermediateDirectories: true)
        try String(repeating: "not a database ", count: 400).write(toFile: root + "/state/ergometer.sqlite", atomically: true, encoding: .utf8)
        let daemon = try RunningDaemon(root: root)
        defer { daemon.stop() }
        let run = try daemon.ergo(["run", "--", "/bin/true"])
        #expect(run.status == 0, "\(run.standardError)")
        let ledger = try daemon.ergo(["ledger"])
        #expect(ledger.standardOutput.contains("store error"))
        #expect(ledger.standardOutput.contains("corrupt or not an SQLite database"))
        #expect(ledger.standardOutput.contains("job 1:"), "the job was measured in memory")
        #expect(daemon.log().contains("job store unusable; sampling in memory only"))
        let store = try daemon.ergo(["store"])
        #expect(store.status == 1 && store.standardError.contains("keeps no job store"), "\(store.standardError)")
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root (CI runs as root)"))
    func fullDiskKeepsSamplesInMemoryUntilThereIsRoom() throws {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        let state = root + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try Fixtures.run("/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", state])
        defer {
            _ = try? Fixtures.run("/bin/umount", [state])
            try? FileManager.default.removeItem(atPath: root)
        }
        let daemon = try RunningDaemon(root: root)
        defer { daemon.stop() }
        // Fill the disk: dd stops at ENOSPC.
        _ = try? ProcessResult.run("/bin/dd", ["if=/dev/zero", "of=\(state)/filler", "bs=4k"])
        let run = try daemon.ergo(["run", "--", "/bin/sh", "-c", "sleep 0.5"])
        #expect(run.status == 0, "\(run.standardError)")
        let full = try daemon.ergo(["ledger"])
        #expect(full.standardOutput.contains("disk is full"), "\(full.standardOutput)")
        #expect(daemon.log().contains("cannot write the job store; sampling goes on in memory"))
        try FileManager.default.removeItem(atPath: state + "/filler")
        usleep(1_200_000)  // the next checkpoint saves what waited in memory
        let recovered = try daemon.ergo(["ledger"])
        #expect(!recovered.standardOutput.contains("store error"), "\(recovered.standardOutput)")
        let stored = try ProcessResult.run(BuiltProducts.executable("ergo"), ["report", "1", "--state-dir", state, "--json"])
        #expect(stored.status == 0, "\(stored.standardError)")
        #expect(stored.standardOutput.contains("\"exit_status\" : 0"))
        // ergod's own account of its store, once it could write it again.
        let status = try #require(try JSONSerialization.jsonObject(with: Data(try daemon.ergo(["store", "--json"]).standardOutput.utf8)) as? [String: Any])
        #expect(status["path"] as? String == state + "/ergometer.sqlite" && status["jobs"] as? Int == 1, "\(status)")
        #expect((status["bytes"] as? Int ?? 0) > 0 && (status["samples_full"] as? Int ?? 0) > 0, "\(status)")
    }
}
