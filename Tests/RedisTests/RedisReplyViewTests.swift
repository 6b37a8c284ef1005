import Redis
import RedisTestSupport
import Testing

@Suite("Replies decoded in place")
struct RedisReplyViewTests {
    @Test("every reply type reads in place as the value it is copied into")
    func everyReplyType() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("RPUSH", "list", "a", "b")
            try await client.execute("HSET", "hash", "f1", "v1", "f2", "v2")
            let commands = [
                RedisCommand("SET", "k", "v"), RedisCommand("GET", "k"), RedisCommand("INCRBY", "n", 41),
                RedisCommand("GET", "missing"), RedisCommand("LRANGE", "list", 0, -1), RedisCommand("NOSUCHCOMMAND"),
            ]
            let decoded = try await client.withConnection { connection in
                try connection.send(commands) { reply throws(RedisError) in
                    Decoded(kind: reply.kind, string: reply.string, int: reply.int, error: reply.errorMessage, count: reply.count, value: reply.value)
                }
            }
            #expect(decoded[0] == Decoded(kind: .status, string: "OK", int: nil, error: nil, count: 0, value: .status("OK")))
            #expect(decoded[1] == Decoded(kind: .bulk, string: "v", int: nil, error: nil, count: 0, value: .bulk(Array("v".utf8))))
            #expect(decoded[2] == Decoded(kind: .integer, string: "41", int: 41, error: nil, count: 0, value: .integer(41)))
            #expect(decoded[3] == Decoded(kind: .null, string: nil, int: nil, error: nil, count: 0, value: .null))
            #expect(decoded[4] == Decoded(
                kind: .array, string: nil, int: nil, error: nil, count: 2, value: .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8))])
            ))
            #expect(decoded[5].kind == .error)
            #expect(decoded[5].error?.hasPrefix("ERR unknown command") == true)
            let fields = try await client.withConnection { connection in
                try connection.send(RedisCommand("HGETALL", "hash")) { reply throws(RedisError) in reply.fieldMap }
            }
            #expect(fields == ["f1": "v1", "f2": "v2"])
        }
    }

    @Test("bulk strings with NUL and invalid UTF-8 bytes, and of 1 MiB, read back byte for byte")
    func binarySafe() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let withNul: [UInt8] = [0x61, 0x00, 0x62, 0x00, 0xff, 0x0d, 0x0a]
            let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try await client.execute("SET", "nul", withNul)
            try await client.execute("SET", "big", big)
            try await client.execute("HSET", "h", withNul, "x")
            let (bytes, map) = try await client.withConnection { connection in
                let bytes = try connection.send([RedisCommand("GET", "nul"), RedisCommand("GET", "big"), RedisCommand("GET", "missing")]) {
                    reply throws(RedisError) in reply.withBytes { Array($0) }
                }
                return (bytes, try connection.send(RedisCommand("HGETALL", "h")) { reply throws(RedisError) in reply.fieldMap })
            }
            #expect(bytes[0] == withNul)
            #expect(bytes[1] == big)
            #expect(bytes[2] == nil)
            // Text repairs invalid bytes as RedisValue.string does.
            #expect(map == [String(decoding: withNul, as: UTF8.self): "x"])
        }
    }

    @Test("nil elements of arrays read as null")
    func nilElements() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("HSET", "h", "present", "1")
            let decoded = try await client.withConnection { connection in
                try connection.send([RedisCommand("HMGET", "h", "present", "absent"), RedisCommand("EVAL", "return {1, false, 'x'}", 0)]) {
                    reply throws(RedisError) in (0..<reply.count).map { reply[$0].isNull ? nil : reply[$0].string }
                }
            }
            #expect(decoded[0] == ["1", nil])
            #expect(decoded[1] == ["1", nil, "x"])
        }
    }

    @Test("an error inside an array reads as an error element, the others as values")
    func errorsInsideArrays() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let commands = [RedisCommand("MULTI"), RedisCommand("SET", "s", "text"), RedisCommand("INCR", "s"), RedisCommand("EXEC")]
            let exec = try await client.withConnection { connection in
                try connection.send(commands) { reply throws(RedisError) in
                    (0..<reply.count).map { (reply[$0].kind, reply[$0].string, reply[$0].errorMessage, reply[$0].isError(startingWith: "ERR")) }
                }
            }[3]
            #expect(exec.count == 2)
            #expect(exec[0].0 == .status && exec[0].1 == "OK" && exec[0].2 == nil && !exec[0].3)
            #expect(exec[1].0 == .error && exec[1].1 == nil && exec[1].3)
            #expect(exec[1].2?.hasPrefix("ERR value is not an integer") == true)
        }
    }

    @Test("a decoder that throws mid-pipeline leaves the connection in step with the server")
    func throwingDecoder() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("SET", "a", "1")
            let outcome = await client.withConnection { connection -> String in
                do throws(RedisError) {
                    _ = try connection.send([RedisCommand("GET", "a"), RedisCommand("PING"), RedisCommand("GET", "a")]) {
                        reply throws(RedisError) in
                        if reply.kind == .status { throw RedisError(code: .protocolError, message: "refused") }
                        return reply.string
                    }
                    return "no error"
                } catch {
                    return error.message
                }
            }
            #expect(outcome == "refused")
            // The next command gets its own reply, not one left over from the pipeline.
            #expect(try await client.execute("ECHO", "next") == .bulk(Array("next".utf8)))
        }
    }

    @Test("an EVALSHA of a script the server does not have is decoded from its EVAL")
    func scriptFallback() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let script = RedisScript("return {KEYS[1], ARGV[1]}")
            let decoded = try await client.withConnection { connection in
                try connection.send([script.evalSHA(keys: ["k"], arguments: ["v"]), RedisCommand("PING")]) { reply throws(RedisError) in
                    (0..<reply.count).compactMap { reply[$0].string } + (reply.string.map { [$0] } ?? [])
                }
            }
            #expect(decoded == [["k", "v"], ["PONG"]])
        }
    }
}

/// What a test reads of one reply.
private struct Decoded: Equatable, Sendable {
    var kind: RedisReplyView.Kind
    var string: String?
    var int: Int?
    var error: String?
    var count: Int
    var value: RedisValue
}
