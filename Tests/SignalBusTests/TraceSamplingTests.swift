import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("Trace sampling: decided at the root, on demand per flagged hash, failures always")
struct TraceSamplingTests {
    let topic = Topic.signal("trace.sample")
    let work = Topic.task("trace.work")

    /// A group writing a hash and emitting one task, with `flag` as its trace flag hash.
    var group: ReceiverGroup {
        let work = work
        return ReceiverGroup(name: "quiet", receivers: [
            Receiver("writer", on: [topic], guard: { context in
                _ = try context.hash("flag")["anything"]
                return nil
            }, effect: { context in
                context.write(.hashSet(key: "h", field: "f", value: context.message["v"] ?? ""))
                context.emit(work, [("v", context.message["v"] ?? "")])
            }),
        ], traceIndexKey: { _ in "traces:quiet" }, traceFlagKey: { _ in "flag" })
    }

    func configuration(sample: Double) -> BusConfiguration {
        var configuration = fastConfiguration()
        configuration.traceSample = sample
        return configuration
    }

    @Test("a chain outside the sample writes its effects and no trace, no index, no envelope flag")
    func unsampled() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let bus = configuration(sample: 0)
            try await withConsumers([consumer(group, on: server, configuration: bus)]) {
                _ = try await Publisher(redis: client, configuration: bus).publish([OutgoingMessage(topic: topic, id: "m1", atMs: 1000, payload: [("v", "1")])])
                try await waitSettled(client, [(topic.key, "quiet")])
            }
            #expect(try await client.execute("HGET", "h", "f").string == "1")
            #expect(try await allKeys(client) == ["h", "signal:trace.sample", "task:trace.work"])
            let emitted = try await streamEntries(client, work.key)
            #expect(emitted.first?.map["traced"] == nil)
        }
    }

    @Test("a flagged hash traces the chain whatever the sample: the delivery is recorded and its emissions carry traced")
    func flaggedHash() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let bus = configuration(sample: 0)
            try await client.execute("HSET", "flag", "trace", "1")
            try await withConsumers([consumer(group, on: server, configuration: bus)]) {
                _ = try await Publisher(redis: client, configuration: bus).publish([OutgoingMessage(topic: topic, id: "m1", atMs: 1000, payload: [("v", "1")])])
                try await waitSettled(client, [(topic.key, "quiet")])
            }
            let records = try await traceRecords(client, "m1")
            #expect(records.map(\.receiver) == ["writer"])
            #expect(records.map(\.writes) == [["HSET h f=1"]])
            #expect(try await client.execute("ZRANGE", "traces:quiet", 0, -1).array?.compactMap(\.string) == ["m1"])
            let emitted = try await streamEntries(client, work.key)
            #expect(emitted.first?.map["traced"] == "1")
        }
    }

    @Test("a root whose flag hash asks for tracing is published with traced, read in the same script")
    func flaggedRoot() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await client.execute("HSET", "flag", "trace", "1")
            let publisher = Publisher(redis: client, configuration: configuration(sample: 0))
            _ = try await publisher.publish([
                OutgoingMessage(topic: topic, id: "m1", atMs: 1000, payload: [("v", "1")], traceFlagKey: "flag"),
                OutgoingMessage(topic: topic, id: "m2", atMs: 1000, payload: [("v", "2")], traceFlagKey: "no-flag"),
            ])
            let entries = try await streamEntries(client, topic.key)
            #expect(entries.map(\.fields) == [
                ["traced", "1", "id", "m1", "signal", "trace.sample", "at_ms", "1000", "cause", "", "trace", "m1", "v", "1"],
                ["id", "m2", "signal", "trace.sample", "at_ms", "1000", "cause", "", "trace", "m2", "v", "2"],
            ])
        }
    }

    @Test("the sample is a deterministic share of trace ids")
    func sampleShare() {
        let ids = (0..<20_000).map { MessageID.digest("event-\($0)") }
        #expect(ids.filter { TraceKeys.sampled($0, ratio: 0) }.isEmpty)
        #expect(ids.allSatisfy { TraceKeys.sampled($0, ratio: 1) })
        let share = Double(ids.filter { TraceKeys.sampled($0, ratio: 0.1) }.count) / Double(ids.count)
        #expect(share > 0.09 && share < 0.11, "\(share)")
        #expect(ids.map { TraceKeys.sampled($0, ratio: 0.1) } == ids.map { TraceKeys.sampled($0, ratio: 0.1) })
        // A chain sampled at 1 % is sampled at every larger ratio.
        #expect(ids.filter { TraceKeys.sampled($0, ratio: 0.01) }.allSatisfy { TraceKeys.sampled($0, ratio: 0.5) })
    }

    @Test("a delivery that fails is recorded with its error in a chain that is not traced, and indexed")
    func failureAlwaysRecorded() async throws {
        try await withRedisServer { server in
            let client = server.client()
            // Not claimed again within the test: the record stays the first failure's (a retry records its own
            // delivery, and the third dead-letters the message, which the whole suite on two cores once let
            // happen before the record was first read).
            var bus = fastConfiguration(claimIdle: .seconds(60))
            bus.traceSample = 0
            let failing = ReceiverGroup(name: "failing", receivers: [
                Receiver("thrower", on: [topic], guard: { _ in throw PoisonError(description: "no such thing") }),
            ], traceIndexKey: { _ in "traces:failing" })
            var records: [TraceRecord] = []
            try await withConsumers([consumer(failing, on: server, configuration: bus)]) {
                _ = try await Publisher(redis: client, configuration: bus).publish([OutgoingMessage(topic: topic, id: "m1", atMs: 1000, payload: [])])
                try await eventually("the failure to be recorded", within: .seconds(10)) {
                    records = (try? await traceRecords(client, "m1")) ?? []
                    return !records.isEmpty
                }
            }
            #expect(records.map(\.receiver) == ["-"])
            #expect(records.first?.error?.hasPrefix("no such thing (delivery ") == true, "\(records)")
            #expect(try await client.execute("ZRANGE", "traces:failing", 0, -1).array?.compactMap(\.string) == ["m1"])
        }
    }
}
