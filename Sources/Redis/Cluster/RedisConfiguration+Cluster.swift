extension RedisConfiguration {
    /// Whether `url` names a Redis Cluster: it lists several seed nodes separated by commas,
    /// `redis://[user:password@]host:port,host:port[,…]`. A URL with one host is a single server.
    ///
    /// Services pick ``RedisClusterClient`` when this is `true`, ``RedisClient`` otherwise. An invalid URL
    /// is not a cluster URL; ``init(url:)`` then says what is wrong with it.
    public static func isCluster(url: String) -> Bool {
        ((try? parse(url: url, form: "")) ?? []).count > 1
    }

    /// Parses a cluster URL, `redis://[user:password@]host:port[,host:port…][/0]`, into one configuration per
    /// seed node; all share the credentials. One seed is enough to find the whole cluster.
    ///
    /// - Throws: ``RedisError`` with code ``RedisError/Code/invalidURL`` naming what is wrong, including a
    ///   database other than 0 (a cluster has only database 0).
    public static func clusterSeeds(url: String) throws(RedisError) -> [RedisConfiguration] {
        let form = "redis://[user:password@]host:port,host:port[,…][/0]"
        let seeds = try parse(url: url, form: form)
        guard seeds[0].database == 0 else { throw invalid(url, "a cluster has only database 0", form: form) }
        return seeds
    }
}
