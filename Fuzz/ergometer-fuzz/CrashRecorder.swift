#if canImport(Glibc)
import Glibc
#endif

/// Keeps a copy of the input being parsed where a signal handler can reach it: when a parser
/// traps (a Swift runtime check is SIGILL or SIGTRAP; memory errors SIGSEGV or SIGBUS), the
/// handler writes that input to the crash file with plain system calls, says where, and lets
/// the signal kill the process as it would have.
enum CrashRecorder {
    nonisolated(unsafe) static var input = UnsafeMutablePointer<UInt8>.allocate(capacity: Mutator.maximumSize)
    nonisolated(unsafe) static var length = 0
    nonisolated(unsafe) static var path = UnsafeMutablePointer<CChar>.allocate(capacity: 4096)

    static func install() {
        path[0] = 0
        for number in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
            signal(number) { number in
                if CrashRecorder.path[0] != 0 {
                    let fd = open(CrashRecorder.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                    if fd >= 0 {
                        _ = write(fd, CrashRecorder.input, CrashRecorder.length)
                        close(fd)
                    }
                    let note: StaticString = "\nergometer-fuzz: a parser crashed; the input is in "
                    _ = write(2, note.utf8Start, note.utf8CodeUnitCount)
                    _ = write(2, CrashRecorder.path, strlen(CrashRecorder.path))
                    _ = write(2, "\n", 1)
                }
                signal(number, SIG_DFL)
                raise(number)
            }
        }
    }

    /// The file a crash of the next inputs is written to.
    static func setCrashFile(_ file: String) {
        let bytes = Array(file.utf8.prefix(4095))
        for (index, byte) in bytes.enumerated() { path[index] = CChar(bitPattern: byte) }
        path[bytes.count] = 0
    }

    /// Copies the input about to be parsed.
    static func hold(_ bytes: [UInt8]) {
        length = min(bytes.count, Mutator.maximumSize)
        guard length > 0 else { return }
        bytes.withUnsafeBufferPointer { input.update(from: $0.baseAddress!, count: length) }
    }
}
