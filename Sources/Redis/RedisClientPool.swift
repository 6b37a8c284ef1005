import Synchronization

/// A fixed set of ``RedisClient``s used in turn, so concurrent callers (HTTP requests) do not queue behind
/// one connection.
public final class RedisClientPool: Sendable {
    private let clients: [RedisClient]
    private let next = Atomic<Int>(0)

    /// Creates `size` clients of `configuration`; they connect on first use.
    public init(configuration: RedisConfiguration, size: Int, name: String = "redis-pool") {
        precondition(size > 0, "a pool needs at least one client")
        clients = (0..<size).map { RedisClient(configuration: configuration, name: "\(name)-\($0)") }
    }

    /// The next client in turn.
    public var client: RedisClient {
        let index = next.add(1, ordering: .relaxed).oldValue
        return clients[index % clients.count]
    }
}
