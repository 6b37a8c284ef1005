import Redis
import RedisTestSupport
import ServiceLifecycle
@testable import SignalBus
import Testing

@Suite("Publish queue")
struct PublishQueueTests {
    let topic = Topic.signal("bus.queue")

    /// Message `n` of the test, with a dedup key of its own: the same `n` twice is one message published twice.
    func message(_ n: Int) -> OutgoingMessage {
        OutgoingMessage(topic: topic, id: "m\(n)", atMs: 1_000 + Int64(n), payload: [("n", String(n))], dedupKey: "dedup:m\(n)")
    }

    var untraced: BusConfiguration {
        var configuration = BusConfiguration()
        configuration.traceSample = 0
        return configuration
    }

    /// The ids of the test stream's entries, in order.
    func storedIDs(_ client: RedisClient) async throws -> [String] {
        try await streamEntries(client, topic.key).compactMap { $0.map["id"] }
    }

    /// Runs `queue` in a service group while `body` runs, then shuts it down gracefully.
    func withQueue(_ queue: PublishQueue, _ body: () async throws -> Void) async throws {
        try await withGracefulService(queue, logger: testLogger, body)
    }

    @Test("callers arriving while a store is in flight share script calls: fewer EVALSHA than callers, each call within its bound, every message stored once")
    func coalesces() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let queue = try PublishQueue(redis: .server(server.configuration), configuration: untraced, maximumMessages: 64)
            try await withQueue(queue) {
                // The first call loads the script, so every later one is a plain EVALSHA.
                #expect(try await queue.publish([message(0)]) == [true])
                try await client.execute("CONFIG", "RESETSTAT")
                let before = queue.statistics
                // Writes are held: the first round trip waits, and the other callers queue behind it.
                try await client.execute("CLIENT", "PAUSE", "30000", "WRITE")
                let callers = 200
                let results = try await withThrowingTaskGroup(of: (Int, [Bool]).self) { tasks in
                    for caller in 1...callers {
                        tasks.addTask { (caller, try await queue.publish([message(2 * caller - 1), message(2 * caller)])) }
                    }
                    try await eventually("every caller to be in flight or queued") {
                        let now = queue.statistics
                        return now.roundTrips == before.roundTrips + 1 && (now.messages - before.messages) / 2 + now.waiting == callers
                    }
                    try await client.execute("CLIENT", "UNPAUSE")
                    return try await tasks.reduce(into: [Int: [Bool]]()) { $0[$1.0] = $1.1 }
                }
                #expect(results.count == callers)
                #expect(results.values.allSatisfy { $0 == [true, true] })

                let after = queue.statistics
                let evalsha = try await commandStat(client, "evalsha", "calls")
                // Those that came before the thread woke went in the first round trip, the others in the second.
                #expect((1...2).contains(after.roundTrips - before.roundTrips))
                #expect(evalsha == after.scriptCalls - before.scriptCalls)
                #expect(after.messages - before.messages == 2 * callers)
                // 64 messages at most per call, a caller's two never split: 400 messages in one or two round trips take 7 or 8 calls.
                #expect((7...8).contains(evalsha), "\(callers) callers took \(evalsha) script calls")

                let ids = try await storedIDs(client)
                #expect(ids.count == 2 * callers + 1)
                #expect(Set(ids) == Set((0...2 * callers).map { "m\($0)" }))
            }
        }
    }

    @Test("the same message from several callers of one round trip is stored once: the first caller's is stored, the others are retries")
    func duplicatesInOneRoundTrip() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let queue = try PublishQueue(redis: .server(server.configuration), configuration: untraced)
            try await withQueue(queue) {
                #expect(try await queue.publish([message(0)]) == [true])
                let before = queue.statistics
                try await client.execute("CLIENT", "PAUSE", "30000", "WRITE")
                let blocker = Task { try await queue.publish([message(9)]) }
                try await eventually("the first round trip to be in flight") { queue.statistics.roundTrips == before.roundTrips + 1 }
                // Queued one after the other behind it, so they go together in the next round trip, in this order.
                let first = Task { try await queue.publish([message(1), message(2)]) }
                try await eventually("the first caller to queue") { queue.statistics.waiting == 1 }
                let second = Task { try await queue.publish([message(2), message(3), message(3)]) }
                try await eventually("the second caller to queue") { queue.statistics.waiting == 2 }
                let third = Task { try await queue.publish([message(1)]) }
                try await eventually("the third caller to queue") { queue.statistics.waiting == 3 }
                try await client.execute("CLIENT", "UNPAUSE")

                #expect(try await blocker.value == [true])
                #expect(try await first.value == [true, true])
                #expect(try await second.value == [false, true, false])
                #expect(try await third.value == [false])
                let after = queue.statistics
                // Those that came before the thread woke went in the first round trip, the others in the second.
                #expect((1...2).contains(after.roundTrips - before.roundTrips))
                #expect(after.scriptCalls - before.scriptCalls == 2)
                #expect(try await storedIDs(client) == ["m0", "m9", "m1", "m2", "m3"])
            }
        }
    }

    @Test("with Redis unreachable every caller gets an error; once Redis is back the queue stores again")
    func unreachableThenBack() async throws {
        let server = try await RedisTestServer.start()
        let configuration = RedisConfiguration(host: "127.0.0.1", port: server.port, connectTimeout: .milliseconds(200), commandTimeout: .seconds(1))
        let queue = try PublishQueue(redis: .server(configuration), configuration: untraced)
        try await withQueue(queue) {
            #expect(try await queue.publish([message(0)]) == [true])
            await server.stop()

            let callers = 20
            let errors = await withTaskGroup(of: RedisError?.self) { tasks in
                for caller in 1...callers {
                    tasks.addTask {
                        do throws(RedisError) {
                            _ = try await queue.publish([message(caller)])
                            return nil
                        } catch {
                            return error
                        }
                    }
                }
                return await tasks.reduce(into: [RedisError?]()) { $0.append($1) }
            }
            #expect(errors.count == callers)
            #expect(errors.allSatisfy { $0?.isConnectionFailure == true }, "\(errors)")

            let restarted = try await RedisTestServer.start(port: server.port)
            defer { restarted.kill() }
            // As Pusher does: the same webhook again until it is taken.
            try await eventually("the queue to store again", within: .seconds(10)) {
                (try? await queue.publish([message(1)])) == [true]
            }
            #expect(try await storedIDs(restarted.client()) == ["m1"])
        }
    }

    @Test("a graceful shutdown lets the round trip in flight finish, fails the callers still queued and every later one, and stops the thread")
    func gracefulShutdown() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let queue = try PublishQueue(redis: .server(server.configuration), configuration: untraced)
            let group = ServiceGroup(services: [queue], logger: testLogger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                #expect(try await queue.publish([message(0)]) == [true])
                let before = queue.statistics
                try await client.execute("CLIENT", "PAUSE", "30000", "WRITE")
                let inFlight = Task { try await queue.publish([message(1)]) }
                try await eventually("the round trip to be in flight") { queue.statistics.roundTrips == before.roundTrips + 1 }
                let queued = Task { try await queue.publish([message(2)]) }
                try await eventually("the second caller to queue") { queue.statistics.waiting == 1 }

                await group.triggerGracefulShutdown()
                try await eventually("the queue to stop taking callers") { queue.isStopped }
                try await client.execute("CLIENT", "UNPAUSE")
                try await tasks.waitForAll()
                #expect(try await inFlight.value == [true])
                switch await queued.result {
                case .success(let flags): Issue.record("a caller queued at shutdown was answered \(flags)")
                case .failure(let error): #expect((error as? RedisError)?.code == .stopped)
                }
                let late = await #expect(throws: RedisError.self) { try await queue.publish([message(3)]) }
                #expect(late?.code == .stopped)
            }
            #expect(try await storedIDs(client) == ["m0", "m1"])
            #expect(queue.statistics.roundTrips == 2)
        }
    }

    @Test("a round trip's calls: partitions apart, at most the bound per call, a caller's share never split, callers in order")
    func batchPlan() throws {
        var configuration = BusConfiguration()
        configuration.partitions = 3
        func routed(_ n: Int, _ key: String) -> OutgoingMessage {
            OutgoingMessage(topic: topic, id: "m\(n)", atMs: 0, payload: [], routingKey: key)
        }
        // Three goals in different partitions.
        let goals = (1...30).map { "goal-\($0)" }
        let keys = Dictionary(grouping: goals) { configuration.partition(of: $0)!.index }.values.compactMap(\.first)
        try #require(keys.count == 3)
        let (x, y, z) = (keys[0], keys[1], keys[2])
        let requests = [
            [routed(1, x), routed(2, y), routed(3, x)],
            [routed(4, x), routed(5, x)],
            [routed(6, z)],
            (7...11).map { routed($0, x) },
            [routed(12, y)],
        ]
        let batch = PublishBatch(requests, configuration: configuration, limit: 4)
        let calls = batch.calls.map { call in call.messages.map(\.id) }
        #expect(calls == [["m1", "m3", "m4", "m5"], ["m2", "m12"], ["m6"], ["m7", "m8", "m9", "m10", "m11"]])
        #expect(batch.calls.map { $0.partition?.index } == [x, y, z, x].map { configuration.partition(of: $0)?.index })
        let slots = batch.calls[0].slots.map { [$0.request, $0.message] }
        #expect(slots == [[0, 0], [0, 2], [1, 0], [1, 1]])
    }
}
