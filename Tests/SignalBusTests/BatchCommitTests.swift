import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("Batch commits on one server")
struct BatchCommitTests {
    @Test("a batch of 20 messages on two streams is committed with one script call and one XACK per stream")
    func oneScriptPerBatch() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let (first, second) = (Topic.signal("batch.one"), Topic.signal("batch.two"))
            let group = ReceiverGroup(name: "batcher", receivers: [
                Receiver("count", on: [first, second], guard: { _ in nil }, effect: { context in
                    context.write(.hashIncrement(key: "batch:counts", field: context.message.topic.name, amount: 1))
                }),
            ])
            // Every message is stored before the consumer starts, so its first read takes all 20.
            _ = try await Publisher(redis: client).publish((0..<20).map { index in
                OutgoingMessage(topic: index % 2 == 0 ? first : second, id: "m\(index)", atMs: 1_000 + Int64(index), payload: [])
            })
            try await client.execute("CONFIG", "RESETSTAT")
            try await withConsumers([consumer(group, on: server)]) {
                try await eventually("all 20 to be acknowledged") {
                    try await isSettled(client, [(first.key, "batcher"), (second.key, "batcher")])
                }
            }
            #expect(try await client.execute("HGETALL", "batch:counts").fieldMap == ["batch.one": "10", "batch.two": "10"])
            #expect(try await commandStat(client, "evalsha", "calls") == 1)
            #expect(try await commandStat(client, "xack", "calls") == 2)
            #expect(try await commandStat(client, "set", "calls") == 20, "one done marker per message")
        }
    }
}
