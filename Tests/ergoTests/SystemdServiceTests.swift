import ErgometerTestSupport
import Foundation
import Testing

extension LoadSensitiveSuites {
    /// The systemd side: the unit as `make install` writes it, checked by systemd-analyze, and
    /// ergod's sd_notify, SIGHUP and SIGTERM behaviour over a real notify socket.
    @Suite(.serialized)
    struct SystemdServiceTests {
        /// `make install-files` into a scratch prefix, with the debug binaries, so the unit's
        /// ExecStart names a binary that exists (systemd-analyze verify checks it).
        static func installed(into existing: String? = nil) throws -> (prefix: String, unit: String) {
            let prefix = try existing ?? Fixtures.temporaryDirectory()
            let install = try ProcessResult.run("/usr/bin/make", [
                "-C", Fixtures.packageRoot, "install-files", "INSTALL_FROM=" + URL(fileURLWithPath: BuiltProducts.executable("ergod")).deletingLastPathComponent().path,
                "PREFIX=\(prefix)/usr", "SYSCONFDIR=\(prefix)/etc",
            ])
            #expect(install.status == 0, "\(install.standardOutput)\(install.standardError)")
            return (prefix, prefix + "/usr/lib/systemd/system/ergod.service")
        }

        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "Debian's systemd package provides systemd-analyze"))
        func theInstalledUnitVerifiesAndScoresAtMostTwoAndAHalf() throws {
            let (prefix, unit) = try Self.installed()
            defer { try? FileManager.default.removeItem(atPath: prefix) }
            let text = try String(contentsOfFile: unit, encoding: .utf8)
            #expect(text.contains("ExecStart=\(prefix)/usr/bin/ergod --config \(prefix)/etc/ergometer/ergometer.toml"))
            #expect(FileManager.default.fileExists(atPath: prefix + "/etc/ergometer/ergometer.toml"))
            #expect(FileManager.default.isExecutableFile(atPath: prefix + "/usr/bin/ergo"))

            let verify = try ProcessResult.run("/usr/bin/systemd-analyze", ["verify", unit])
            #expect(verify.status == 0, "\(verify.standardError)")
            #expect(verify.standardOutput.isEmpty && verify.standardError.isEmpty, "systemd-analyze verify: \(verify.standardOutput)\(verify.standardError)")

            let security = try ProcessResult.run("/usr/bin/systemd-analyze", ["security", "--offline=true", unit])
            let line = try #require(security.standardOutput.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(security.standardOutput)\(security.standardError)")
            let score = try #require(line.split(separator: " ").compactMap { Double($0) }.first, "\(line)")
            #expect(score <= 2.5, "exposure \(score): \(line)")

            // A second install keeps the edited configuration and ships the new one beside it.
            try "# edited\n".write(toFile: prefix + "/etc/ergometer/ergometer.toml", atomically: true, encoding: .utf8)
            _ = try Self.installed(into: prefix)
            #expect(try String(contentsOfFile: prefix + "/etc/ergometer/ergometer.toml", encoding: .utf8) == "# edited\n")
            #expect(FileManager.default.fileExists(atPath: prefix + "/etc/ergometer/ergometer.toml.dist"))
        }

        @Test(.enabled(if: getuid() == 0, "job cgroups need root (CI runs as root)"))
        func notifyReloadAndTerminate() throws {
            let root = try Fixtures.scratchCopy(of: "intel-1s")
            defer { try? FileManager.default.removeItem(atPath: root) }
            let notify = try DatagramListener(path: root + "/notify.sock", timeoutSeconds: 5)
            let meter = try SimulatedRAPL(sysfs: root + "/sys", idleWatts: 10, wattsPerBusyCore: 20, dramWatts: 5, packageStartBelowWrap: 50_000_000)
            meter.start()
            defer { meter.stop() }
            let config = "[daemon]\ninterval_seconds = 0.1\ncheckpoint_seconds = 60\n"
            let daemon = try RunningDaemon(
                root: root, configuration: config,
                environment: ["NOTIFY_SOCKET": root + "/notify.sock", "WATCHDOG_USEC": "400000", "WATCHDOG_PID": ""])
            defer { daemon.stop() }

            let startup = try #require(notify.receive(until: "READY=1"), "no READY=1")
            #expect(startup.joined().contains("STATUS=sampling (rapl); 0 jobs running"))
            #expect(notify.receive(until: "WATCHDOG=1") != nil, "WatchdogSec set: ergod pings at half of it")

            // A bad configuration is refused whole; ergod keeps running on the old one.
            try (config + "[carbon]\npue = 9\n").write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
            daemon.signal(SIGHUP)
            usleep(500_000)
            #expect(daemon.log().contains("new configuration refused; the running one stays"))
            #expect(daemon.log().contains("carbon.pue = 9.0"))
            #expect(daemon.process.isRunning)

            // A good one applies what can change live and names what needs a restart.
            try (config.replacingOccurrences(of: "0.1", with: "0.2") + "[carbon]\npue = 1.5\n").write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
            daemon.signal(SIGHUP)
            #expect(notify.receive(until: "RELOADING=1") != nil)
            usleep(500_000)
            #expect(daemon.log().contains("configuration reloaded"))
            #expect(daemon.log().contains("daemon.interval_seconds"), "the interval needs a restart: \(daemon.log())")

            // A job that is still running when SIGTERM comes: the final checkpoint saves it.
            let job = Process()
            job.executableURL = URL(fileURLWithPath: BuiltProducts.executable("ergo"))
            job.arguments = [
                "run", "--socket", daemon.socket, "--wait-for-daemon", "1", "--name", "long", "--", "/bin/sh", "-c",
                "i=0; while [ $i -lt 5000000 ]; do i=$((i+1)); done",
            ]
            job.standardOutput = FileHandle.nullDevice  // not the test runner's pipe: it must not outlive the test
            job.standardError = FileHandle.nullDevice
            try job.run()
            defer {
                job.terminate()
                job.waitUntilExit()
            }
            #expect(notify.receive(until: "1 job running") != nil)
            usleep(600_000)
            daemon.signal(SIGTERM)
            #expect(notify.receive(until: "STOPPING=1") != nil)
            daemon.process.waitUntilExit()
            #expect(daemon.process.terminationStatus == 0)
            let stored = try ProcessResult.run(BuiltProducts.executable("ergo"), ["report", "1", "--state-dir", root + "/state", "--json"])
            #expect(stored.status == 0, "\(stored.standardError)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(stored.standardOutput.utf8)) as? [String: Any])
            #expect((report["energy_joules"] as? Double ?? 0) > 0, "saved by the final checkpoint: \(stored.standardOutput)")
            #expect((report["cpu_seconds"] as? Double ?? 0) > 0.3)
            #expect(report["pue"] as? Double == 1.5, "the reloaded PUE applied to the job")
        }
    }
}
