import Foundation
import Redis

/// A throwaway `redis-server` on a free loopback port, without persistence, for one test. Its working folder
/// (where Redis would write any file) is a temporary folder of its own, removed with the server.
///
/// Every test that touches Redis starts its own server (``withRedisServer(_:)``), so tests never see each
/// other's keys, streams or pub/sub traffic and can run in parallel. A missing `redis-server` is a failure
/// that says how to get it: Redis is not optional for this project's tests.
public final class RedisTestServer: Sendable {
    /// The server's port on 127.0.0.1.
    public let port: Int
    /// `redis://127.0.0.1:<port>/0`.
    public var url: String { "redis://127.0.0.1:\(port)/0" }
    /// A configuration for clients of this server.
    public var configuration: RedisConfiguration { RedisConfiguration(host: "127.0.0.1", port: port) }

    private let process: ChildProcess
    private let directory: URL

    private init(port: Int, process: ChildProcess, directory: URL) {
        self.port = port
        self.process = process
        self.directory = directory
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts a server and waits until it answers `PING`.
    /// - Parameters:
    ///   - port: a fixed port (to restart a server where it was); a free one when `nil`.
    ///   - extraArguments: more `redis-server` options, such as `["--appendonly", "yes"]`.
    public static func start(port: Int? = nil, extraArguments: [String] = []) async throws -> RedisTestServer {
        let executable = try locateRedisServer()
        var lastError: (any Error)?
        for _ in 0..<5 {
            let chosen = try port ?? FreePort.find()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // A `--dir` in `extraArguments` comes later and wins.
            let process = try ChildProcess(executable: executable, arguments: [
                "--port", String(chosen), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--loglevel", "warning", "--logfile", "", "--dir", directory.path,
            ] + extraArguments)
            let server = RedisTestServer(port: chosen, process: process, directory: directory)
            do {
                try await server.waitUntilReady()
                return server
            } catch {
                lastError = error
                server.kill()
            }
        }
        throw lastError ?? TestServerError(message: "redis-server did not start")
    }

    /// Stops the server (SIGTERM) and waits for it to exit.
    public func stop() async {
        await process.stop()
    }

    /// Kills the server abruptly (SIGKILL), as a crash would.
    public func kill() {
        process.killNow()
    }

    /// Pauses (SIGSTOP) or resumes (SIGCONT) the server, as a stalled host would.
    public func setPaused(_ paused: Bool) {
        process.send(paused ? SIGSTOP : SIGCONT)
    }

    /// A new client of this server.
    public func client(name: String = "test") -> RedisClient {
        RedisClient(configuration: configuration, name: name)
    }

    private func waitUntilReady() async throws {
        let connection = RedisConnection(configuration: RedisConfiguration(host: "127.0.0.1", port: port, connectTimeout: .milliseconds(200)))
        for _ in 0..<200 {
            guard process.isRunning else {
                throw TestServerError(message: "redis-server exited at start (port \(port) may be taken)")
            }
            if let reply = try? connection.send(RedisCommand("PING")), reply == .status("PONG") {
                // A parallel test's server may answer on a port this one failed to bind: this one must still run
                // (a server that cannot bind exits at once).
                try await Task.sleep(for: .milliseconds(50))
                guard process.isRunning else { throw TestServerError(message: "another process answers on port \(port)") }
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestServerError(message: "redis-server on port \(port) did not answer PING within 2 s")
    }

    static func locateRedisServer() throws -> String {
        var candidates: [String] = []
        if let configured = ProcessInfo.processInfo.environment["REDIS_SERVER"] { candidates.append(configured) }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        candidates += path.split(separator: ":").map { "\($0)/redis-server" }
        candidates += ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw TestServerError(
            message: "redis-server is not installed: these tests need a real Redis. Run `make test`, which installs it (apt-get install redis-server)."
        )
    }
}

/// Runs `body` with a fresh redis-server of its own, and stops the server afterwards, even when `body` throws.
public func withRedisServer(
    extraArguments: [String] = [],
    _ body: (RedisTestServer) async throws -> Void
) async throws {
    let server = try await RedisTestServer.start(extraArguments: extraArguments)
    do {
        try await body(server)
        await server.stop()
    } catch {
        server.kill()
        throw error
    }
}

/// A failure of the test harness itself.
public struct TestServerError: Error, CustomStringConvertible {
    /// What went wrong.
    public let message: String
    /// Creates the error.
    public init(message: String) { self.message = message }
    public var description: String { message }
}
