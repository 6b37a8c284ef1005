import Foundation
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("Delivery: groups, replicas, crashes, poison, lost data")
struct DeliveryTests {
    @Test("two groups on one stream each see every message once")
    func twoGroups() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let topic = Topic.signal("bus.fan")
            let publisher = Publisher(redis: client, configuration: tracedConfiguration)
            _ = try await publisher.publish(messages(topic, 0..<100))
            try await withConsumers([
                consumer(countingGroup("alpha", on: topic), on: server),
                consumer(countingGroup("beta", on: topic), on: server),
            ]) {
                _ = try await publisher.publish(messages(topic, 100..<200))
                try await waitSettled(client, [(topic.key, "alpha"), (topic.key, "beta")])
            }
            let expected = Dictionary(uniqueKeysWithValues: (0..<200).map { ("m\($0)", "1") })
            let alpha = try await hashFields(client, "count:alpha")
            let beta = try await hashFields(client, "count:beta")
            #expect(alpha == expected)
            #expect(beta == expected)
            for group in ["alpha", "beta"] {
                let pending = try await pendingCount(client, topic.key, group)
                #expect(pending == 0)
            }
            let groups = try await client.execute("XINFO", "GROUPS", topic.key).array?.map(\.pairs) ?? []
            #expect(groups.compactMap { $0["name"]?.string }.sorted() == ["alpha", "beta"])
            #expect(groups.map { $0["entries-read"]?.int } == [200, 200])
            #expect(groups.map { $0["lag"]?.int } == [0, 0])
        }
    }

    @Test("three replicas of one group share 10,000 messages: none handled twice, none lost", .timeLimit(.minutes(2)))
    func threeReplicasShare() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let topic = Topic.signal("bus.share")
            let publisher = Publisher(redis: client, configuration: tracedConfiguration)
            let total = 10_000
            let configuration = fastConfiguration(claimIdle: .seconds(5))
            let names = ["r1", "r2", "r3"]
            let started = ContinuousClock.now
            try await withConsumers(names.map { name in
                consumer(countingGroup("workers", on: topic, tag: name), on: server, name: "workers-\(name)", configuration: configuration)
            }) {
                for start in stride(from: 0, to: total, by: 500) {
                    _ = try await publisher.publish(messages(topic, start..<min(start + 500, total)))
                }
                try await waitSettled(client, [(topic.key, "workers")], within: .seconds(90))
            }
            let elapsed = ContinuousClock.now - started
            print("threeReplicasShare: \(total) messages handled in \(elapsed)")

            let seen = try await integer(client, "SCARD", "seen:workers")
            #expect(seen == total)
            let counts = try await hashFields(client, "count:workers")
            #expect(counts.count == total)
            #expect(counts.values.allSatisfy { $0 == "1" })
            var perReplica: [Int] = []
            for name in names {
                perReplica.append(try await integer(client, "SCARD", "by:\(name)") ?? -1)
            }
            // Each handled message is attributed to exactly one replica, and every replica took a share.
            #expect(perReplica.reduce(0, +) == total)
            let union = try await integer(client, "SUNIONSTORE", "by:all", "by:r1", "by:r2", "by:r3")
            #expect(union == total)
            #expect(perReplica.allSatisfy { $0 > 0 }, "shares: \(perReplica)")
            let pending = try await pendingCount(client, topic.key, "workers")
            #expect(pending == 0)
            let xlen = try await integer(client, "XLEN", topic.key)
            #expect(xlen == total)
        }
    }

    @Test("a message read by a replica that died is claimed after claimIdle and handled by a live one")
    func crashRecovery() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let topic = Topic.signal("bus.crash")
            let claimIdle = Duration.milliseconds(600)
            try await client.execute("XGROUP", "CREATE", topic.key, "crashers", "0", "MKSTREAM")
            _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish(messages(topic, 0..<1, prefix: "lost"))
            // The replica that dies: it reads the message and never acknowledges it. Redis stamps the delivery
            // after the read is sent, so `readAt` (taken before) is a lower bound on it.
            let readAt = ContinuousClock.now
            let read = try await client.execute("XREADGROUP", "GROUP", "crashers", "dead", "COUNT", 10, "STREAMS", topic.key, ">")
            let readEntries = read.array?.first?.array?.last?.array ?? []
            #expect(readEntries.count == 1)
            let deadPending = try await pendingCount(client, topic.key, "crashers")
            #expect(deadPending == 1)

            var handledAt: ContinuousClock.Instant?
            try await withConsumers([
                consumer(countingGroup("crashers", on: topic), on: server, name: "live", configuration: fastConfiguration(claimIdle: claimIdle)),
            ]) {
                _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish(messages(topic, 0..<1, prefix: "fresh"))
                try await eventually("the lost message to be handled") {
                    try await client.execute("SISMEMBER", "seen:crashers", "lost0").int == 1
                }
                handledAt = ContinuousClock.now
                try await waitSettled(client, [(topic.key, "crashers")])
            }
            // Redis measures idleness from its own delivery time, which is after `readAt`.
            if let handledAt { #expect(handledAt - readAt >= claimIdle - .milliseconds(50)) }
            let counts = try await hashFields(client, "count:crashers")
            #expect(counts == ["lost0": "1", "fresh0": "1"])
            let pending = try await pendingCount(client, topic.key, "crashers")
            #expect(pending == 0)
            let consumers = try await client.execute("XINFO", "CONSUMERS", topic.key, "crashers").array?.map(\.pairs) ?? []
            let pendingByConsumer = Dictionary(uniqueKeysWithValues: consumers.compactMap { info -> (String, Int)? in
                guard let name = info["name"]?.string, let pending = info["pending"]?.int else { return nil }
                return (name, pending)
            })
            // The live replica left the group on its clean stop; "dead" stays listed until a live replica notices
            // its missing heartbeat (HeartbeatTests), which takes longer than this claim idle time.
            #expect(pendingByConsumer == ["dead": 0])
            let records = try await traceRecords(client, "lost0")
            #expect(records.map(\.receiver) == ["count"])
        }
    }

    @Test("a message that keeps failing goes to dead:<stream> after maxDeliveries with its error; the rest flow on")
    func poisonMessage() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let topic = Topic.signal("bus.poison")
            let attempts = Counter()
            let group = ReceiverGroup(name: "pickers", receivers: [
                Receiver("picky", on: [topic], guard: { _ in nil }, effect: { context in
                    if context.message["poison"] == "1" {
                        attempts.increment()
                        throw PoisonError(description: "poison pill \(context.message.id) refused")
                    }
                    context.write(.setAdd(key: "handled", member: context.message.id))
                }),
            ])
            let publisher = Publisher(redis: client, configuration: tracedConfiguration)
            try await withConsumers([consumer(group, on: server, configuration: fastConfiguration(claimIdle: .milliseconds(200), maxDeliveries: 3))]) {
                _ = try await publisher.publish(messages(topic, 0..<2))
                _ = try await publisher.publish([
                    OutgoingMessage(topic: topic, id: "bad", atMs: 1_732_600_000_500, payload: [("poison", "1"), ("n", "x")], trace: "root-bad"),
                ])
                _ = try await publisher.publish(messages(topic, 2..<6))
                try await eventually("the poison message to be dead-lettered") {
                    try await client.execute("XLEN", topic.deadLetterKey).int == 1
                }
                _ = try await publisher.publish(messages(topic, 6..<8))
                try await waitSettled(client, [(topic.key, "pickers")])
            }
            let handled = try await client.execute("SMEMBERS", "handled").array?.compactMap(\.string).sorted()
            #expect(handled == (0..<8).map { "m\($0)" }.sorted())
            #expect(attempts.current == 3)

            let stream = try await streamEntries(client, topic.key)
            let poisonEntry = try #require(stream.first { $0.map["id"] == "bad" })
            let dead = try await streamEntries(client, topic.deadLetterKey)
            #expect(dead.count == 1)
            let fields = try #require(dead.first).fields
            // The original fields, in order, then the dead-letter fields.
            #expect(Array(fields.prefix(poisonEntry.fields.count)) == poisonEntry.fields)
            #expect(poisonEntry.fields == [
                "id", "bad", "signal", "bus.poison", "at_ms", "1732600000500", "cause", "", "trace", "root-bad", "traced", "1", "poison", "1", "n", "x",
            ])
            let deadMap = try #require(dead.first).map
            #expect(deadMap["dead.group"] == "pickers")
            #expect(deadMap["dead.entry"] == poisonEntry.entryID)
            #expect(deadMap["dead.deliveries"] == "3")
            #expect(deadMap["dead.error"]?.contains("poison pill bad refused") == true)

            let pending = try await pendingCount(client, topic.key, "pickers")
            #expect(pending == 0)
            let errors = try await integer(client, "EXISTS", "errors:pickers")
            #expect(errors == 0)
            // Every failed delivery and the dead-lettering are in the chain's trace, with their errors.
            let records = try await traceRecords(client, "root-bad")
            #expect(records.count == 1, "one entry per group and message: the latest failure")
            #expect(records.first?.error?.contains("dead-lettered after 3 deliveries") == true, "\(records)")
        }
    }

    @Test("a write Redis refuses, in the middle of a batch: the others commit once, that message goes to the dead letters with the error")
    func refusedWrite() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let topic = Topic.signal("bus.refused")
            // The hash `counter:bad` holds a field that is not an integer: HINCRBY on it fails inside the commit.
            try await client.execute("HSET", "counter:bad", "n", "abc")
            let group = ReceiverGroup(name: "counters", receivers: [
                Receiver("count", on: [topic], guard: { _ in nil }, effect: { context in
                    context.write(.setAdd(key: "seen", member: context.message.id))
                    context.write(.hashIncrement(key: "counter:\(context.message["target"]!)", field: "n", amount: 1))
                }),
            ])
            let publisher = Publisher(redis: client, configuration: tracedConfiguration)
            // Published before the consumer starts, so the three are read and committed as one batch.
            _ = try await publisher.publish(["good1", "bad", "good2"].enumerated().map { number, target in
                OutgoingMessage(topic: topic, id: "m\(number)", atMs: 1_732_600_000_000 + Int64(number), payload: [("target", target)])
            })
            try await withConsumers([consumer(group, on: server, configuration: fastConfiguration(claimIdle: .milliseconds(200), maxDeliveries: 3))]) {
                try await eventually("the refused message to be dead-lettered") {
                    try await client.execute("XLEN", topic.deadLetterKey).int == 1
                }
                try await waitSettled(client, [(topic.key, "counters")])
            }
            #expect(try await hashFields(client, "counter:good1") == ["n": "1"])
            #expect(try await hashFields(client, "counter:good2") == ["n": "1"])
            #expect(try await hashFields(client, "counter:bad") == ["n": "abc"])
            let dead = try #require(try await streamEntries(client, topic.deadLetterKey).first).map
            #expect(dead["id"] == "m1")
            #expect(dead["dead.deliveries"] == "1", "a refused write fails the same way on every delivery: dead-lettered at once")
            #expect(dead["dead.error"]?.contains("not an integer") == true, "dead.error: \(dead["dead.error"] ?? "")")
            // The writes before the refused one stay, as the commit applied them.
            #expect(try await client.execute("SMEMBERS", "seen").array?.compactMap(\.string).sorted() == ["m0", "m1", "m2"])
            #expect(try await allKeys(client).filter { $0.hasPrefix("done:") } == [])
            let records = try await traceRecords(client, "m1")
            #expect(records.first?.error?.contains("not an integer") == true, "\(records)")
            #expect(try await pendingCount(client, topic.key, "counters") == 0)
            #expect(try await integer(client, "EXISTS", "errors:counters") == 0)
        }
    }

    @Test("after FLUSHALL a running consumer recreates its group and handles new messages")
    func flushAll() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let topic = Topic.signal("bus.flush")
            let publisher = Publisher(redis: client, configuration: tracedConfiguration)
            try await withConsumers([consumer(countingGroup("survivors", on: topic), on: server)]) {
                _ = try await publisher.publish(messages(topic, 0..<1, prefix: "before"))
                try await eventually("the first message to be handled") {
                    try await client.execute("SISMEMBER", "seen:survivors", "before0").int == 1
                }
                try await client.execute("FLUSHALL")
                _ = try await publisher.publish(messages(topic, 0..<3, prefix: "after"))
                try await eventually("messages after FLUSHALL to be handled") {
                    try await client.execute("SCARD", "seen:survivors").int == 3
                }
                try await waitSettled(client, [(topic.key, "survivors")])
            }
            let counts = try await hashFields(client, "count:survivors")
            #expect(counts == ["after0": "1", "after1": "1", "after2": "1"])
            let groups = try await client.execute("XINFO", "GROUPS", topic.key).array?.map(\.pairs) ?? []
            #expect(groups.compactMap { $0["name"]?.string } == ["survivors"])
            let pending = try await pendingCount(client, topic.key, "survivors")
            #expect(pending == 0)
        }
    }
}
