import Redis
import RedisTestSupport
@testable import SignalBus
import Testing

/// Each path of the commit script (`Lua/commit.lua`) on its own, against a real server: an entry made pending
/// for the group, a context as receivers leave it, the script called directly.
@Suite("The commit script, path by path")
struct CommitScriptTests {
    let topic = Topic.signal("commit.path")
    let output = Topic.signal("commit.out")

    /// Stores an entry and delivers it to group `g` (so it is pending), returning it as a message.
    func pendingMessage(_ client: RedisClient, id: String) async throws -> Message {
        _ = try? await client.execute("XGROUP", "CREATE", topic.key, "g", "0", "MKSTREAM")
        try await client.execute("XADD", topic.key, "*", "id", id, "signal", topic.name, "at_ms", "5000", "cause", "", "trace", id)
        let reply = try await client.execute("XREADGROUP", "GROUP", "g", "c", "COUNT", 1, "STREAMS", topic.key, ">")
        let entry = try #require(reply.array?.first?.array?.last?.array?.first?.array)
        return try #require(Message(topic: topic, entryID: entry[0].string ?? "", fields: entry[1].fieldMap))
    }

    /// A context that read `h.f` as loaded from Redis now and asked to bump a counter and emit one message.
    func context(_ client: RedisClient, _ message: Message, counter: String = "counter") async throws -> ReceiverContext {
        let loaded = try await client.execute("HGETALL", "h").fieldMap
        let context = ReceiverContext(message: message, group: "g") { key in key == "h" ? loaded.map { ($0.key, $0.value) } : [] }
        context.receiver = "r"
        _ = try context.hash("h")["f"]
        context.write(.hashIncrement(key: counter, field: "n", amount: 1))
        context.emit(output, [("n", "1")])
        return context
    }

    func commit(_ client: RedisClient, _ contexts: [ReceiverContext]) async throws -> [CommitScript.Result] {
        let parts = try contexts.map { context -> CommitPart in
            let plan = try CommitPlan.make(
                context, deliveries: 1, trace: nil, traceIndexKey: nil, traced: false, clearError: nil,
                configuration: BusConfiguration(), cluster: false
            )
            guard case .whole(let part) = plan else { throw TestServerError(message: "a split plan on one server") }
            return part
        }
        let reply = try await client.execute(CommitScript.command(parts, group: "g", configuration: BusConfiguration()))
        return try CommitScript.results(reply, count: parts.count)
    }

    @Test("applied: the writes and the emission land and the entry is acknowledged, in one call")
    func applied() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let message = try await pendingMessage(client, id: "m1")
            #expect(try await commit(client, [try await context(client, message)]) == [.committed])
            #expect(try await hashFields(client, "counter") == ["n": "1"])
            #expect(try await streamEntries(client, output.key).map { $0.map["cause"] } == ["m1"])
            #expect(try await pendingCount(client, topic.key, "g") == 0)
        }
    }

    @Test("already acknowledged: nothing is applied")
    func alreadyAcknowledged() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let message = try await pendingMessage(client, id: "m1")
            try await client.execute("XACK", topic.key, "g", message.entryID)
            #expect(try await commit(client, [try await context(client, message)]) == [.acknowledged])
            #expect(try await client.execute("EXISTS", "counter", output.key).int == 0)
        }
    }

    @Test("read-set conflict: nothing is written and the entry stays pending")
    func conflict() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("HSET", "h", "f", "1")
            let message = try await pendingMessage(client, id: "m1")
            let prepared = try await context(client, message)
            try await client.execute("HSET", "h", "f", "2")
            #expect(try await commit(client, [prepared]) == [.conflict(key: "h", field: "f")])
            #expect(try await client.execute("EXISTS", "counter", output.key).int == 0)
            #expect(try await pendingCount(client, topic.key, "g") == 1)
        }
    }

    @Test("a write Redis refuses: the entry goes to its dead letters with the error, acknowledged")
    func refusedWrite() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("SET", "counter", "not a hash")
            let message = try await pendingMessage(client, id: "m1")
            let results = try await commit(client, [try await context(client, message)])
            guard case .failed(let reason) = results.first else {
                Issue.record("expected a refused write, got \(results)")
                return
            }
            #expect(reason.contains("WRONGTYPE"))
            let dead = try #require(try await streamEntries(client, "dead:\(topic.key)").first).map
            #expect(dead["id"] == "m1" && dead["dead.group"] == "g" && dead["dead.entry"] == message.entryID && dead["dead.deliveries"] == "1")
            #expect(dead["dead.error"]?.contains("WRONGTYPE") == true)
            #expect(try await pendingCount(client, topic.key, "g") == 0)
            #expect(try await client.execute("EXISTS", output.key).int == 0, "nothing after the refused write")
        }
    }

    @Test("several messages in one call: each one's outcome is its own")
    func independentParts() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let first = try await pendingMessage(client, id: "m1")
            let second = try await pendingMessage(client, id: "m2")
            let third = try await pendingMessage(client, id: "m3")
            let contexts = [
                try await context(client, first, counter: "c1"), try await context(client, second, counter: "c2"),
                try await context(client, third, counter: "c3"),
            ]
            try await client.execute("XACK", topic.key, "g", second.entryID)
            #expect(try await commit(client, contexts) == [.committed, .acknowledged, .committed])
            #expect(try await client.execute("EXISTS", "c1", "c2", "c3").int == 2)
            #expect(try await client.execute("EXISTS", "c2").int == 0)
            #expect(try await pendingCount(client, topic.key, "g") == 0)
            #expect(try await streamEntries(client, output.key).map { $0.map["cause"] } == ["m1", "m3"])
        }
    }
}
