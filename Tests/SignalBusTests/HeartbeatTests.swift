import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("Heartbeats: a stopped replica's entries are taken over in seconds, and it leaves the group")
struct HeartbeatTests {
    let topic = Topic.signal("bus.heartbeat")

    /// Heartbeats of 500 ms, and a claim idle time far beyond the test, so only the heartbeat can hand entries over.
    var configuration: BusConfiguration {
        var configuration = fastConfiguration(claimIdle: .seconds(120))
        configuration.heartbeat = .milliseconds(500)
        return configuration
    }

    @Test("entries pending with a consumer whose heartbeat is gone are handled by a live replica, which removes it")
    func stoppedConsumerTakenOver() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("XGROUP", "CREATE", topic.key, "beaters", "0", "MKSTREAM")
            _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish(messages(topic, 0..<3, prefix: "lost"))
            // A replica that read the entries and was killed before its first heartbeat.
            let read = try await client.execute("XREADGROUP", "GROUP", "beaters", "killed", "COUNT", 10, "STREAMS", topic.key, ">")
            #expect(read.array?.first?.array?.last?.array?.count == 3)
            let started = ContinuousClock.now
            try await withConsumers([consumer(countingGroup("beaters", on: topic), on: server, name: "live", configuration: configuration)]) {
                try await eventually("the stopped replica's entries to be handled", within: .seconds(10)) {
                    try await hashFields(client, "count:beaters") == ["lost0": "1", "lost1": "1", "lost2": "1"]
                }
                let consumers = try await client.execute("XINFO", "CONSUMERS", topic.key, "beaters").array?.compactMap { $0.pairs["name"]?.string }
                #expect(consumers == ["live"], "the stopped replica is gone from the group")
            }
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(try await pendingCount(client, topic.key, "beaters") == 0)
            let records = try await traceRecords(client, "lost1")
            #expect(records.map(\.receiver) == ["count"])
        }
    }

    @Test("a consumer whose heartbeat lives keeps its entries, and a clean stop leaves the group")
    func liveConsumerKept() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("XGROUP", "CREATE", topic.key, "beaters", "0", "MKSTREAM")
            _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish(messages(topic, 0..<1, prefix: "held"))
            _ = try await client.execute("XREADGROUP", "GROUP", "beaters", "busy", "COUNT", 10, "STREAMS", topic.key, ">")
            try await client.execute("SET", "heartbeat:beaters:busy", "1", "PX", "60000")
            try await withConsumers([consumer(countingGroup("beaters", on: topic), on: server, name: "live", configuration: configuration)]) {
                try await Task.sleep(for: .seconds(2))
                let pending = try await client.execute("XPENDING", topic.key, "beaters", "-", "+", 10, "busy").array ?? []
                #expect(pending.count == 1, "the busy replica still holds its entry")
                #expect(try await client.execute("EXISTS", "heartbeat:beaters:live").int == 1)
            }
            let consumers = try await client.execute("XINFO", "CONSUMERS", topic.key, "beaters").array?.compactMap { $0.pairs["name"]?.string }
            #expect(consumers == ["busy"], "the live replica left the group when it stopped")
            #expect(try await client.execute("EXISTS", "heartbeat:beaters:live").int == 0)
        }
    }
}
