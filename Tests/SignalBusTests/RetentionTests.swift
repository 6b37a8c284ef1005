import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("Retention: nothing trimmed unread, bus.stream.keep beyond that, the ledger whole")
struct RetentionTests {
    let topic = Topic.signal("bus.retention")

    /// A group appending each message to a ledger (never trimmed) and an outbox (a sink, trimmed).
    func bookkeeper(_ name: String) -> ReceiverGroup {
        ReceiverGroup(name: name, receivers: [
            Receiver("book", on: [topic], guard: { _ in nil }, effect: { context in
                context.write(.streamAppend(key: "ledger:\(name)", fields: ["id", context.message.id]))
                context.write(.streamAppend(key: "outbox:\(name)", fields: ["id", context.message.id]))
            }),
        ], sinks: ["outbox:\(name)"])
    }

    func configuration(keep: Int) -> BusConfiguration {
        var configuration = fastConfiguration()
        configuration.streamKeep = keep
        configuration.traceSample = 0
        return configuration
    }

    @Test("a stopped group loses nothing; once it caught up the stream is trimmed to bus.stream.keep; the ledger stays whole")
    func stoppedGroupLosesNothing() async throws {
        try await withRedisServer { server in
            let client = server.client()
            // Small stream nodes, so that approximate trimming is close to exact.
            try await client.execute("CONFIG", "SET", "stream-node-max-entries", "10")
            let bus = configuration(keep: 50)
            try await client.execute("XGROUP", "CREATE", topic.key, "slow", "0", "MKSTREAM")
            try await withConsumers([consumer(bookkeeper("fast"), on: server, configuration: bus)]) {
                _ = try await Publisher(redis: client, configuration: bus).publish(messages(topic, 0..<300))
                try await waitSettled(client, [(topic.key, "fast")])
                // Several trim passes go by while slow has read nothing.
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await integer(client, "XLEN", topic.key) == 300, "nothing trimmed that slow has not read")
                let outbox = try await integer(client, "XLEN", "outbox:fast") ?? 0
                #expect(outbox >= 50 && outbox <= 60, "a sink keeps bus.stream.keep: \(outbox)")
            }
            try await withConsumers([consumer(countingGroup("slow", on: topic), on: server, configuration: bus)]) {
                try await waitSettled(client, [(topic.key, "slow")])
                #expect(try await client.execute("HLEN", "count:slow").int == 300, "slow handled every message once it came back")
                try await eventually("the stream to be trimmed to bus.stream.keep") {
                    (try await integer(client, "XLEN", topic.key) ?? 0) <= 60
                }
            }
            #expect((try await integer(client, "XLEN", topic.key) ?? 0) >= 50)
            #expect(try await integer(client, "XLEN", "ledger:fast") == 300, "the ledger is never trimmed")
        }
    }

    @Test("a group that lags keeps every entry from its oldest unacknowledged one, pending or unread")
    func trimStopsAtTheOldestUnacknowledged() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("CONFIG", "SET", "stream-node-max-entries", "10")
            try await client.execute("XGROUP", "CREATE", "s", "laggard", "0", "MKSTREAM")
            for index in 0..<200 { try await client.execute("XADD", "s", "*", "n", String(index)) }
            // The laggard read 120 entries and acknowledged the first 100: 20 pending, 80 unread.
            let read = try await client.execute("XREADGROUP", "GROUP", "laggard", "c", "COUNT", 120, "STREAMS", "s", ">")
            let ids = read.array?.first?.array?.last?.array?.compactMap { $0.array?.first?.string } ?? []
            try await client.execute(RedisCommand("XACK", arguments: ["s", "laggard"] + Array(ids.prefix(100))))
            let trimmer = StreamTrimmer(streams: ["s"], keep: 30)
            try trimmer.record(await client.pipeline(trimmer.commands()))
            for index in 200..<300 { try await client.execute("XADD", "s", "*", "n", String(index)) }
            // A pass sees the growth, the next knows where the newest 30 begin: the cut is then the laggard's
            // oldest pending entry.
            try trimmer.record(await client.pipeline(trimmer.commands()))
            try trimmer.record(await client.pipeline(trimmer.commands()))
            let first = try await client.execute("XRANGE", "s", "-", "+", "COUNT", 1).array?.first?.array?[1].fieldMap["n"]
            let firstKept = Int(first ?? "") ?? -1
            #expect(firstKept <= 100 && firstKept >= 90, "entries below the oldest pending one may go, none from it: first kept n=\(firstKept)")
            // Caught up, the laggard leaves only the newest 30 (and a node's worth more) to keep.
            _ = try await client.execute("XREADGROUP", "GROUP", "laggard", "c", "STREAMS", "s", ">")
            try await client.execute(RedisCommand("XACK", arguments: ["s", "laggard"] + ids.suffix(20)))
            let rest = try await client.execute("XRANGE", "s", "(" + ids.last!, "+").array?.compactMap { $0.array?.first?.string } ?? []
            try await client.execute(RedisCommand("XACK", arguments: ["s", "laggard"] + rest))
            try trimmer.record(await client.pipeline(trimmer.commands()))
            let length = try await integer(client, "XLEN", "s") ?? 0
            #expect(length >= 30 && length <= 40, "\(length)")
        }
    }
}
