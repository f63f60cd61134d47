import ErgometerDaemon
import ErgometerTestSupport
import Foundation
import Testing

/// sd_notify over a real datagram socket, in the filesystem and in the abstract namespace.
struct SystemdNotifierTests {
    /// A bound datagram socket and what it received.
    final class Listener {
        let fd: Int32

        init(abstractName: String? = nil, path: String? = nil) throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            var bytes: [UInt8] = abstractName.map { [0] + Array($0.utf8) } ?? Array(path!.utf8)
            let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstractName == nil ? 1 : 0))
            bytes += [0]
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard bound == 0 else { throw FixtureError("bind: errno \(errno)") }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        /// The next datagram, or nil after the timeout.
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, 0)
            return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
        }

        deinit { close(fd) }
    }

    @Test func messagesArriveOnAnAbstractSocket() throws {
        let name = "ergometer-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let listener = try Listener(abstractName: name)
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
