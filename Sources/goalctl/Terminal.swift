#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The terminal `goalctl top` draws on: keys read one at a time from standard input without echo, and the
/// alternate screen on standard output, both given back as they were by ``restore()``.
final class Terminal: @unchecked Sendable {
    // @unchecked Sendable: `goalctl top` creates it, hands it to the one task that draws and reads keys, and
    // restores it only after that task has ended; its state is never touched from two tasks at once.
    private var saved = termios()
    private var isRaw = false

    /// Whether standard output is a terminal.
    static var isTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Switches standard input (when it is a terminal) to reading keys without echo, line editing or signals
    /// (Ctrl-C arrives as a key), without waiting; and standard output to the alternate screen.
    init() {
        if isatty(STDIN_FILENO) == 1, tcgetattr(STDIN_FILENO, &saved) == 0 {
            var raw = saved
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
            withUnsafeMutableBytes(of: &raw.c_cc) { cc in
                cc[Int(VMIN)] = 0
                cc[Int(VTIME)] = 0
            }
            isRaw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0
        }
        emit("\u{1B}[?1049h\u{1B}[?25l")
    }

    /// The terminal's width in columns (80 when it does not say).
    var columns: Int {
        var size = winsize()
        return ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    /// Draws `lines` from the top left corner, each cut to the terminal's width, clearing what was below.
    func draw(_ lines: [String]) {
        let width = columns
        emit("\u{1B}[H" + lines.map { String($0.prefix(width)) + "\u{1B}[K" }.joined(separator: "\n") + "\u{1B}[J")
    }

    /// The next key typed, if any; never waits.
    func key() -> UInt8? {
        guard isRaw else { return nil }
        var byte: UInt8 = 0
        return read(STDIN_FILENO, &byte, 1) == 1 ? byte : nil
    }

    /// Leaves the alternate screen and gives standard input its settings back.
    func restore() {
        emit("\u{1B}[?25h\u{1B}[?1049l")
        if isRaw { _ = tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        isRaw = false
    }

    private func emit(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
