import Foundation

/// A child process started with `posix_spawn`, stopped and reaped with plain signals and `waitpid`.
///
/// Foundation's `Process.waitUntilExit` spins a run loop and can hang when called from a task, so the
/// harness manages its children itself.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked Sendable: `exitStatus` is only written under `lock`; `pid` never changes.
    /// The child's process id.
    public let pid: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Starts `executable` with `arguments` and `environment`, its output appended to `logPath`
    /// (or discarded when `nil`).
    public init(executable: String, arguments: [String], environment: [String: String]? = nil, logPath: String? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let output = logPath ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

        // Children start with no blocked signals and default handlers, whatever the spawning thread had.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, env)
        guard status == 0 else {
            throw TestServerError(message: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
    }

    /// Whether the child has not exited yet.
    public var isRunning: Bool { poll() == nil }

    /// Sends `signal` to the child.
    public func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits up to `timeout` for the child to exit; returns its exit status (or 128 + signal), or `nil`.
    public func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = poll() { return status }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return poll()
    }

    /// Sends SIGTERM, waits up to `timeout`, then SIGKILL; returns the exit status.
    @discardableResult
    public func stop(timeout: Duration = .seconds(10)) async -> Int32 {
        send(SIGTERM)
        if let status = await wait(timeout: timeout) { return status }
        send(SIGKILL)
        return await wait(timeout: .seconds(10)) ?? -1
    }

    /// Kills the child with SIGKILL and reaps it, synchronously.
    public func killNow() {
        send(SIGKILL)
        while isRunning { usleep(1000) }
    }

    private func poll() -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        let exited = status & 0x7f == 0
        exitStatus = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return exitStatus
    }
}
