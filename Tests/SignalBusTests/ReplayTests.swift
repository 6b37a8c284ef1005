import Redis
import RedisTestSupport
import SignalBus
import Synchronization
import Testing

@Suite("Dead-letter replay reaches the group that dead-lettered the message, and no other")
struct ReplayTests {
    @Test("a replayed dead letter is handled again by its own group only; replaying it twice finds nothing the second time")
    func replayToOneGroup() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let topic = Topic.signal("bus.replay")
            let healed = Atomic<Bool>(false)
            let picky = ReceiverGroup(name: "picky", receivers: [
                Receiver("take", on: [topic], guard: { _ in
                    guard healed.load(ordering: .acquiring) else { throw PoisonError(description: "not yet") }
                    return nil
                }, effect: { context in
                    context.write(.hashIncrement(key: "count:picky", field: context.message.id, amount: 1))
                }),
            ])
            let configuration = fastConfiguration(claimIdle: .milliseconds(150), maxDeliveries: 2)
            try await withConsumers([consumer(picky, on: server, configuration: configuration), consumer(countingGroup("other", on: topic), on: server)]) {
                _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish(messages(topic, 0..<1, prefix: "r"))
                try await eventually("the dead letter") { try await client.execute("XLEN", "dead:\(topic.key)").int == 1 }
                try await waitSettled(client, [(topic.key, "picky"), (topic.key, "other")])
                #expect(try await hashFields(client, "count:other") == ["r0": "1"])

                healed.store(true, ordering: .releasing)
                let replayed = try await DeadLetters(redis: client).replay(stream: topic.key, entryID: nil)
                #expect(replayed == 1)
                #expect(try await DeadLetters(redis: client).replay(stream: topic.key, entryID: nil) == 0, "a replay moves the dead letter")
                try await eventually("the replay to be handled") { try await hashFields(client, "count:picky") == ["r0": "1"] }
                try await waitSettled(client, [(topic.key, "picky"), (topic.key, "other")])
            }
            #expect(try await hashFields(client, "count:other") == ["r0": "1"], "the other group did not handle the replay")
            #expect(try await client.execute("XLEN", "dead:\(topic.key)").int == 0)
            let entries = try await streamEntries(client, topic.key)
            #expect(entries.count == 2)
            #expect(entries.last?.map["replay.group"] == "picky")
            #expect(entries.last?.map["id"] == "r0")
            #expect(try await pendingCount(client, topic.key, "other") == 0)
        }
    }
}
