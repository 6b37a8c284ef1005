import Foundation
import Synchronization

/// A blocking way to Redis for code that runs on a thread of its own (the signal bus's consumers): a
/// ``RedisConnection`` to one server, or a ``ClusterLink`` to a Redis Cluster. Never call one from a thread
/// of Swift's cooperative pool.
public protocol RedisLink: AnyObject {
    /// Sends commands in one pipeline and returns their replies in order, error replies as values.
    /// - Parameter timeout: overrides the command timeout (for blocking commands such as `XREADGROUP BLOCK`).
    /// - Throws: ``RedisError`` when the connection fails.
    func send(_ commands: [RedisCommand], timeout: Duration?) throws(RedisError) -> [RedisValue]

    /// Whether the link reaches a Redis Cluster, whose scripts must keep their keys in one slot.
    var isCluster: Bool { get }
}

extension RedisLink {
    /// Sends one command and returns its reply; an error reply is returned as a value, not thrown.
    public func send(_ command: RedisCommand, timeout: Duration? = nil) throws(RedisError) -> RedisValue {
        try send([command], timeout: timeout)[0]
    }

    /// Sends commands in one pipeline with the connection's command timeout.
    public func send(_ commands: [RedisCommand]) throws(RedisError) -> [RedisValue] {
        try send(commands, timeout: nil)
    }
}

extension RedisConnection: RedisLink {
    public var isCluster: Bool { false }
}

/// A blocking link to a Redis Cluster: each call waits, on the calling thread, for a
/// ``RedisClusterClient`` that routes every command to the node serving its keys, follows redirects and
/// waits out failovers. The calling thread must be one of the caller's own (see ``DedicatedThread``).
public final class ClusterLink: RedisLink, Sendable {
    private let client: RedisClusterClient

    /// Creates a link sending through `client`.
    public init(client: RedisClusterClient) {
        self.client = client
    }

    public var isCluster: Bool { true }

    public func send(_ commands: [RedisCommand], timeout: Duration?) throws(RedisError) -> [RedisValue] {
        let client = client
        let outcome = Mutex<Result<[RedisValue], RedisError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<[RedisValue], RedisError>
            do throws(RedisError) {
                result = .success(try await client.pipeline(commands, timeout: timeout))
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }
}

/// A thread of its own on which long-running blocking work runs (a consumer's loop), so that it never
/// occupies a thread of Swift's cooperative pool.
public actor DedicatedThread {
    private let executor: ThreadExecutor

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Starts the thread.
    /// - Parameter name: the thread's name, shown by debuggers and `top -H`.
    public init(name: String) {
        executor = ThreadExecutor(name: name)
    }

    /// Runs `body` on the thread and returns its result.
    public func run<Result: Sendable>(_ body: () throws -> Result) rethrows -> Result {
        try body()
    }
}
