import Logging
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("Tracing off")
struct TraceOffTests {
    @Test("with traceSeconds 0 a commit writes its effects but no trace and no trace index")
    func noTrace() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let topic = Topic.signal("trace.off")
            let group = ReceiverGroup(name: "quiet", receivers: [
                Receiver("writer", on: [topic], guard: { _ in nil }, effect: { context in
                    context.write(.hashSet(key: "h", field: "f", value: context.message["v"] ?? ""))
                }),
            ], traceIndexKey: { _ in "traces:quiet" })
            var configuration = BusConfiguration()
            configuration.traceSeconds = 0
            configuration.block = .milliseconds(50)
            let consumer = GroupConsumer(group: group, redis: .server(server.configuration), configuration: configuration, logger: Logger(label: "test"))
            _ = try await Publisher(redis: client).publish([OutgoingMessage(topic: topic, id: "m1", atMs: 1000, payload: [("v", "1")])])
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await consumer.run() }
                let deadline = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < deadline {
                    if try await isSettled(client, [(topic.key, "quiet")]) { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                tasks.cancelAll()
            }
            let value = try await client.execute("HGET", "h", "f")
            #expect(value.string == "1")
            let traces = try await client.execute("KEYS", "trace*").array ?? []
            #expect(traces.isEmpty)
            let done = try await client.execute("EXISTS", "done:quiet:m1")
            #expect(done.int == 1)
        }
    }
}
