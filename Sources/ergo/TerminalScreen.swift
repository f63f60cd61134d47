import Glibc

/// A key `ergo top` acts on.
enum TerminalKey: Equatable {
    case character(Character)
    case up, down, pageUp, pageDown
}

/// The one place `ergo` speaks ANSI and termios: the terminal in raw mode on the alternate
/// screen with the cursor hidden, keys read with a timeout, frames drawn in place (home, each
/// line cleared to its end, the rest cleared: no flicker), and everything restored on `restore`,
/// which the caller runs on `q`, Ctrl-C and SIGTERM alike (signals only set a flag here).
final class TerminalScreen {
    private var saved = termios()
    private var restored = false

    /// Whether standard input and output are both a terminal.
    static var isInteractive: Bool { isatty(0) == 1 && isatty(1) == 1 }

    /// (rows, columns) of the terminal on standard output.
    static func size() -> (rows: Int, columns: Int)? {
        var window = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &window) == 0, window.ws_row > 0, window.ws_col > 0 else { return nil }
        return (Int(window.ws_row), Int(window.ws_col))
    }

    init() {
        tcgetattr(0, &saved)
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)  // ISIG stays: Ctrl-C is a SIGINT, handled as one
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        tcsetattr(0, TCSAFLUSH, &raw)
        Self.write("\u{1B}[?1049h\u{1B}[?25l")
    }

    deinit { restore() }

    /// The terminal as it was: cooked mode, the cursor shown, the normal screen back.
    func restore() {
        guard !restored else { return }
        restored = true
        Self.write("\u{1B}[?25h\u{1B}[?1049l")
        tcsetattr(0, TCSAFLUSH, &saved)
    }

    /// Draws `lines` from the top left, each cut to `columns`, in one write.
    func draw(_ lines: [String], columns: Int) {
        var frame = "\u{1B}[H"
        for (index, line) in lines.enumerated() {
            if index > 0 { frame += "\r\n" }
            frame += String(line.prefix(columns)) + "\u{1B}[K"
        }
        frame += "\u{1B}[J"
        Self.write(frame)
    }

    /// The next key within `timeout` seconds; nil on a timeout or a signal.
    func key(timeout: Double) -> TerminalKey? {
        var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(max(timeout, 0) * 1000)) > 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 16)
        let count = read(0, &bytes, bytes.count)
        guard count > 0 else { return nil }
        let input = Array(bytes[0..<count])
        switch input {
        case [0x1B, 0x5B, 0x41], [0x1B, 0x4F, 0x41]: return .up
        case [0x1B, 0x5B, 0x42], [0x1B, 0x4F, 0x42]: return .down
        case [0x1B, 0x5B, 0x35, 0x7E]: return .pageUp
        case [0x1B, 0x5B, 0x36, 0x7E]: return .pageDown
        default: return input[0] < 0x80 ? .character(Character(Unicode.Scalar(input[0]))) : nil
        }
    }

    static func write(_ text: String) { writeAll(text, to: 1) }
}

/// The signal that asked `ergo top` to stop (SIGINT, SIGTERM) or to redraw (SIGWINCH), set by
/// a handler that does nothing else.
nonisolated(unsafe) private var receivedSignal: Int32 = 0

enum TerminalSignals {
    /// Installs the handlers, without SA_RESTART so a wait for a key returns at once.
    static func install() {
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGWINCH] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { receivedSignal = $0 }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, nil)
        }
    }

    /// The last signal since the previous call, if any.
    static func take() -> Int32? {
        let signal = receivedSignal
        receivedSignal = 0
        return signal == 0 ? nil : signal
    }
}
