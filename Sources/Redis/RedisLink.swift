/// A blocking way to Redis for code that runs on a thread of its own (the signal bus's consumers): a
/// ``RedisConnection`` to one server, or a ``ClusterLink`` to a Redis Cluster. Never call one from a thread
/// of Swift's cooperative pool.
public protocol RedisLink: AnyObject {
    /// Sends commands in one pipeline and decodes their replies in order, each read in place by `decode`
    /// (error replies included: they are values, not thrown).
    /// - Parameter timeout: overrides the command timeout (for blocking commands such as `XREADGROUP BLOCK`).
    /// - Throws: ``RedisError`` when the connection fails, or what `decode` throws.
    func send<Decoded>(
        _ commands: [RedisCommand], timeout: Duration?, decoding decode: (RedisReplyView) throws(RedisError) -> Decoded
    ) throws(RedisError) -> [Decoded]

    /// Whether the link reaches a Redis Cluster, whose scripts must keep their keys in one slot.
    var isCluster: Bool { get }
}

extension RedisLink {
    /// Sends commands in one pipeline and returns their replies in order, error replies as values.
    /// - Parameter timeout: overrides the command timeout (for blocking commands such as `XREADGROUP BLOCK`).
    /// - Throws: ``RedisError`` when the connection fails.
    public func send(_ commands: [RedisCommand], timeout: Duration?) throws(RedisError) -> [RedisValue] {
        try send(commands, timeout: timeout) { reply throws(RedisError) in reply.value }
    }

    /// Sends one command and returns its reply; an error reply is returned as a value, not thrown.
    public func send(_ command: RedisCommand, timeout: Duration? = nil) throws(RedisError) -> RedisValue {
        try send([command], timeout: timeout)[0]
    }

    /// Sends commands in one pipeline with the connection's command timeout.
    public func send(_ commands: [RedisCommand]) throws(RedisError) -> [RedisValue] {
        try send(commands, timeout: nil)
    }

    /// Sends one command and decodes its reply in place (see ``send(_:timeout:decoding:)``).
    public func send<Decoded>(
        _ command: RedisCommand, timeout: Duration? = nil, decoding decode: (RedisReplyView) throws(RedisError) -> Decoded
    ) throws(RedisError) -> Decoded {
        try send([command], timeout: timeout, decoding: decode)[0]
    }
}

extension RedisConnection: RedisLink {
    public var isCluster: Bool { false }
}
