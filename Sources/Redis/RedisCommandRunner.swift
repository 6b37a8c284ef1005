/// Sends commands to Redis asynchronously: one server's ``RedisClient`` (or ``RedisClientPool``), or a
/// ``RedisClusterClient`` that routes each command to the node serving its keys.
///
/// Code that only sends commands takes a runner, so it works the same against one server and a cluster.
public protocol RedisCommandRunner: Sendable {
    /// Sends a command and returns its reply, throwing an error reply.
    @discardableResult
    func execute(_ command: RedisCommand, timeout: Duration?) async throws(RedisError) -> RedisValue

    /// Sends commands in one pipeline (per node, in a cluster) and returns their replies in order, error
    /// replies as values.
    func pipeline(_ commands: [RedisCommand], timeout: Duration?) async throws(RedisError) -> [RedisValue]

    /// Whether commands go to a Redis Cluster: transactions are refused there, and a script's keys must
    /// share one slot.
    var isCluster: Bool { get }
}

extension RedisCommandRunner {
    public var isCluster: Bool { false }

    /// Sends a command with the connection's command timeout.
    @discardableResult
    public func execute(_ command: RedisCommand) async throws(RedisError) -> RedisValue {
        try await execute(command, timeout: nil)
    }

    /// Sends a command given as its name and arguments.
    @discardableResult
    public func execute(_ name: String, _ arguments: any RedisArgument...) async throws(RedisError) -> RedisValue {
        try await execute(RedisCommand(name, arguments: arguments), timeout: nil)
    }

    /// Sends commands in one pipeline with the connection's command timeout.
    public func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisValue] {
        try await pipeline(commands, timeout: nil)
    }

    /// Runs a Lua script by SHA, falling back to its source when the server has not cached it.
    @discardableResult
    public func run(_ script: RedisScript, keys: [String], arguments: [any RedisArgument]) async throws(RedisError) -> RedisValue {
        try await execute(script.evalSHA(keys: keys, arguments: arguments), timeout: nil)
    }
}

extension RedisClient: RedisCommandRunner {}

extension RedisClusterClient: RedisCommandRunner {
    public var isCluster: Bool { true }
}

extension RedisClientPool: RedisCommandRunner {
    public func execute(_ command: RedisCommand, timeout: Duration?) async throws(RedisError) -> RedisValue {
        try await client.execute(command, timeout: timeout)
    }

    public func pipeline(_ commands: [RedisCommand], timeout: Duration?) async throws(RedisError) -> [RedisValue] {
        try await client.pipeline(commands, timeout: timeout)
    }
}
