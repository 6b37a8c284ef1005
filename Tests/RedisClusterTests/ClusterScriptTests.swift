import Redis
import RedisTestSupport
import Testing

@Suite("Cluster scripts")
struct ClusterScriptTests {
    static let pair = RedisScript("""
        redis.call('SET', KEYS[1], ARGV[1])
        redis.call('SET', KEYS[2], ARGV[1])
        return redis.call('GET', KEYS[2])
        """)

    @Test("EVALSHA runs on the node serving its hash tag, loading the script there on NOSCRIPT")
    func evalSHA() async throws {
        try await withRedisCluster { cluster in
            let client = try cluster.clusterClient()
            let owners = try await cluster.slotOwners(askingPort: cluster.masterPorts[0])
            let nodes = cluster.masterPorts.map { cluster.client(port: $0) }
            func cached() async throws -> [Int] {
                var result: [Int] = []
                for node in nodes { result.append(try await node.execute("SCRIPT", "EXISTS", Self.pair.sha1).array?.first?.int ?? -1) }
                return result
            }
            #expect(try await cached() == [0, 0, 0])
            for (index, port) in cluster.masterPorts.enumerated() {
                let tag = cluster.keys("tag", servedBy: port, owners: owners, count: 1)[0]
                let keys = ["{\(tag)}.a", "{\(tag)}.b"]
                #expect(try await client.run(Self.pair, keys: keys, arguments: ["v\(index)"]) == .bulk(Array("v\(index)".utf8)))
                #expect(try await nodes[index].execute("GET", keys[0]).string == "v\(index)")
                #expect(try await cached() == cluster.masterPorts.indices.map { $0 <= index ? 1 : 0 })
            }

            try await nodes[1].execute("SCRIPT", "FLUSH")
            let tag = cluster.keys("tag", servedBy: cluster.masterPorts[1], owners: owners, count: 1)[0]
            // As on one server, the EVAL fallback runs after the rest of that node's share of the pipeline.
            let replies = try await client.pipeline([
                Self.pair.evalSHA(keys: ["{\(tag)}.a", "{\(tag)}.b"], arguments: ["again"]),
                RedisCommand("GET", "{\(tag)}.a"),
            ])
            #expect(replies == [.bulk(Array("again".utf8)), .bulk(Array("v1".utf8))])
            #expect(try await client.execute("GET", "{\(tag)}.a").string == "again")
            #expect(try await cached() == [1, 1, 1])

            let error = await #expect(throws: RedisError.self) {
                try await client.run(Self.pair, keys: ["a", "b"], arguments: ["x"])
            }
            #expect(error?.code == .crossSlot)
            #expect(error?.message.hasPrefix("CROSSSLOT the keys of EVALSHA") == true)
        }
    }
}
