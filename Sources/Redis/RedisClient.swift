/// An asynchronous Redis client: one connection, used from one dedicated thread.
///
/// Every method runs on the client's own ``ThreadExecutor``, so the blocking hiredis calls never occupy a
/// thread of Swift's cooperative pool; callers simply `await`. Calls are serialised: a command waits for the
/// one before it. Use one client per concurrent flow (a blocking `XREADGROUP` should have its own).
public actor RedisClient {
    private let executor: ThreadExecutor
    private let connection: RedisConnection

    /// Where this client connects.
    public nonisolated let configuration: RedisConfiguration

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Creates a client; it connects on the first command.
    /// - Parameters:
    ///   - configuration: where to connect.
    ///   - name: a name for the client's thread.
    public init(configuration: RedisConfiguration, name: String = "redis") {
        self.configuration = configuration
        self.executor = ThreadExecutor(name: name)
        self.connection = RedisConnection(configuration: configuration)
    }

    /// Sends a command and returns its reply.
    /// - Throws: ``RedisError`` for connection failures and for an error reply from the server.
    @discardableResult
    public func execute(_ command: RedisCommand, timeout: Duration? = nil) throws(RedisError) -> RedisValue {
        try connection.send(command, timeout: timeout).checked()
    }

    /// Sends commands in one pipeline; replies come back in order, error replies as values.
    /// - Throws: ``RedisError`` only when the connection fails.
    public func pipeline(_ commands: [RedisCommand], timeout: Duration? = nil) throws(RedisError) -> [RedisValue] {
        try connection.send(commands, timeout: timeout)
    }

    /// Runs `body` on the client's thread with the connection itself, for loops of many blocking calls
    /// without a hop per call (benchmarks, bulk loads).
    public func withConnection<Result: Sendable>(_ body: (RedisConnection) throws -> Result) rethrows -> Result {
        try body(connection)
    }

    /// Closes the connection; a later command reconnects.
    public func close() {
        connection.close()
    }
}
