import Foundation
import Redis
import RedisTestSupport
import Testing

@Suite("End to end: the gateway's answers", .serialized)
struct GatewayEdgeTests {
    /// Every key with its type and length, to show a refused request changed nothing.
    private func fingerprint(_ redis: RedisClient) async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for key in try await redis.execute("KEYS", "*").array?.compactMap(\.string) ?? [] {
            let type = try await redis.execute("TYPE", key).string ?? ""
            result[key] = type == "stream" ? try await redis.execute("XLEN", key).int ?? -1 : -2
        }
        return result
    }

    @Test("bad input is refused with the documented status and changes nothing")
    func refusals() async throws {
        try await Stack.with { stack in
            let redis = stack.client()
            let before = try await fingerprint(redis)
            let now = Int64(Date().timeIntervalSince1970)

            let notJSON = try await stack.post(Array("not json".utf8))
            #expect(notJSON.0 == 400)
            #expect(notJSON.1.contains(#""field":"body""#))

            let wrongType = try await stack.post(Array(#"{"time_ms":\#(now * 1000),"events":{}}"#.utf8))
            #expect(wrongType.0 == 400)
            #expect(wrongType.1.contains(#""field":"events""#))

            let stale = try await stack.post(Stack.body("channel_vacated", goal: "g", atSeconds: now - 3600))
            #expect(stale.0 == 400)
            #expect(stale.1.contains(#""field":"time_ms""#))

            let badSignature = try await stack.post(Stack.body("channel_vacated", goal: "g", atSeconds: now), signature: String(repeating: "0", count: 64))
            #expect(badSignature.0 == 401)
            let unsigned = try await stack.post(Stack.body("channel_vacated", goal: "g", atSeconds: now), signed: false)
            #expect(unsigned.0 == 401)

            let huge = Array(#"{"events":[],"pad":""#.utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20) + Array(#""}"#.utf8)
            let tooLarge = try await stack.post(huge)
            #expect(tooLarge.0 == 413)

            let unknown = try await stack.post(Array(#"{"time_ms":\#(now * 1000),"events":[{"name":"bogus*{x}","channel":"presence-enc-goal@g"},{"name":"channel_vacated","channel":"bad channel\n*"}]}"#.utf8))
            #expect(unknown.0 == 200)
            #expect(unknown.1 == #"{"accepted":0,"ignored":2}"#)

            #expect(try await fingerprint(redis) == before)
        }
    }

    @Test("a retried webhook is recognised and not republished; events for unknown goals change no goal")
    func retries() async throws {
        try await Stack.with { stack in
            let redis = stack.client()
            let body = Stack.body("channel_occupied", goal: "nobody", atSeconds: Int64(Date().timeIntervalSince1970))
            let first = try await stack.post(body)
            let retry = try await stack.post(body)
            #expect(first.1 == #"{"accepted":1,"ignored":0}"#)
            #expect(retry.1 == #"{"accepted":0,"ignored":1}"#)
            #expect(try await redis.execute("XLEN", "signal:channel_occupied").int == 1)
            try await stack.waitFor("tracking to record the event") { try await redis.execute("HGET", "tracking:counters", "channel_occupied").string == "1" }
            try await stack.waitFor("karaoke to handle the event") {
                let pending = try await redis.execute("XPENDING", "signal:channel_occupied", "karaoke").array?.first?.int
                let trace = try await redis.execute("EXISTS", "traces:{nobody}").int
                return pending == 0 && trace == 1
            }
            #expect(try await redis.execute("KEYS", "goal:*").array?.isEmpty == true)
        }
    }

    @Test("with Redis down the gateway answers 503 and /ready says so")
    func redisDown() async throws {
        try await Stack.with { stack in
            stack.redis.kill()
            let body = Stack.body("channel_occupied", goal: "g", atSeconds: Int64(Date().timeIntervalSince1970))
            let answer = try await stack.post(body)
            #expect(answer.0 == 503)
            #expect(try await stack.get("/ready").0 == 503)
            #expect(try await stack.get("/health").0 == 200)
        }
    }
}
