import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("Batch commits on one server")
struct BatchCommitTests {
    @Test("a batch of 20 messages is committed with one script call, each acknowledged by its own commit, no marker")
    func oneScriptPerBatch() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let topic = Topic.signal("batch.one")
            let group = ReceiverGroup(name: "batcher", receivers: [
                Receiver("count", on: [topic], guard: { _ in nil }, effect: { context in
                    context.write(.hashIncrement(key: "batch:counts", field: context.message.topic.name, amount: 1))
                }),
            ])
            var quiet = fastConfiguration()
            quiet.recoveryInterval = .seconds(3600)
            try await withConsumers([consumer(group, on: server, name: "batcher-1", configuration: quiet)]) {
                // Counted from after the consumer's first recovery pass (heartbeat, trim), all 20 published in
                // one script call so that the consumer's first read takes them all (a read blocked on several
                // streams is woken with the entries of one).
                try await eventually("the consumer to start") { try await client.execute("EXISTS", "heartbeat:batcher:batcher-1").int == 1 }
                // The heartbeat opens the recovery pass; the rest of it (trims) is done well within this.
                try await Task.sleep(for: .milliseconds(300))
                try await client.execute("CONFIG", "RESETSTAT")
                _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish((0..<20).map { index in
                    OutgoingMessage(topic: topic, id: "m\(index)", atMs: 1_000 + Int64(index), payload: [])
                })
                try await eventually("all 20 to be acknowledged") { try await isSettled(client, [(topic.key, "batcher")]) }
                #expect(try await scriptCalls(client) == 2, "the publish and one commit")
                #expect(try await commandStat(client, "xack", "calls") == 20, "each commit acknowledges its entry")
                #expect(try await commandStat(client, "set", "calls") == 0, "no marker per message")
            }
            #expect(try await client.execute("HGETALL", "batch:counts").fieldMap == ["batch.one": "20"])
        }
    }

    @Test("messages whose receivers all return, in chains not traced, cost one XACK per stream and no script")
    func returnedOnly() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let (first, second) = (Topic.signal("batch.one"), Topic.signal("batch.two"))
            let group = ReceiverGroup(name: "batcher", receivers: [
                Receiver("skip", on: [first, second], guard: { context in
                    _ = try context.hash("batch:config")["mode"]
                    return "nothing to do"
                }),
            ])
            var untraced = fastConfiguration()
            untraced.traceSample = 0
            untraced.recoveryInterval = .seconds(3600)
            try await withConsumers([consumer(group, on: server, name: "batcher-1", configuration: untraced)]) {
                try await eventually("the consumer to start") { try await client.execute("EXISTS", "heartbeat:batcher:batcher-1").int == 1 }
                // The heartbeat opens the recovery pass; the rest of it (trims) is done well within this.
                try await Task.sleep(for: .milliseconds(300))
                try await client.execute("CONFIG", "RESETSTAT")
                _ = try await Publisher(redis: client, configuration: untraced).publish((0..<20).map { index in
                    OutgoingMessage(topic: index % 2 == 0 ? first : second, id: "m\(index)", atMs: 1_000 + Int64(index), payload: [])
                })
                try await eventually("all 20 to be acknowledged") {
                    try await isSettled(client, [(first.key, "batcher"), (second.key, "batcher")])
                }
                #expect(try await scriptCalls(client) == 1, "the publish only")
                #expect(try await commandStat(client, "xack", "calls") == 2)
            }
            #expect(try await allKeys(client) == ["signal:batch.one", "signal:batch.two"])
        }
    }
}

/// Scripts run: `EVALSHA` calls less those answered `NOSCRIPT`, plus the `EVAL`s sent for those.
func scriptCalls(_ client: RedisClient) async throws -> Int {
    let calls = try await commandStat(client, "evalsha", "calls")
    let refused = try await commandStat(client, "evalsha", "failed_calls")
    return calls - refused + (try await commandStat(client, "eval", "calls"))
}
