import Redis
import RedisTestSupport
import Testing

@Suite("Scripts")
struct RedisScriptTests {
    static let maxScript = RedisScript("""
        local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
        local candidate = tonumber(ARGV[2])
        if candidate > current then redis.call('HSET', KEYS[1], ARGV[1], candidate) return candidate end
        return current
        """)

    @Test("the SHA is the one Redis computes")
    func shaMatchesServer() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let loaded = try await client.execute("SCRIPT", "LOAD", Self.maxScript.source)
            #expect(loaded.string == Self.maxScript.sha1)
        }
    }

    @Test("a script still runs after SCRIPT FLUSH, alone and in a pipeline")
    func survivesScriptFlush() async throws {
        try await withRedisServer { server in
            let client = server.client()
            #expect(try await client.run(Self.maxScript, keys: ["h"], arguments: ["f", 5]) == .integer(5))
            try await client.execute("SCRIPT", "FLUSH")
            #expect(try await client.run(Self.maxScript, keys: ["h"], arguments: ["f", 3]) == .integer(5))
            try await client.execute("SCRIPT", "FLUSH")
            let replies = try await client.pipeline([
                Self.maxScript.evalSHA(keys: ["h"], arguments: ["f", 9]),
                RedisCommand("HGET", "h", "f"),
            ])
            #expect(replies[0] == .integer(9))
            #expect(try await client.execute("HGET", "h", "f") == .bulk(Array("9".utf8)))
        }
    }
}
