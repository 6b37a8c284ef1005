import Redis
import RedisTestSupport

extension RedisTestCluster {
    /// `count` keys `<prefix>-<n>` that the master at `port` serves, per `owners` (from ``slotOwners(askingPort:)``).
    func keys(_ prefix: String, servedBy port: Int, owners: [Int], count: Int) -> [String] {
        var keys: [String] = []
        var index = 0
        while keys.count < count {
            let key = "\(prefix)-\(index)"
            if owners[HashSlot(key: key).number] == port { keys.append(key) }
            index += 1
        }
        return keys
    }

    /// Starts moving `slot` from the master at `source` to the one at `target`, as `redis-cli --cluster
    /// reshard` does: `IMPORTING` on the target, then `MIGRATING` on the source.
    func beginMigration(of slot: HashSlot, from source: Int, to target: Int) async throws {
        try await client(port: target).execute("CLUSTER", "SETSLOT", slot.number, "IMPORTING", nodeID(port: source))
        try await client(port: source).execute("CLUSTER", "SETSLOT", slot.number, "MIGRATING", nodeID(port: target))
    }

    /// Moves `keys` from the master at `source` to the one at `target` with `MIGRATE`.
    func migrate(_ keys: [String], from source: Int, to target: Int) async throws {
        try await client(port: source).execute(RedisCommand("MIGRATE", arguments: ["127.0.0.1", target, "", 0, 5000, "KEYS"] + keys))
    }

    /// Ends a migration: every master learns that `target` serves `slot` now (the target first).
    func finishMigration(of slot: HashSlot, to target: Int) async throws {
        let targetID = try await nodeID(port: target)
        for port in [target] + masterPorts.filter({ $0 != target }) {
            try await client(port: port).execute("CLUSTER", "SETSLOT", slot.number, "NODE", targetID)
        }
    }
}

/// `GET` through a cluster client, as text.
func text(_ client: RedisClusterClient, _ key: String) async throws -> String? {
    try await client.execute("GET", key).string
}
