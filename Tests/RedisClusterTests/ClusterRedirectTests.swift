import Redis
import RedisTestSupport
import Testing

@Suite("Cluster redirects")
struct ClusterRedirectTests {
    @Test("after a slot moved, clients with the old map follow MOVED, alone and in pipelines")
    func moved() async throws {
        try await withRedisCluster { cluster in
            let client = try cluster.clusterClient(name: "moved")
            let piped = try cluster.clusterClient(name: "moved-pipeline")
            let keys = (0..<10).map { "{moved}-\($0)" }
            let slot = HashSlot(key: keys[0])
            for key in keys { try await client.execute("SET", key, "old-\(key)") }
            #expect(try await piped.execute("GET", keys[0]).string == "old-\(keys[0])")

            let owners = try await cluster.slotOwners(askingPort: cluster.masterPorts[0])
            let source = owners[slot.number]
            let target = try #require(cluster.masterPorts.first { $0 != source })
            try await cluster.beginMigration(of: slot, from: source, to: target)
            try await cluster.migrate(keys, from: source, to: target)
            try await cluster.finishMigration(of: slot, to: target)

            for key in keys {
                #expect(try await text(client, key) == "old-\(key)")
                try await client.execute("SET", key, "new-\(key)")
            }
            let targetNode = cluster.client(port: target)
            for key in keys {
                #expect(try await targetNode.execute("GET", key).string == "new-\(key)")
            }
            #expect(try await cluster.client(port: source).execute("DBSIZE") == .integer(0))

            let other = try #require(cluster.masterPorts.first { $0 != source && $0 != target })
            let elsewhere = cluster.keys("elsewhere", servedBy: other, owners: owners, count: 3)
            let commands = (keys + elsewhere).flatMap { [RedisCommand("SET", $0, "piped-\($0)"), RedisCommand("GET", $0)] }
            let replies = try await piped.pipeline(commands)
            #expect(replies == (keys + elsewhere).flatMap { [RedisValue.status("OK"), .bulk(Array("piped-\($0)".utf8))] })
        }
    }

    @Test("during a migration a moved key is read through ASK, and the map keeps the source")
    func ask() async throws {
        try await withRedisCluster { cluster in
            let client = try cluster.clusterClient()
            let (moving, staying, created) = ("{ask}-moving", "{ask}-staying", "{ask}-created")
            let slot = HashSlot(key: moving)
            try await client.execute("SET", moving, "m")
            try await client.execute("SET", staying, "s")

            let owners = try await cluster.slotOwners(askingPort: cluster.masterPorts[0])
            let source = owners[slot.number]
            let target = try #require(cluster.masterPorts.first { $0 != source })
            try await cluster.beginMigration(of: slot, from: source, to: target)
            try await cluster.migrate([moving], from: source, to: target)

            for _ in 0..<3 {
                #expect(try await text(client, moving) == "m")
                #expect(try await text(client, staying) == "s")
            }
            try await client.execute("SET", created, "c")
            let replies = try await client.pipeline([RedisCommand("GET", staying), RedisCommand("GET", moving), RedisCommand("GET", created)])
            #expect(replies.map(\.string) == ["s", "m", "c"])

            let sourceNode = cluster.client(port: source)
            let targetNode = cluster.client(port: target)
            // Every read of the moved key went to the source first (ASK), then to the target after ASKING;
            // the target never saw a command without ASKING, which it would have refused.
            #expect(try await commandStat(sourceNode, "get", "rejected_calls") == 5)
            #expect(try await commandStat(targetNode, "get", "calls") == 5)
            #expect(try await commandStat(targetNode, "get", "rejected_calls") == 0)
            #expect(try await commandStat(targetNode, "set", "rejected_calls") == 0)
            #expect(try await targetNode.pipeline([RedisCommand("ASKING"), RedisCommand("GET", created)])[1].string == "c")

            try await cluster.migrate([staying], from: source, to: target)
            try await cluster.finishMigration(of: slot, to: target)
            #expect(try await text(client, staying) == "s")
        }
    }

    @Test("a redirect loop ends with a clear error")
    func redirectLoop() async throws {
        try await withRedisCluster { cluster in
            let client = try cluster.clusterClient()
            let key = "{loop}-key"
            let slot = HashSlot(key: key)
            let owners = try await cluster.slotOwners(askingPort: cluster.masterPorts[0])
            let source = owners[slot.number]
            let target = try #require(cluster.masterPorts.first { $0 != source })
            // MIGRATING on the source without IMPORTING on the target: the source says ASK, the target MOVED.
            try await cluster.client(port: source).execute("CLUSTER", "SETSLOT", slot.number, "MIGRATING", cluster.nodeID(port: target))
            let error = await #expect(throws: RedisError.self) { try await client.execute("GET", key) }
            #expect(error?.code == .cluster)
            #expect(error?.message.hasPrefix("GET was redirected 6 times, last by 127.0.0.1:") == true)
        }
    }
}
