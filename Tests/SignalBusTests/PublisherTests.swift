import Foundation
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("Publisher")
struct PublisherTests {
    let topic = Topic.signal("bus.test")

    /// The pub/sub messages `redis-cli SUBSCRIBE` wrote so far, as (channel, decoded JSON object).
    func received(_ path: String) throws -> [(channel: String, message: [String: String])] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var result: [(String, [String: String])] = []
        var index = 0
        // Only complete lines: the last element is what follows the last newline.
        while index + 2 < lines.count - 1 {
            if lines[index] == "message" {
                let object = try JSONDecoder().decode([String: String].self, from: Data(lines[index + 2].utf8))
                result.append((lines[index + 1], object))
                index += 3
            } else {
                index += 1
            }
        }
        return result
    }

    @Test("each message is one XADD with the envelope then the payload in order, and one PUBLISH of the same fields as JSON")
    func streamAndPubSub() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let output = scratchFile("subscribe")
            defer { try? FileManager.default.removeItem(atPath: output) }
            let subscriber = try ChildProcess(
                executable: try redisCLI(), arguments: ["-p", String(server.port), "SUBSCRIBE", topic.key], logPath: output
            )
            defer { subscriber.killNow() }
            try await eventually("redis-cli to subscribe") {
                try await client.execute("PUBSUB", "NUMSUB", topic.key).array?.last?.int == 1
            }
            try await client.execute("CONFIG", "RESETSTAT")

            var untraced = BusConfiguration()
            untraced.traceSample = 0
            let publisher = Publisher(redis: client, configuration: untraced)
            let stored = try await publisher.publish([
                OutgoingMessage(topic: topic, id: "m1", atMs: 1_732_600_000_123, payload: [("goal_id", "g1"), ("amount", "5")]),
                OutgoingMessage(topic: topic, id: "m2", atMs: 1_732_600_001_000, payload: [("z", "last"), ("a", "")], cause: "m1", trace: "root"),
            ])
            #expect(stored == [true, true])
            let xadds = try await commandCalls(client, "xadd")
            let publishes = try await commandCalls(client, "publish")
            #expect(xadds == 2)
            #expect(publishes == 2)

            let entries = try await streamEntries(client, topic.key)
            #expect(entries.map(\.fields) == [
                ["id", "m1", "signal", "bus.test", "at_ms", "1732600000123", "cause", "", "trace", "m1", "goal_id", "g1", "amount", "5"],
                ["id", "m2", "signal", "bus.test", "at_ms", "1732600001000", "cause", "m1", "trace", "root", "z", "last", "a", ""],
            ])

            try await eventually("two pub/sub messages") { try received(output).count >= 2 }
            let messages = try received(output)
            #expect(messages.count == 2)
            #expect(messages.map(\.channel) == [topic.key, topic.key])
            #expect(messages.map(\.message) == entries.map(\.map))
        }
    }

    @Test("a dedup key makes a second publish return false and add nothing, to the stream or to pub/sub")
    func dedupKey() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let output = scratchFile("dedup")
            defer { try? FileManager.default.removeItem(atPath: output) }
            let subscriber = try ChildProcess(
                executable: try redisCLI(), arguments: ["-p", String(server.port), "SUBSCRIBE", topic.key], logPath: output
            )
            defer { subscriber.killNow() }
            try await eventually("redis-cli to subscribe") {
                try await client.execute("PUBSUB", "NUMSUB", topic.key).array?.last?.int == 1
            }

            let publisher = Publisher(redis: client, dedupSeconds: 600)
            let first = OutgoingMessage(topic: topic, id: "w1", atMs: 1_000, payload: [("channel", "c")], dedupKey: "dedup:webhook:abc")
            let firstStored = try await publisher.publish([first])
            #expect(firstStored == [true])
            let ttl = try await integer(client, "TTL", "dedup:webhook:abc")
            #expect(ttl.map { (1...600).contains($0) } == true)

            try await client.execute("CONFIG", "RESETSTAT")
            // The identical retry, and a retry under a new envelope id but the same dedup key.
            let retry = try await publisher.publish([first])
            #expect(retry == [false])
            var renamed = first
            renamed.id = "w1-again"
            let mixed = try await publisher.publish([
                renamed,
                OutgoingMessage(topic: topic, id: "w2", atMs: 2_000, payload: [("channel", "d")], dedupKey: "dedup:webhook:def"),
            ])
            #expect(mixed == [false, true])
            let xadds = try await commandCalls(client, "xadd")
            let publishes = try await commandCalls(client, "publish")
            #expect(xadds == 1)
            #expect(publishes == 1)

            let ids = try await streamEntries(client, topic.key).map { $0.map["id"] }
            #expect(ids == ["w1", "w2"])
            try await eventually("the second pub/sub message") { try received(output).count >= 2 }
            let messages = try received(output)
            #expect(messages.map { $0.message["id"] } == ["w1", "w2"])
        }
    }

    @Test("an empty publish sends nothing")
    func emptyPublish() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let stored = try await Publisher(redis: client, configuration: tracedConfiguration).publish([])
            #expect(stored.isEmpty)
            let keys = try await client.execute("DBSIZE").int
            #expect(keys == 0)
        }
    }
}
