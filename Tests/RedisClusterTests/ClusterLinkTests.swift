import Redis
import RedisTestSupport
import Testing

@Suite("Cluster link")
struct ClusterLinkTests {
    @Test("replies decode in place whichever way they came: before the map is known, from each node, after ASK")
    func decodesInPlace() async throws {
        try await withRedisCluster { cluster in
            let client = try cluster.clusterClient()
            let (moving, staying) = ("{link}-moving", "{link}-staying")
            let owners = try await cluster.slotOwners(askingPort: cluster.masterPorts[0])
            let others = cluster.masterPorts.flatMap { cluster.keys("link-\($0)", servedBy: $0, owners: owners, count: 1) }
            for key in [moving, staying] + others {
                try await client.execute("HSET", key, "key", key, "bytes", [0x00, 0xff, 0x0a] as [UInt8])
            }
            let hashes = ([moving, staying] + others).map { RedisCommand("HGETALL", $0) }
            let expected = ([moving, staying] + others).map { ["key": $0, "bytes": String(decoding: [0x00, 0xff, 0x0a] as [UInt8], as: UTF8.self)] }
            let fresh = try cluster.clusterClient(name: "link")
            let thread = DedicatedThread(name: "cluster-link-test")
            // A fresh client has no slot map yet: the first pipeline goes through it and is decoded from values;
            // the second, once the map is known, goes on the link's own connection to each node.
            let (first, second) = try await thread.run {
                let link = ClusterLink(client: fresh)
                let decode = { (reply: RedisReplyView) throws(RedisError) in try reply.checked().fieldMap }
                return (try link.send(hashes, timeout: nil, decoding: decode), try link.send(hashes, timeout: nil, decoding: decode))
            }
            #expect(first == expected)
            #expect(second == expected)

            // A slot being migrated answers ASK for a key already moved: resent through the client, decoded all the same.
            let slot = HashSlot(key: moving)
            let source = owners[slot.number]
            let target = try #require(cluster.masterPorts.first { $0 != source })
            try await cluster.beginMigration(of: slot, from: source, to: target)
            try await cluster.migrate([moving], from: source, to: target)
            let (third, errors) = try await thread.run {
                let link = ClusterLink(client: fresh)
                return (
                    try link.send(hashes, timeout: nil) { reply throws(RedisError) in try reply.checked().fieldMap },
                    try link.send([RedisCommand("HINCRBY", staying, "key", 1)], timeout: nil) { reply throws(RedisError) in reply.errorMessage }
                )
            }
            #expect(third == expected)
            #expect(errors[0]?.hasPrefix("ERR hash value is not an integer") == true)
        }
    }
}
