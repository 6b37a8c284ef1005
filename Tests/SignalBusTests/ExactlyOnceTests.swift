import Foundation
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("Exactly-once effect, optimistic concurrency, traces")
struct ExactlyOnceTests {
    let input = Topic.signal("bus.dup")
    let output = Topic.signal("bus.dup.out")

    /// A receiver with every kind of effect: counter, set, ledger stream, downstream signal.
    var ledgerGroup: ReceiverGroup {
        let output = output
        return ReceiverGroup(name: "ledger", receivers: [
            Receiver("book", on: [input], guard: { _ in nil }, effect: { context in
                let amount = Int64(context.message["amount"] ?? "") ?? 0
                context.write(.hashIncrement(key: "balance", field: "total", amount: amount))
                context.write(.hashMax(key: "balance", field: "high", value: amount))
                context.write(.setAdd(key: "payers", member: context.message["payer"] ?? ""))
                context.write(.sortedSetAdd(key: "by-time", score: context.now, member: context.message.id))
                context.write(.streamAppend(key: "ledger", fields: ["id", context.message.id, "amount", String(amount)]))
                context.emit(output, [("amount", String(amount)), ("payer", context.message["payer"] ?? "")])
            }),
        ], traceIndexKey: { _ in "traces:ledger" })
    }

    var booking: OutgoingMessage {
        OutgoingMessage(topic: input, id: "pay-1", atMs: 1_732_600_000_250, payload: [("amount", "500"), ("payer", "v1")])
    }

