import ErgometerDaemon
import ErgometerTestSupport
import Foundation
import Testing

/// sd_notify over a real datagram socket, in the filesystem and in the abstract namespace.
struct SystemdNotifierTests {
    @Test func messagesArriveOnAnAbstractSocket() throws {
        let name = "ergometer-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let listener = try DatagramListener(abstractName: name)
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + name]))
        #expect(notifier.send("READY=1\nSTATUS=hello\n"))
        #expect(listener.receive() == "READY=1\nSTATUS=hello\n")
    }

    @Test func watchdogIsArmedOnlyForThisProcess() throws {
        let mine = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "\(getpid())"]))
        #expect(mine.watchdogNanoseconds == 2_000_000_000)
        let other = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"]))
        #expect(other.watchdogNanoseconds == nil)
        #expect(SystemdNotifier(environment: [:]) == nil, "not started by systemd: nothing to notify")
    }

    @Test func aVanishedSocketIsNotAnError() throws {
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/notify"]))
        #expect(!notifier.send("READY=1\n"))
    }
}
