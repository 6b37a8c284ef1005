import Redis
import RedisTestSupport
import Testing

@Suite("Replies")
struct RedisReplyTests {
    @Test("every reply type is copied into its Swift value")
    func everyReplyType() async throws {
        try await withRedisServer { server in
            let client = server.client()
            #expect(try await client.execute("SET", "k", "v") == .status("OK"))
            #expect(try await client.execute("GET", "k") == .bulk(Array("v".utf8)))
            #expect(try await client.execute("INCRBY", "n", 41) == .integer(41))
            #expect(try await client.execute("GET", "missing") == .null)
            try await client.execute("RPUSH", "list", "a", "b")
            #expect(try await client.execute("LRANGE", "list", 0, -1) == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8))]))
            #expect(try await client.execute("EVAL", "return {1, 'x', false}", 0) == .array([.integer(1), .bulk(Array("x".utf8)), .null]))
            let replies = try await client.pipeline([RedisCommand("HSET", "k", "f", "v")])
            #expect(replies.first?.errorMessage?.hasPrefix("WRONGTYPE") == true)
        }
    }

    @Test("an error reply surfaces the server's own text")
    func errorReplyText() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let error = await #expect(throws: RedisError.self) { try await client.execute("NOSUCHCOMMAND", "x") }
            #expect(error?.code == .server)
            #expect(error?.message.hasPrefix("ERR unknown command 'NOSUCHCOMMAND'") == true)
            // The connection stays usable after an error reply.
            let pong = try await client.execute("PING")
            #expect(pong == .status("PONG"))
        }
    }

    @Test("values with NUL bytes and of 1 MiB round-trip unchanged")
    func binarySafe() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let withNul: [UInt8] = [0x61, 0x00, 0x62, 0x00, 0xff, 0x0d, 0x0a]
            try await client.execute("SET", withNul, withNul)
            #expect(try await client.execute("GET", withNul) == .bulk(withNul))
            let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try await client.execute("SET", "big", big)
            #expect(try await client.execute("STRLEN", "big") == .integer(1 << 20))
            #expect(try await client.execute("GET", "big") == .bulk(big))
        }
    }

    @Test("10,000 pipelined commands are answered in order")
    func pipelineOrder() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let commands = (0..<10_000).map { RedisCommand("INCRBY", "counter", $0) }
            let replies = try await client.pipeline(commands)
            #expect(replies.count == 10_000)
            var expected = 0
            for (index, reply) in replies.enumerated() {
                expected += index
                #expect(reply == .integer(expected))
                if reply != .integer(expected) { break }
            }
        }
    }
}
