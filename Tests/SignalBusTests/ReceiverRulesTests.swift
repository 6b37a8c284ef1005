import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("Receivers: guards only read, a return may record through onReturn")
struct ReceiverRulesTests {
    let topic = Topic.signal("bus.rules")

    @Test("a guard that writes fails its message with an error naming the receiver, and nothing is written")
    func writingGuardRefused() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let group = ReceiverGroup(name: "rules", receivers: [
                Receiver("sneaky", on: [topic], guard: { context in
                    context.write(.hashSet(key: "sneaked", field: "f", value: "1"))
                    return "returning anyway"
                }),
            ])
            try await withConsumers([consumer(group, on: server, configuration: fastConfiguration(claimIdle: .milliseconds(100), maxDeliveries: 1))]) {
                _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish([OutgoingMessage(topic: topic, id: "m1", atMs: 1000, payload: [])])
                try await eventually("the message to be dead-lettered") { try await client.execute("XLEN", "dead:\(topic.key)").int == 1 }
            }
            #expect(try await client.execute("EXISTS", "sneaked").int == 0)
            let dead = try #require(try await streamEntries(client, "dead:\(topic.key)").first).map
            #expect(dead["dead.error"]?.contains("receiver sneaky: its guard asked for a write") == true, "\(dead)")
        }
    }

    @Test("onReturn records what a returning receiver must, with the reason its guard gave, traced as a return")
    func onReturnRecords() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let group = ReceiverGroup(name: "rules", receivers: [
                Receiver("watcher", on: [topic], guard: { _ in "nothing to do" }, effect: { context in
                    context.write(.hashSet(key: "acted", field: "f", value: "1"))
                }, onReturn: { context, reason in
                    context.write(.hashMax(key: "seen", field: "last", value: context.now))
                    context.write(.hashSet(key: "seen", field: "reason", value: reason))
                }),
            ])
            try await withConsumers([consumer(group, on: server)]) {
                _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish([OutgoingMessage(topic: topic, id: "m1", atMs: 7000, payload: [])])
                try await waitSettled(client, [(topic.key, "rules")])
            }
            #expect(try await hashFields(client, "seen") == ["last": "7", "reason": "nothing to do"])
            #expect(try await client.execute("EXISTS", "acted").int == 0)
            let records = try await traceRecords(client, "m1")
            #expect(records.map(\.acted) == [false])
            #expect(records.map(\.reason) == ["nothing to do"])
            #expect(records.map(\.writes) == [["max seen last 7", "HSET seen reason=nothing to do"]])
        }
    }
}
