/// Where Redis is: one server, or a Redis Cluster found through its seed nodes.
public enum RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// One Redis server.
    case server(RedisConfiguration)
    /// A Redis Cluster; one reachable seed is enough to learn every node.
    case cluster(seeds: [RedisConfiguration])

    /// Parses a Redis URL: `redis://[user:password@]host:port[/db]` is one server, and a URL listing several
    /// hosts (`redis://host:port,host:port[,…]`) is a cluster. `cluster: true` makes a one-host URL a
    /// cluster's seed.
    /// - Throws: ``RedisError`` with code ``RedisError/Code/invalidURL`` naming what is wrong.
    public init(url: String, cluster: Bool = false) throws(RedisError) {
        if cluster || RedisConfiguration.isCluster(url: url) {
            self = .cluster(seeds: try RedisConfiguration.clusterSeeds(url: url))
        } else {
            self = .server(try RedisConfiguration(url: url))
        }
    }

    /// Whether this is a cluster.
    public var isCluster: Bool {
        if case .cluster = self { return true }
        return false
    }

    /// The server's address, or the seeds' separated by commas.
    public var description: String {
        switch self {
        case .server(let configuration): configuration.address
        case .cluster(let seeds): "cluster " + seeds.map(\.address).joined(separator: ",")
        }
    }

    /// A runner for asynchronous callers: one ``RedisClient``, or a pool of `connections` of them, for a
    /// server; a ``RedisClusterClient`` with `connections` connections per node for a cluster.
    /// - Parameter name: a prefix for the names of the clients' threads.
    public func makeRunner(name: String, connections: Int = 1) throws(RedisError) -> any RedisCommandRunner {
        switch self {
        case .server(let configuration):
            connections > 1
                ? RedisClientPool(configuration: configuration, size: connections, name: name)
                : RedisClient(configuration: configuration, name: name)
        case .cluster(let seeds):
            try RedisClusterClient(seeds: seeds, name: name, connectionsPerNode: max(1, connections))
        }
    }
}
