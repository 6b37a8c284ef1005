import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
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

    @Test("with Redis down the gateway answers 503 to every webhook and /ready says so; once Redis is back it stores again")
    func redisDown() async throws {
        try await Stack.with { stack in
            stack.redis.kill()
            let now = Int64(Date().timeIntervalSince1970)
            let body = Stack.body("channel_occupied", goal: "g", atSeconds: now)
            let answer = try await stack.post(body)
            #expect(answer.0 == 503)
            // Webhooks arriving together while Redis is down: each one is refused, none is left waiting.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { tasks in
                for n in 0..<12 {
                    tasks.addTask { try await stack.post(Stack.body("channel_occupied", goal: "g\(n)", atSeconds: now)).0 }
                }
                return try await tasks.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == [Int](repeating: 503, count: 12))
            #expect(try await stack.get("/ready").0 == 503)
            #expect(try await stack.get("/health").0 == 200)

            try await stack.restartRedis()
            try await stack.postUntilAccepted(body)
            #expect(try await stack.client().execute("XLEN", "signal:channel_occupied").int == 1)
        }
    }

    @Test("concurrent webhooks are stored together: fewer publish script calls than webhooks, each event once, retries racing their originals recognised")
    func coalesced() async throws {
        try await Stack.with { stack in
            let redis = stack.client()
            let now = Int64(Date().timeIntervalSince1970)
            let webhooks = 60
            let bodies = (0..<webhooks).map { n in
                let channel = "presence-enc-goal@c\(n)"
                let events = #"{"name":"channel_occupied","channel":"\#(channel)"},{"name":"member_added","channel":"\#(channel)","user_id":"u\#(n)"}"#
                return Array(#"{"time_ms":\#(now * 1000),"events":[\#(events)]}"#.utf8)
            }
            // Every fifth webhook is sent twice at once, as a Pusher retry racing its original.
            let sent = bodies + stride(from: 0, to: webhooks, by: 5).map { bodies[$0] }
            // A connection per webhook, as many Pusher deliveries at once.
            let configuration = URLSessionConfiguration.ephemeral
            configuration.httpMaximumConnectionsPerHost = sent.count
            let session = URLSession(configuration: configuration)
            defer { session.finishTasksAndInvalidate() }
            // Writes held for a second, so that webhooks pile up behind the first store.
            try await redis.execute("CLIENT", "PAUSE", "1000", "WRITE")
            let answers = try await withThrowingTaskGroup(of: (Int, String).self) { tasks in
                for body in sent {
                    tasks.addTask { try await stack.post(body, session: session) }
                }
                return try await tasks.reduce(into: [(Int, String)]()) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.0 == 200 }, "\(answers.filter { $0.0 != 200 })")
            func total(_ field: String) -> Int {
                answers.reduce(0) { sum, answer in
                    let digits = answer.1.split(separator: "\"\(field)\":").last?.prefix { $0.isNumber } ?? ""
                    return sum + (Int(digits) ?? 0)
                }
            }
            #expect(total("accepted") == 2 * webhooks)
            #expect(total("ignored") == 2 * (sent.count - webhooks))

            for stream in ["signal:channel_occupied", "signal:member_added"] {
                let ids = try await streamEntries(redis, stream).compactMap { $0.map["id"] }
                #expect(ids.count == webhooks, "\(stream)")
                #expect(Set(ids).count == webhooks, "\(stream)")
            }
            let channels = try await streamEntries(redis, "signal:member_added").compactMap { $0.map["channel"] }
            #expect(Set(channels) == Set((0..<webhooks).map { "presence-enc-goal@c\($0)" }))

            let metrics = try await stack.get("/metrics").1
            func sample(_ name: String) -> Double? {
                metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
            }
            let calls = try #require(sample("gateway_publish_batch_messages_count"))
            let messages = try #require(sample("gateway_publish_batch_messages_sum"))
            #expect(messages == Double(2 * sent.count))
            #expect(calls < Double(sent.count) / 4, "\(sent.count) webhooks took \(calls) script calls")
        }
    }
}
