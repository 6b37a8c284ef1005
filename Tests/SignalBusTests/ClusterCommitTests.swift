import Foundation
import Redis
import RedisTestSupport
@testable import SignalBus
import Testing

/// Commits cut into per-slot parts on a real Redis Cluster (3 masters, 3 replicas).
@Suite("Split commits on a Redis Cluster")
struct ClusterCommitTests {
    static let request = Topic.signal("count.request")
    static let done = Topic.signal("count.done")

    /// Reads `count:{<goal>}`, adds one, adds one to `tally` (another slot) and announces the new count.
    static let group = ReceiverGroup(name: "counter", receivers: [
        Receiver("count", on: [request], guard: { _ in nil }, effect: { context in
            let goal = context.message["goal_id"]!
            let count = try context.hash("count:{\(goal)}")
            let next = (Int(count["n"] ?? "0") ?? 0) + 1
            context.write(.hashIncrement(key: "count:{\(goal)}", field: "n", amount: 1))
            context.write(.hashIncrement(key: "tally", field: "total", amount: 1))
            context.emit(done, [("goal_id", goal), ("n", String(next))])
        }),
    ])

    static var bus: BusConfiguration {
        var bus = fastConfiguration()
        bus.partitions = 2
        return bus
    }

    @Test("a crash after the first part: the redelivered message finishes the stored commit, not a new one")
    func crashAfterFirstPart() async throws {
        try await withRedisCluster { cluster in
            let redis = try cluster.clusterClient()
            let bus = Self.bus
            _ = try await Publisher(redis: redis, configuration: bus).publish([
                OutgoingMessage(topic: Self.request, id: "m1", atMs: 1_000, payload: [("goal_id", "g1")], routingKey: "g1"),
            ])
            let partition = try #require(bus.partition(of: "g1"))
            let stream = Self.request.key(partition: partition)
            let entry = try #require(try await redis.execute("XRANGE", stream, "-", "+").array?.first?.array)
            let message = try #require(Message(topic: Self.request, entryID: entry[0].string ?? "", fields: entry[1].fieldMap, partition: partition))

            // The receivers run and only the first part commits, as if the consumer died right after it.
            let context = ReceiverContext(message: message, group: "counter") { _ in [] }
            context.receiver = "count"
            try Self.group.receivers[0].effect(context)
            let plan = try CommitPlan.make(
                context, deliveries: 1, trace: nil, traceIndexKey: nil, traced: false, clearError: nil, configuration: bus, cluster: true
            )
            guard case .split(let checks, let first?, let middle, _) = plan else {
                Issue.record("expected a split commit with a first part, got \(plan)")
                return
            }
            #expect(checks.isEmpty)
            #expect(middle.map(\.writes) == [[.asked(.hashIncrement(key: "tally", field: "total", amount: 1))]])
            let firstReply = try await redis.execute(CommitScript.command([first], group: "counter", configuration: bus))
            #expect(try CommitScript.results(firstReply, count: 1) == [.committed])
            #expect(try await redis.execute("HGET", "count:{g1}", "n").string == "1")

            // A consumer now reads the message: its receiver would see n = 1 and announce 2.
            try await withConsumers([GroupConsumer(group: Self.group, redis: .cluster(seeds: cluster.seeds), configuration: bus, logger: testLogger)]) {
                try await eventually("the message to be acknowledged") {
                    let pending = try? await redis.execute("XPENDING", stream, "counter").array?.first?.int
                    let read = try? await redis.execute("XINFO", "GROUPS", stream).array?.first?.pairs["entries-read"]?.int
                    return pending == 0 && read == 1
                }
            }
            #expect(try await redis.execute("HGET", "count:{g1}", "n").string == "1", "the first part's write, once")
            #expect(try await redis.execute("HGET", "tally", "total").string == "1", "the stored middle part, once")
            let announced = try await redis.execute("XRANGE", Self.done.key(partition: partition), "-", "+").array ?? []
            #expect(announced.count == 1)
            #expect(announced.first?.array?[1].fieldMap["n"] == "1", "the announcement planned with the state first read")
            #expect(announced.first?.array?[1].fieldMap["cause"] == "m1")
            // The parts outside the stream's slot keep their markers for the redelivery horizon only.
            let markers = try await cluster.allKeys(matching: "done:*")
            #expect(markers.count == 2, "the first and the middle part's markers: \(markers)")
            for marker in markers {
                let ttl = try await redis.execute("TTL", marker).int ?? -1
                #expect(ttl > 0 && ttl <= bus.redeliverySeconds, "\(marker) expires within the redelivery horizon")
            }
        }
    }