    @Test("an entry is applied once, acknowledged by its commit, and leaves no key per delivery")
    func appliedOnce() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await withConsumers([consumer(ledgerGroup, on: server)]) {
                _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish([booking])
                try await waitSettled(client, [(input.key, "ledger")])
            }
            #expect(try await pendingCount(client, input.key, "ledger") == 0)
            let downstream = try await streamEntries(client, output.key)
            #expect(downstream.map(\.fields) == [[
                "id", MessageID.derived(cause: "pay-1", group: "ledger", receiver: "book", topic: output, index: 0), "signal", "bus.dup.out",
                "at_ms", "1732600000250", "cause", "pay-1", "trace", "pay-1", "traced", "1", "amount", "500", "payer", "v1",
            ]])
            #expect(try await hashFields(client, "balance") == ["total": "500", "high": "500"])
            #expect(try await streamEntries(client, "ledger").map(\.fields) == [["id", "pay-1", "amount", "500"]])
            #expect(try await client.execute("ZSCORE", "by-time", "pay-1").string == "1732600000")
            #expect(try await allKeys(client) == [
                "balance", "by-time", "ledger", "payers", "signal:bus.dup", "signal:bus.dup.out", "trace:pay-1", "traces:ledger",
            ])
            let ttl = try await integer(client, "TTL", "trace:pay-1")
            #expect(ttl.map { $0 > 0 && $0 <= BusConfiguration().traceSeconds } == true)
        }
    }

    @Test("a slow replica whose entry was claimed and committed by another commits nothing")
    func slowReplicaCommitsNothing() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let gate = Gate()
            let runs = Counter()
            let output = output
            let group = ReceiverGroup(name: "ledger", receivers: [
                Receiver("book", on: [input], guard: { _ in
                    // The first handling stalls past the claim idle time, as a replica stuck in a pause would.
                    if runs.increment() == 1 { gate.wait(upTo: .seconds(10)) }
                    return nil
                }, effect: { context in
                    context.write(.hashIncrement(key: "balance", field: "total", amount: 500))
                    context.write(.streamAppend(key: "ledger", fields: ["id", context.message.id]))
                    context.emit(output, [("amount", "500")])
                }),
            ])
            try await withConsumers([consumer(group, on: server, name: "slow")]) {
                _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish([booking])
                try await eventually("the slow replica holds the entry", within: .seconds(5)) { runs.current == 1 }
                try await withConsumers([consumer(group, on: server, name: "other")]) {
                    try await eventually("the other replica committed it", within: .seconds(10)) {
                        (try? await hashFields(client, "balance")) == ["total": "500"]
                    }
                }
                gate.open()
                try await eventually("the slow replica finished", within: .seconds(10)) { runs.current == 2 && gate.passed }
                try await waitSettled(client, [(input.key, "ledger")])
            }
            #expect(runs.current == 2)
            #expect(try await hashFields(client, "balance") == ["total": "500"])
            #expect(try await integer(client, "XLEN", "ledger") == 1)
            #expect(try await integer(client, "XLEN", output.key) == 1)
            #expect(try await pendingCount(client, input.key, "ledger") == 0)
            #expect(try await allKeys(client).filter { $0.hasPrefix("done:") } == [])
        }
    }

    @Test("two entries of one message are two messages: recognising copies is the entry points' work")
    func copiesAreNewMessages() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await withConsumers([consumer(ledgerGroup, on: server)]) {
                _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish([booking, booking])
                try await waitSettled(client, [(input.key, "ledger")])
            }
            #expect(try await hashFields(client, "balance") == ["total": "1000", "high": "500"])
            #expect(try await integer(client, "XLEN", output.key) == 2)
        }
    }

    @Test("a state change between read and commit is detected and the message is handled again with the fresh value")
    func optimisticConcurrency() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let external = server.blockingClient()
            let topic = Topic.signal("bus.occ")
            let out = Topic.signal("bus.occ.out")
            try await client.execute("HSET", "account", "balance", "0", "owner", "v1")
            let guardRuns = Counter()
            let group = ReceiverGroup(name: "occ", receivers: [
                Receiver("bump", on: [topic], guard: { context in
                    let account = try context.hash("account")
                    let balance = account.int("balance") ?? 0
                    if guardRuns.increment() == 1 {
                        // Another replica changes what this handling just read.
                        try external.execute("HSET", "account", "balance", "10")
                    }
                    return balance < 0 ? "overdrawn" : nil
                }, effect: { context in
                    let balance = try context.hash("account").int("balance")!
                    context.write(.hashSet(key: "account", field: "balance", value: String(balance + 1)))
                    context.emit(out, [("balance", String(balance + 1))])
                }),
            ])
            try await withConsumers([consumer(group, on: server)]) {
                _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish([
                    OutgoingMessage(topic: topic, id: "bump-1", atMs: 1_000, payload: []),
                ])
                try await waitSettled(client, [(topic.key, "occ")])
            }
            #expect(guardRuns.current == 2)
            let account = try await hashFields(client, "account")
            #expect(account == ["balance": "11", "owner": "v1"])
            let emitted = try await streamEntries(client, out.key)
            #expect(emitted.map { $0.map["balance"] } == ["11"])
            let records = try await traceRecords(client, "bump-1")
            #expect(records.count == 1)
            #expect(records.first?.writes == ["HSET account balance=11"])
        }
    }

    @Test("a hash that appears between read and commit is a conflict too")
    func existenceConflict() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let external = server.blockingClient()
            let topic = Topic.signal("bus.exists")
            let guardRuns = Counter()
            let group = ReceiverGroup(name: "creators", receivers: [
                Receiver("create-once", on: [topic], guard: { context in
                    let exists = try context.hash("thing").exists
                    if guardRuns.increment() == 1 {
                        try external.execute("HSET", "thing", "made_by", "someone-else")
                    }
                    return exists ? "already made" : nil
                }, effect: { context in
                    context.write(.hashSet(key: "thing", field: "made_by", value: context.message.id))
                }),
            ])
            try await withConsumers([consumer(group, on: server)]) {
                _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish([OutgoingMessage(topic: topic, id: "make-1", atMs: 1_000, payload: [])])
                try await waitSettled(client, [(topic.key, "creators")])
            }
            #expect(guardRuns.current == 2)
            let thing = try await hashFields(client, "thing")
            #expect(thing == ["made_by": "someone-else"])
            let records = try await traceRecords(client, "make-1")
            #expect(records.map(\.acted) == [false])
            #expect(records.map(\.reason) == ["already made"])
        }
    }

    @Test("a traced chain keeps one entry per delivery in its trace hash: one record per receiver, read back across the chain")
    func traceRecordsPerReceiver() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let topic = Topic.signal("bus.traced")
            let work = Topic.task("bus.work")
            let first = ReceiverGroup(name: "first", receivers: [
                Receiver("skipper", on: [topic], guard: { _ in "not my signal" }, effect: { context in
                    context.write(.hashSet(key: "never", field: "x", value: "1"))
                }),
                Receiver("actor", on: [topic], guard: { _ in nil }, effect: { context in
                    context.write(.hashSet(key: "h", field: "f", value: "v"))
                    context.write(.hashIncrement(key: "h", field: "n", amount: 2))
                    context.emit(work, [("job", "a")])
                    context.emit(work, [("job", "b")])
                }),
            ], traceIndexKey: { message in "traces:\(message["goal_id"] ?? "none")" })
            let second = ReceiverGroup(name: "second", receivers: [
                Receiver("worker", on: [work], guard: { context in context.message["job"] == "b" ? "only a" : nil }, effect: { context in
                    context.write(.setAdd(key: "jobs", member: context.message["job"]!))
                }),
            ])
            try await withConsumers([consumer(first, on: server), consumer(second, on: server)]) {
                _ = try await Publisher(redis: client, configuration: tracedConfiguration).publish([
                    OutgoingMessage(topic: topic, id: "root-1", atMs: 1_732_600_000_999, payload: [("goal_id", "g1")]),
                ])
                try await waitSettled(client, [(topic.key, "first"), (work.key, "second")])
            }
            let jobA = MessageID.derived(cause: "root-1", group: "first", receiver: "actor", topic: work, index: 0)
            let jobB = MessageID.derived(cause: "root-1", group: "first", receiver: "actor", topic: work, index: 1)
            let records = try await traceRecords(client, "root-1")
            #expect(records.count == 4)
            guard records.count == 4 else { return }
            let (skipper, actor) = (records[0], records[1])
            #expect(skipper.receiver == "skipper")
            #expect(skipper.group == "first")
            #expect(skipper.acted == false)
            #expect(skipper.reason == "not my signal")
            #expect(skipper.writes.isEmpty && skipper.published.isEmpty)
            #expect(skipper.atMs == 1_732_600_000_999)
            #expect(skipper.signal == "bus.traced" && skipper.kind == "signal")
            #expect(skipper.message == "root-1" && skipper.cause == "")

            #expect(actor.receiver == "actor")
            #expect(actor.acted == true)
            #expect(actor.reason == "")
            #expect(actor.writes == ["HSET h f=v", "HINCRBY h n 2"])
            #expect(actor.published.map(\.id) == [jobA, jobB])
            #expect(actor.published.map(\.signal) == ["bus.work", "bus.work"])
            #expect(actor.published.map(\.kind) == ["task", "task"])

            let downstream = Array(records[2...])
            #expect(downstream.map(\.message) == [jobA, jobB])
            #expect(downstream.map(\.group) == ["second", "second"])
            #expect(downstream.map(\.cause) == ["root-1", "root-1"])
            #expect(downstream.map(\.kind) == ["task", "task"])
            #expect(downstream.map(\.acted) == [true, false])
            #expect(downstream.map(\.reason) == ["", "only a"])
            #expect(downstream.map(\.atMs) == [1_732_600_000_999, 1_732_600_000_999])

            let workEntries = try await streamEntries(client, work.key)
            #expect(workEntries.map { $0.map["id"] } == [jobA, jobB])
            #expect(workEntries.map { $0.map["trace"] } == ["root-1", "root-1"])
            let never = try await integer(client, "EXISTS", "never")
            #expect(never == 0)
            let jobs = try await client.execute("SMEMBERS", "jobs").array?.compactMap(\.string)
            #expect(jobs == ["a"])
            let ttl = try await integer(client, "TTL", "trace:root-1")
            #expect(ttl.map { $0 > BusConfiguration().traceSeconds - 60 && $0 <= BusConfiguration().traceSeconds } == true)
            #expect(try await client.execute("HKEYS", "trace:root-1").array?.compactMap(\.string).sorted() == [
                "first root-1", "second \(jobA)", "second \(jobB)",
            ])
            let indexed = try await client.execute("ZSCORE", "traces:g1", "root-1").string
            #expect(indexed == "1732600000999")
        }
    }
}
