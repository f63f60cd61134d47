import ErgometerClient
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Prepares ergod's socket and state directories, with errors that say what to fix.
public enum DaemonFiles {
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    public static func prepare(socket: String, stateDirectory: String) throws(Problem) {
        let socketDirectory = (socket as NSString).deletingLastPathComponent
        for (directory, role, flag) in [(socketDirectory, "socket directory", "--socket"), (stateDirectory, "state directory", "--state-dir")] {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw Problem(description: "cannot create the \(role) \(directory): \(error.localizedDescription). Choose another with \(flag), or run as root.")
            }
            guard access(directory, W_OK) == 0 else {
                throw Problem(description: "the \(role) \(directory) is not writable by this user. Choose another with \(flag), or run as root.")
            }
        }
        var info = stat()
        if lstat(socket, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFSOCK else {
                throw Problem(description: "\(socket) exists and is not a socket; refusing to replace it. Remove it or choose another --socket.")
            }
            if UnixSocketProbe.answers(socket) {
                throw Problem(description: "another ergod already answers on \(socket). Stop it first, or choose another --socket.")
            }
            unlink(socket)  // stale, from a daemon that died
        }
    }
}
