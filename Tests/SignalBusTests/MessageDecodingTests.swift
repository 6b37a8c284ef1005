import Redis
import RedisTestSupport
import SignalBus
import Testing

/// Stream entries decoded in place, straight from a read's reply into messages, against a real redis-server.
@Suite("Messages decoded in place from a stream read")
struct MessageDecodingTests {
    let topic = Topic.signal("goal.progressed")

    @Test("an entry decodes in place to the same message as from its fields")
    func sameAsFromFields() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let fields = [
                "id", "m1", "signal", "goal.progressed", "at_ms", "1732600000123", "cause", "c0", "trace", "t0",
                "traced", "1", "replay.group", "goals", "goal_id", "g1", "context.started", "x\u{0}y", "note", "é",
            ]
            let entryID = try #require(try await client.execute(RedisCommand("XADD", arguments: [topic.key, "*"] + fields)).string)
            try await client.execute("XADD", topic.key, "*", "id", "m2", "signal", "goal.progressed", "at_ms", "5", "goal_id", "g2")
            try await client.execute("XADD", topic.key, "*", "id", "", "at_ms", "5")
            try await client.execute("XADD", topic.key, "*", "id", "m4", "at_ms", "soon")
            let core = StreamConsumerCore(settings: StreamConsumerSettings(group: "g", consumer: "me", streams: [topic.key], errorsKey: "errors:g"))
            try core.groupsCreated(await client.pipeline(core.createGroupCommands()))

            let decoded = try await client.withConnection { connection in
                try connection.send(core.readCommand, timeout: core.readTimeout) { reply throws(RedisError) in
                    var messages: [Message?] = []
                    var entries: [DeliveredEntry] = []
                    try core.forEachStream(read: reply) { stream, read in
                        for index in 0..<read.count {
                            let entry = read[index]
                            let id = entry[0].string ?? ""
                            messages.append(Message(topic: topic, entryID: id, fields: entry[1]))
                            entries.append(DeliveredEntry(stream: stream, id: id, fields: entry[1].fieldMap, deliveries: 1))
                        }
                    }
                    return (messages, entries)
                }
            }
            let (messages, entries) = decoded
            #expect(entries.count == 4)
            #expect(messages.count == 4)
            for (message, entry) in zip(messages, entries) {
                #expect(message == Message(topic: topic, entryID: entry.id, fields: entry.fields))
            }
            #expect(messages[0] == Message(
                topic: topic, entryID: entryID, id: "m1", atMs: 1_732_600_000_123, cause: "c0", trace: "t0",
                payload: ["goal_id": "g1", "context.started": "x\u{0}y", "note": "é"], traced: true, replayGroup: "goals"
            ))
            #expect(messages[1]?.trace == "m2")
            #expect(messages[1]?.cause == "")
            #expect(messages[1]?.traced == false)
            #expect(messages[1]?.payload == ["goal_id": "g2"])
            #expect(messages[2] == nil)
            #expect(messages[3] == nil)
        }
    }

    @Test("an error reply to the read is thrown, not decoded")
    func errorReply() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let core = StreamConsumerCore(settings: StreamConsumerSettings(group: "g", consumer: "me", streams: [topic.key], errorsKey: "errors:g"))
            let error = await client.withConnection { connection -> RedisError? in
                do throws(RedisError) {
                    _ = try connection.send(core.readCommand, timeout: core.readTimeout) { reply throws(RedisError) in
                        try core.forEachStream(read: reply) { _, _ in }
                    }
                    return nil
                } catch {
                    return error
                }
            }
            #expect(error?.message.hasPrefix("NOGROUP") == true)
        }
    }
}
