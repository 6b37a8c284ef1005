#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// What a long operation (replaying many dead letters, creating many goals, a benchmark) says while it runs:
/// one line on standard error, rewritten in place at most ten times a second, when standard error is a
/// terminal; off a terminal, counts are left out and messages are plain lines. Standard output stays for the
/// result (and for `--json`).
final class ProgressLine: Sendable {
    private let label: String
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let lastDrawn = Mutex<ContinuousClock.Instant?>(nil)

    /// Creates a progress line whose counts read "`label` done/total".
    init(_ label: String) {
        self.label = label
    }

    /// Shows `done` of `total`; the last one (`done == total`) is always drawn.
    func update(_ done: Int, of total: Int) {
        guard isTerminal else { return }
        let now = ContinuousClock.now
        let due = lastDrawn.withLock { last in
            guard done >= total || last.map({ now - $0 >= .milliseconds(100) }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        let percent = total > 0 ? done * 100 / total : 100
        emit("\r\u{1B}[K\(label) \(done)/\(total) (\(percent)%)")
    }

    /// Shows a message: in place on a terminal, as a line otherwise.
    func say(_ message: String) {
        emit(isTerminal ? "\r\u{1B}[K… \(message)" : "… \(message)\n")
    }

    /// Clears the line on a terminal, so the result prints on a clean one.
    func finish() {
        if isTerminal { emit("\r\u{1B}[K") }
    }

    private func emit(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
