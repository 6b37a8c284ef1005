import Redis

/// The masters of a Redis Cluster, each as a client of its own, for what has to ask every master
/// (`INFO memory`).
public enum ClusterMasters {
    /// One client per master that `CLUSTER NODES` lists as reachable, with `template`'s credentials and
    /// timeouts.
    /// - Parameters:
    ///   - cluster: a runner for the cluster, which answers `CLUSTER NODES` from any node.
    ///   - template: a seed's configuration.
    public static func clients(of cluster: any RedisCommandRunner, template: RedisConfiguration) async throws(RedisError) -> [RedisClient] {
        let nodes = try await cluster.execute("CLUSTER", "NODES").string ?? ""
        return addresses(inClusterNodes: nodes).map { host, port in
            var configuration = template
            configuration.host = host
            configuration.port = port
            return RedisClient(configuration: configuration, name: "goalctl-top")
        }
    }

    /// The `host` and `port` of each master in a `CLUSTER NODES` reply that is not failing, sorted.
    static func addresses(inClusterNodes text: String) -> [(host: String, port: Int)] {
        var result: [(host: String, port: Int)] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let columns = line.split(separator: " ")
            guard columns.count > 2 else { continue }
            let flags = columns[2].split(separator: ",")
            guard flags.contains("master"), !flags.contains("fail"), !flags.contains("noaddr") else { continue }
            // "<ip>:<port>@<cluster port>[,<hostname>]"
            let address = columns[1].prefix { $0 != "@" && $0 != "," }
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { continue }
            result.append((String(address[..<colon]), port))
        }
        return result.sorted { ($0.host, $0.port) < ($1.host, $1.port) }
    }
}
