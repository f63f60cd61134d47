import ArgumentParser
import ErgometerWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `ergo`: measure the energy of training jobs. Subcommands live one per file.
struct Ergo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ergo",
        abstract: "Measure what training jobs cost in energy, power and CO2, and why their compute grew.",
        version: ErgometerVersion.current,
        subcommands: [ProbeCommand.self, RunCommand.self, JobsCommand.self, ReportCommand.self, CompareCommand.self, ProjectCommand.self, TopCommand.self, LedgerCommand.self, StoreCommand.self, BenchCommand.self]
    )
}

/// Entry point. Exit status: the subcommand's own, and 2 for bad arguments (not
/// ArgumentParser's 64), as scripts around `ergo probe` expect from a Unix tool.
@main
enum ErgoMain {
    static func main() async {
        do {
            var command = try Ergo.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            StandardError.write("ergo: \(failure.description)\n")
            exit(1)
        } catch {
            if Ergo.exitCode(for: error) == .validationFailure {
                StandardError.write(Ergo.fullMessage(for: error) + "\n")
                exit(2)
            }
            Ergo.exit(withError: error)
        }
    }
}

/// Writes to file descriptor 2 without going through C's shared `stderr` stream.
enum StandardError {
    static func write(_ text: String) { writeAll(text, to: 2) }
}

/// Writes all of `text` to a file descriptor, as many write(2)s as it takes (none on an error).
func writeAll(_ text: String, to descriptor: Int32) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}
