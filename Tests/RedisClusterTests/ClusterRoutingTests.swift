import Redis
import RedisTestSupport
import Testing

@Suite("Cluster routing")
struct ClusterRoutingTests {
    @Test("1,000 keys land on the masters serving their slots and read back")
    func routing() async throws {
        try await withRedisCluster { cluster in
            let client = try cluster.clusterClient()
            let keys = (0..<1000).map { "route-\($0)" }
            for (index, key) in keys.enumerated() {
                #expect(try await client.execute("SET", key, index) == .status("OK"))
            }
            let owners = try await cluster.slotOwners(askingPort: cluster.masterPorts[0])
            var total = 0
            for port in cluster.masterPorts {
                let node = cluster.client(port: port)
                let own = keys.filter { owners[HashSlot(key: $0).number] == port }
                #expect(own.count > 200, "master \(port) serves \(own.count) of the keys")
                #expect(try await node.execute("DBSIZE") == .integer(own.count))
                let exists = try await node.pipeline(own.map { RedisCommand("EXISTS", $0) })
                #expect(exists.allSatisfy { $0 == .integer(1) })
                total += own.count
            }
            #expect(total == 1000)
            for (index, key) in keys.enumerated() {
                #expect(try await text(client, key) == String(index))
            }
        }
    }

    @Test("every command the product sends reaches the master serving its key directly, never redirected")
    func commandKeys() async throws {
        try await withRedisCluster { cluster in
            let client = try cluster.clusterClient()
            let (stream, hash, list, zset, set) = ("keys-stream", "keys-hash", "keys-list", "keys-zset", "keys-set")
            let commands = [
                RedisCommand("SET", "keys-string", "v"), RedisCommand("GET", "keys-string"), RedisCommand("EXPIRE", "keys-string", 60),
                RedisCommand("TTL", "keys-string"), RedisCommand("TYPE", "keys-string"),
                RedisCommand("EXISTS", "{k}a", "{k}b"), RedisCommand("DEL", "{k}a", "{k}b"),
                RedisCommand("HSET", hash, "f", 1), RedisCommand("HGET", hash, "f"), RedisCommand("HMGET", hash, "f", "g"),
                RedisCommand("HINCRBY", hash, "f", 2), RedisCommand("HGETALL", hash), RedisCommand("HDEL", hash, "f"),
                RedisCommand("RPUSH", list, "a"), RedisCommand("LRANGE", list, 0, -1),
                RedisCommand("ZADD", zset, 1, "m"), RedisCommand("ZRANGEBYSCORE", zset, "-inf", "+inf"), RedisCommand("ZREM", zset, "m"),
                RedisCommand("SADD", set, "m"), RedisCommand("SMEMBERS", set), RedisCommand("SREM", set, "m"),
                RedisCommand("XADD", stream, "*", "f", "v"), RedisCommand("XGROUP", "CREATE", stream, "g", "0"),
                RedisCommand("XREADGROUP", "GROUP", "g", "c", "COUNT", 10, "STREAMS", stream, ">"),
                RedisCommand("XPENDING", stream, "g"), RedisCommand("XCLAIM", stream, "g", "c2", 0, "0-1"),
                RedisCommand("XAUTOCLAIM", stream, "g", "c2", 0, "0"), RedisCommand("XACK", stream, "g", "0-1"),
                RedisCommand("XINFO", "STREAM", stream), RedisCommand("XINFO", "GROUPS", stream),
                RedisCommand("XINFO", "CONSUMERS", stream, "g"), RedisCommand("XRANGE", stream, "-", "+"), RedisCommand("XLEN", stream),
                RedisCommand("XDEL", stream, "0-1"), RedisCommand("XTRIM", stream, "MAXLEN", 100),
                RedisCommand("EVAL", "return redis.call('GET', KEYS[1])", 1, "keys-string"), RedisCommand("EVAL", "return 1", 0),
                RedisCommand("PUBLISH", "channel", "hello"), RedisCommand("PING"), RedisCommand("INFO", "server"),
                RedisCommand("SCRIPT", "EXISTS", "0"),
            ]
            for command in commands {
                let reply = try await client.execute(command)
                #expect(reply.errorMessage == nil, "\(command)")
            }
            let owners = try await cluster.slotOwners(askingPort: cluster.masterPorts[0])
            #expect(Set([stream, hash, list, zset, set].map { owners[HashSlot(key: $0).number] }).count == 3)
            for port in cluster.masterPorts {
                let info = try await cluster.client(port: port).execute("INFO", "commandstats").string ?? ""
                #expect(info.split(whereSeparator: \.isNewline).allSatisfy { !$0.hasPrefix("cmdstat_") || $0.contains("rejected_calls=0") })
            }
        }
    }

