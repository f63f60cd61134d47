import Foundation

/// Paths of the fixture trees under `Tests/Fixtures`.
public enum Fixtures {
    /// `Tests/Fixtures`, found from this file's location so tests run from any directory.
    public static let root: String = {
        let thisFile = URL(fileURLWithPath: #filePath)
        return thisFile.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }()

    /// The package root (where Package.swift is).
    public static let packageRoot: String = {
        URL(fileURLWithPath: root).deletingLastPathComponent().deletingLastPathComponent().path
    }()

    /// `Tests/Fixtures/<name>`; for the real machines' trees use `shared/<name>`.
    public static func path(_ name: String) -> String { root + "/" + name }

    /// Copies a fixture tree into a fresh temporary directory the test may change.
    public static func scratchCopy(of name: String) throws -> String {
        let directory = try temporaryDirectory()
        try run("/bin/cp", ["-a", path(name) + "/.", directory])
        return directory
    }

    public static func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ergometer-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// Runs a program to completion; throws when it cannot start or exits non-zero.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let result = try ProcessResult.run(executable, arguments)
        guard result.status == 0 else {
            throw FixtureError("\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.standardError)")
        }
        return result.standardOutput
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The outcome of running a program: its exit status and both output streams.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String

    /// Runs to completion; `input` goes to its standard input (then closed), else /dev/null.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: [UInt8]? = nil) throws
        -> ProcessResult
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let inputPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        if let input {
            let writer = inputPipe.fileHandleForWriting
            Thread {
                writer.write(Data(input))
                try? writer.close()
            }.start()
        }
        // Drain both pipes concurrently so a chatty child cannot fill one and block.
        nonisolated(unsafe) var errorData = Data()
        let drain = Thread { errorData = error.fileHandleForReading.readDataToEndOfFile() }
        drain.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !drain.isFinished { usleep(1000) }
        return ProcessResult(
            status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self)
        )
    }
}

/// The built `ergo` executable, next to the test bundle in the build products directory.
public enum BuiltProducts {
    public static func executable(_ name: String) -> String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return Fixtures.packageRoot + "/.build/debug/" + name
    }
}

extension Fixtures {
    /// Starts a daemon that forks into the background, its output to /dev/null, and waits for
    /// the starting process with waitpid. Not Foundation's Process: its termination monitor can
    /// miss a starter whose child forks a daemon and leaves (runuser for munged stayed a zombie,
    /// the test waiting for ever).
    public static func startDaemon(_ executable: String, _ arguments: [String]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor in Int32(0)...2 { posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0) }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw FixtureError("cannot start \(executable): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            throw FixtureError("\(executable) \(arguments.joined(separator: " ")) exited with status \(status); see its log or syslog")
        }
    }
}
