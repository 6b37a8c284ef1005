import Redis
import Synchronization

/// A blocking Redis connection that synchronous code on any thread can use, one call at a time: for test
/// receivers (which run on their consumer's thread) that play another replica changing state mid-handling.
public final class BlockingRedis: Sendable {
    private let connection: Mutex<RedisConnection>

    /// A connection to `configuration`, opened on first use.
    public init(configuration: RedisConfiguration) {
        connection = Mutex(RedisConnection(configuration: configuration))
    }

    /// Sends one command and returns its reply, throwing an error reply.
    @discardableResult
    public func execute(_ name: String, _ arguments: String...) throws -> RedisValue {
        try connection.withLock { connection in
            try connection.send(RedisCommand(name, arguments: arguments)).checked()
        }
    }
}

extension RedisTestServer {
    /// A blocking connection to this server, for synchronous code.
    public func blockingClient() -> BlockingRedis {
        BlockingRedis(configuration: configuration)
    }
}