    @Test("a pipeline across the three masters answers in the caller's order")
    func pipelineOrder() async throws {
        try await withRedisCluster { cluster in
            let client = try cluster.clusterClient()
            var commands: [RedisCommand] = []
            var expected: [RedisValue] = []
            for index in 0..<300 {
                let key = "pipe-\(index)"
                commands.append(RedisCommand("INCRBY", key, index))
                expected.append(.integer(index))
                commands.append(RedisCommand("HSET", "hash-\(index)", "field", key))
                expected.append(.integer(1))
                commands.append(RedisCommand("GET", key))
                expected.append(.bulk(Array(String(index).utf8)))
                commands.append(RedisCommand("HGET", "hash-\(index)", "field"))
                expected.append(.bulk(Array(key.utf8)))
            }
            commands.append(RedisCommand("PING"))
            expected.append(.status("PONG"))
            commands.append(RedisCommand("HGET", "pipe-0", "field"))
            expected.append(.error("WRONGTYPE Operation against a key holding the wrong kind of value"))
            let owners = try await cluster.slotOwners(askingPort: cluster.masterPorts[0])
            #expect(Set((0..<300).map { owners[HashSlot(key: "pipe-\($0)").number] }) == Set(cluster.masterPorts))
            #expect(try await client.pipeline(commands) == expected)
        }
    }

    @Test("a command whose keys span slots fails before anything is sent")
    func crossSlot() async throws {
        try await withRedisCluster { cluster in
            let client = try cluster.clusterClient()
            #expect(HashSlot(key: "a") != HashSlot(key: "b"))
            let spanning = [
                (RedisCommand("DEL", "a", "b"), "DEL"),
                (RedisCommand("MSET", "a", "1", "b", "2"), "MSET"),
                (RedisCommand("EVAL", "return 1", 2, "a", "b"), "EVAL"),
                (RedisCommand("XREADGROUP", "GROUP", "g", "c", "COUNT", 1, "STREAMS", "a", "b", ">", ">"), "XREADGROUP"),
                (RedisCommand("XREAD", "BLOCK", 0, "STREAMS", "a", "b", "$", "$"), "XREAD"),
            ]
            for (command, name) in spanning {
                let error = await #expect(throws: RedisError.self) { try await client.execute(command) }
                #expect(error?.code == .crossSlot)
                #expect(error?.message.hasPrefix("CROSSSLOT the keys of \(name) hash to different slots") == true)
            }
            let error = await #expect(throws: RedisError.self) {
                try await client.pipeline([RedisCommand("SET", "sent-first", 1), RedisCommand("DEL", "a", "b")])
            }
            #expect(error?.code == .crossSlot)
            #expect(try await client.execute("GET", "sent-first") == .null)
            for port in cluster.masterPorts {
                let node = cluster.client(port: port)
                for command in ["del", "mset", "eval", "xreadgroup", "xread", "set"] {
                    #expect(try await commandStat(node, command, "calls") == 0, "\(command) reached \(port)")
                    #expect(try await commandStat(node, command, "rejected_calls") == 0, "\(command) reached \(port)")
                }
            }
            // One hash tag puts the keys in one slot.
            #expect(try await client.execute("MSET", "{t}a", "1", "{t}b", "2") == .status("OK"))
            #expect(try await client.execute("DEL", "{t}a", "{t}b") == .integer(2))
            let transaction = await #expect(throws: RedisError.self) { try await client.execute("MULTI") }
            #expect(transaction?.code == .cluster)
        }
    }

    @Test("a blocking read on a dedicated client holds up no other caller")
    func dedicatedClient() async throws {
        try await withRedisCluster { cluster in
            let client = try cluster.clusterClient()
            let stream = "{jobs}.stream"
            let owners = try await cluster.slotOwners(askingPort: cluster.masterPorts[0])
            let reader = try await client.dedicatedClient(forKey: stream)
            #expect(reader.configuration.port == owners[HashSlot(key: stream).number])
            try await client.execute("XADD", stream, "*", "n", 0)
            async let read = reader.execute(RedisCommand("XREAD", "BLOCK", 10_000, "STREAMS", stream, "$"), timeout: .seconds(15))
            try await Task.sleep(for: .milliseconds(300))
            let clock = ContinuousClock()
            let elapsed = try await clock.measure {
                for index in 0..<100 { try await client.execute("SET", "{jobs}.other", index) }
            }
            // Held up by the read, they would take its 10 s; on a loaded machine 100 round trips take up to a few.
            #expect(elapsed < .seconds(5))
            try await client.execute("XADD", stream, "*", "n", 1)
            let entries = try await read.array?.first?.array?[1].array ?? []
            #expect(entries.count == 1)
            #expect(entries.first?.array?[1].array?.compactMap(\.string) == ["n", "1"])
        }
    }
}