    @Test("two goals of one batch, each in its own slot, and a shared tally: one increment each, one announcement each")
    func batchOverSlots() async throws {
        try await withRedisCluster { cluster in
            let redis = try cluster.clusterClient()
            var bus = Self.bus
            bus.partitions = 1
            let goals = (0..<20).map { "g\($0)" }
            _ = try await Publisher(redis: redis, configuration: bus).publish(goals.enumerated().map { index, goal in
                OutgoingMessage(topic: Self.request, id: "m\(index)", atMs: 1_000, payload: [("goal_id", goal)], routingKey: goal)
            })
            let stream = Self.request.key(partition: Partition(0, of: 1))
            try await withConsumers([GroupConsumer(group: Self.group, redis: .cluster(seeds: cluster.seeds), configuration: bus, logger: testLogger)]) {
                try await eventually("every message to be acknowledged") {
                    let pending = try? await redis.execute("XPENDING", stream, "counter").array?.first?.int
                    let read = try? await redis.execute("XINFO", "GROUPS", stream).array?.first?.pairs["entries-read"]?.int
                    return pending == 0 && read == 20
                }
            }
            for goal in goals {
                #expect(try await redis.execute("HGET", "count:{\(goal)}", "n").string == "1", "\(goal)")
            }
            #expect(try await redis.execute("HGET", "tally", "total").string == "20")
            let announced = try await redis.execute("XRANGE", Self.done.key(partition: Partition(0, of: 1)), "-", "+").array ?? []
            #expect(announced.count == 20)
            #expect(Set(announced.compactMap { $0.array?[1].fieldMap["n"] }) == ["1"])
            #expect(try await redis.execute("XLEN", DeadLetters.key(for: stream, cluster: true)).int == 0)
        }
    }

    @Test("a hash in the stream's own slot is checked and written before any other slot, with a marker of its own")
    func readInTheStreamSlot() async throws {
        try await withRedisCluster { cluster in
            let redis = try cluster.clusterClient()
            let bus = Self.bus
            let partition = try #require(bus.partition(of: "g1"))
            // A hash whose tag is the partition's lies in the stream's slot.
            let local = "count:{\(partition.tag)}"
            let group = ReceiverGroup(name: "local", receivers: [
                Receiver("count", on: [Self.request], guard: { _ in nil }, effect: { context in
                    let next = (Int(try context.hash(local)["n"] ?? "0") ?? 0) + 1
                    context.write(.hashIncrement(key: local, field: "n", amount: 1))
                    context.write(.hashIncrement(key: "tally", field: "total", amount: 1))
                    context.emit(Self.done, [("n", String(next))])
                }),
            ])
            _ = try await Publisher(redis: redis, configuration: bus).publish([
                OutgoingMessage(topic: Self.request, id: "m1", atMs: 1_000, payload: [("goal_id", "g1")], routingKey: "g1"),
            ])
            let stream = Self.request.key(partition: partition)
            let entry = try #require(try await redis.execute("XRANGE", stream, "-", "+").array?.first?.array)
            let message = try #require(Message(topic: Self.request, entryID: entry[0].string ?? "", fields: entry[1].fieldMap, partition: partition))
            let context = ReceiverContext(message: message, group: "local") { _ in [] }
            context.receiver = "count"
            try group.receivers[0].effect(context)
            let plan = try CommitPlan.make(
                context, deliveries: 1, trace: nil, traceIndexKey: nil, traced: false, clearError: nil, configuration: bus, cluster: true
            )
            guard case .split(_, let first?, let middle, let finish) = plan else {
                Issue.record("expected a split commit with a first part, got \(plan)")
                return
            }
            #expect(first.writes == [.hashSet(key: local, fields: [("n", "1")])], "the increment of a hash it read, as its end result")
            #expect(first.reads.map(\.key) == [local])
            #expect(!first.acknowledges)
            #expect(HashSlot(key: first.slotKey) == HashSlot(key: stream))
            guard case .marker = first.guarding else {
                Issue.record("the first part claims a marker")
                return
            }
            #expect(middle.map(\.writes) == [[.asked(.hashIncrement(key: "tally", field: "total", amount: 1))]])
            #expect(finish.writes.isEmpty && finish.reads.isEmpty && finish.acknowledges)

            try await withConsumers([GroupConsumer(group: group, redis: .cluster(seeds: cluster.seeds), configuration: bus, logger: testLogger)]) {
                try await eventually("the message to be acknowledged") {
                    let pending = try? await redis.execute("XPENDING", stream, "local").array?.first?.int
                    let read = try? await redis.execute("XINFO", "GROUPS", stream).array?.first?.pairs["entries-read"]?.int
                    return pending == 0 && read == 1
                }
            }
            #expect(try await redis.execute("HGET", local, "n").string == "1")
            #expect(try await redis.execute("HGET", "tally", "total").string == "1")
            let announced = try await redis.execute("XRANGE", Self.done.key(partition: partition), "-", "+").array ?? []
            #expect(announced.compactMap { $0.array?[1].fieldMap["n"] } == ["1"])
        }
    }
}
