import Redis
import RedisTestSupport
import SignalBus
import Testing

/// The stream-consumer core's decisions, each against a real redis-server, driven as the notifier drives it
/// (asynchronously); the receiver groups' consumer drives the same core on its thread in the other suites.
@Suite("The stream-consumer core: groups, reads, recovery, dead letters, trimming, leaving, backoff")
struct StreamConsumerCoreTests {
    func settings(_ streams: [String], consumer: String = "me", _ change: (inout StreamConsumerSettings) -> Void = { _ in }) -> StreamConsumerSettings {
        var settings = StreamConsumerSettings(group: "g", consumer: consumer, streams: streams, errorsKey: "errors:g")
        settings.recoveryInterval = .seconds(3600)
        change(&settings)
        return settings
    }

    /// Runs a pass to its end over `client`, handling the entries it hands over as a driver does (here:
    /// acknowledging them at once); returns every step but the sends.
    func drive(_ pass: inout RecoveryPass, on client: RedisClient) async throws -> [RecoveryStep] {
        var steps: [RecoveryStep] = []
        while let step = pass.next() {
            switch step {
            case .send(let commands):
                try pass.receive(await client.pipeline(commands))
            case .takenOver(_, _, let entries), .claimed(let entries):
                for entry in entries { try await client.execute("XACK", entry.stream, "g", entry.id) }
                steps.append(step)
            case .deadLettered, .backlog:
                steps.append(step)
            }
        }
        return steps
    }

    /// The one pass a fresh core owes, run to its end.
    func recover(_ core: StreamConsumerCore, on client: RedisClient) async throws -> [RecoveryStep] {
        var pass = try #require(core.recoveryPass())
        return try await drive(&pass, on: client)
    }

    func consumers(_ client: RedisClient, _ stream: String) async throws -> [String] {
        (try await client.execute("XINFO", "CONSUMERS", stream, "g").array ?? []).compactMap { $0.pairs["name"]?.string }.sorted()
    }

    func add(_ client: RedisClient, _ stream: String, _ count: Int) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<count { ids.append(try await client.execute("XADD", stream, "*", "n", String(index)).string ?? "") }
        return ids
    }

    @Test("groups are created once; an existing group is fine; any other refusal is thrown and tried again")
    func groups() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let core = StreamConsumerCore(settings: settings(["s1", "s2"]))
            #expect(core.needsGroups)
            try core.groupsCreated(await client.pipeline(core.createGroupCommands()))
            #expect(!core.needsGroups)
            for stream in ["s1", "s2"] {
                #expect(try await client.execute("XINFO", "GROUPS", stream).array?.first?.pairs["name"]?.string == "g")
            }
            try core.groupsCreated(await client.pipeline(core.createGroupCommands()))

            try await client.execute("SET", "s3", "not a stream")
            let refused = StreamConsumerCore(settings: settings(["s3"]))
            let replies = try await client.pipeline(refused.createGroupCommands())
            #expect(throws: RedisError.self) { try refused.groupsCreated(replies) }
            #expect(refused.needsGroups)
        }
    }

    @Test("a read gives every stream's new entries, each a first delivery; a missing group is created again")
    func read() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let core = StreamConsumerCore(settings: settings(["s1", "s2"]) { $0.block = .milliseconds(10) })
            try core.groupsCreated(await client.pipeline(core.createGroupCommands()))
            let first = try await client.execute("XADD", "s1", "*", "a", "1").string
            let second = try await client.execute("XADD", "s2", "*", "b", "2").string
            let entries = try core.entries(read: await client.pipeline([core.readCommand], timeout: core.readTimeout)[0])
            #expect(entries == [
                DeliveredEntry(stream: "s1", id: try #require(first), fields: ["a": "1"], deliveries: 1),
                DeliveredEntry(stream: "s2", id: try #require(second), fields: ["b": "2"], deliveries: 1),
            ])
            #expect(try core.entries(read: await client.pipeline([core.readCommand], timeout: core.readTimeout)[0]).isEmpty)

            try await client.execute("FLUSHALL")
            let reply = try await client.pipeline([core.readCommand], timeout: core.readTimeout)[0]
            do {
                _ = try core.entries(read: reply)
                Issue.record("a read without its group must fail")
            } catch {
                #expect(core.turnFailed(error) == .groupMissing)
            }
            #expect(core.needsGroups)
        }
    }

    @Test("a failed turn waits 100 ms, doubling up to 2 s; a turn that went through starts over")
    func backoff() {
        let core = StreamConsumerCore(settings: settings(["s"]))
        let failure = RedisError(code: .io, message: "connection reset")
        let waits = (0..<7).map { _ in core.turnFailed(failure) }
        #expect(waits == [100, 200, 400, 800, 1600, 2000, 2000].map { .retry(after: .milliseconds($0)) })
        core.turnSucceeded()
        #expect(core.turnFailed(failure) == .retry(after: .milliseconds(100)))
    }

    @Test("a pass beats, takes over a consumer whose heartbeat is gone and removes it, and leaves live and young ones alone")
    func takeOver() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let core = StreamConsumerCore(settings: settings(["s"]) {
                $0.heartbeat = .seconds(2)
                $0.claimIdle = .seconds(60)
            })
            try core.groupsCreated(await client.pipeline(core.createGroupCommands()))
            let ids = try await add(client, "s", 4)
            try await client.execute("XREADGROUP", "GROUP", "g", "stopped", "COUNT", 2, "STREAMS", "s", ">")
            try await client.execute("XREADGROUP", "GROUP", "g", "alive", "COUNT", 1, "STREAMS", "s", ">")
            try await client.execute("SET", "heartbeat:g:alive", "1", "PX", 60_000)
            try await Task.sleep(for: .milliseconds(2_500))
            // Silent for less than a heartbeat's life: just started, not stopped.
            try await client.execute("XREADGROUP", "GROUP", "g", "young", "COUNT", 1, "STREAMS", "s", ">")

            let steps = try await recover(core, on: client)
            let taken = steps.compactMap { step -> (String, [DeliveredEntry])? in
                if case .takenOver(_, let consumer, let entries) = step { return (consumer, entries) }
                return nil
            }
            #expect(taken.count == 1)
            #expect(taken.first?.0 == "stopped")
            #expect(taken.first?.1 == [
                DeliveredEntry(stream: "s", id: ids[0], fields: ["n": "0"], deliveries: 2),
                DeliveredEntry(stream: "s", id: ids[1], fields: ["n": "1"], deliveries: 2),
            ])
            #expect(try await consumers(client, "s") == ["alive", "me", "young"], "the stopped consumer is gone from the group")
            let pending = try await client.execute("XPENDING", "s", "g", "-", "+", 10).array ?? []
            #expect(pending.compactMap { $0.array?[1].string }.sorted() == ["alive", "young"], "the live and young keep theirs")
            let life = try await client.execute("PTTL", "heartbeat:g:me").int ?? -1
            #expect(life > 0 && life <= 2_000, "this replica's heartbeat lives one heartbeat: \(life) ms")
            #expect(core.recoveryPass() == nil, "the next pass waits for the recovery interval")
        }
    }

    @Test("a stopped consumer's entry deleted from the stream is dropped from the group, not handed over, and the consumer removed")
    func takeOverDeletedEntry() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let core = StreamConsumerCore(settings: settings(["s"]) { $0.heartbeat = .milliseconds(100) })
            try core.groupsCreated(await client.pipeline(core.createGroupCommands()))
            let ids = try await add(client, "s", 2)
            try await client.execute("XREADGROUP", "GROUP", "g", "stopped", "COUNT", 2, "STREAMS", "s", ">")
            try await client.execute("XDEL", "s", ids[0])
            try await Task.sleep(for: .milliseconds(300))

            let taken = try await recover(core, on: client).compactMap { step -> [String]? in
                if case .takenOver(_, "stopped", let entries) = step { return entries.map(\.id) }
                return nil
            }
            #expect(taken == [[ids[1]]])
            #expect(try await consumers(client, "s") == ["me"])
            #expect(try await client.execute("XPENDING", "s", "g").array?.first?.int == 0, "the deleted entry is no longer pending")
        }
    }

    @Test("entries delivered max times go to the dead letters, not to the driver, whether taken over or claimed")
    func deadLetters() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let core = StreamConsumerCore(settings: settings(["s"]) {
                $0.heartbeat = .milliseconds(100)
                $0.claimIdle = .milliseconds(100)
                $0.maxDeliveries = 3
            })
            try core.groupsCreated(await client.pipeline(core.createGroupCommands()))
            let ids = try await add(client, "s", 4)
            try await client.execute("XREADGROUP", "GROUP", "g", "stopped", "COUNT", 2, "STREAMS", "s", ">")
            try await client.execute("XCLAIM", "s", "g", "stopped", 0, ids[0], "RETRYCOUNT", 3)
            try await client.execute("XREADGROUP", "GROUP", "g", "stuck", "COUNT", 2, "STREAMS", "s", ">")
            try await client.execute("XCLAIM", "s", "g", "stuck", 0, ids[2], "RETRYCOUNT", 3)
            try await client.execute("SET", "heartbeat:g:stuck", "1", "PX", 60_000)
            try await client.execute("HSET", "errors:g", "s \(ids[2])", "boom")
            try await Task.sleep(for: .milliseconds(300))

            var handed: [DeliveredEntry] = []
            var dead: [DeadLettered] = []
            var backlog: [String] = []
            for step in try await recover(core, on: client) {
                switch step {
                case .takenOver(_, _, let entries), .claimed(let entries): handed += entries
                case .deadLettered(let letter): dead.append(letter)
                case .backlog(let stream, let lag, let pending): backlog.append("\(stream) lag=\(lag) pending=\(pending)")
                case .send: Issue.record("sends are the driver's")
                }
            }
            #expect(handed.map(\.id).sorted() == [ids[1], ids[3]].sorted())
            #expect(handed.allSatisfy { $0.deliveries == 2 })
            #expect(dead.map(\.entryID).sorted() == [ids[0], ids[2]].sorted())
            #expect(dead.first { $0.entryID == ids[0] }?.error == "failed 3 times")
            #expect(dead.first { $0.entryID == ids[2] }?.error == "boom", "the last recorded error wins")
            #expect(dead.allSatisfy { $0.deliveries == 3 && $0.fields["n"] != nil })
            #expect(backlog == ["s lag=0 pending=0"])

            let letters = (try await client.execute("XRANGE", "dead:s", "-", "+").array ?? []).compactMap { $0.array?.last?.fieldMap }
            #expect(letters.compactMap { $0["dead.entry"] }.sorted() == [ids[0], ids[2]].sorted())
            #expect(letters.allSatisfy { $0["dead.group"] == "g" && $0["dead.deliveries"] == "3" })
            #expect(try await client.execute("XPENDING", "s", "g").array?.first?.int == 0, "the rest was handed over, and handled")
            #expect(try await client.execute("HEXISTS", "errors:g", "s \(ids[2])").int == 0)
        }
    }

    @Test("a pass reports the group's backlog and trims read and sink streams to the kept entries")
    func backlogAndTrim() async throws {
        try await withRedisServer { server in
            let client = server.client()
            // Small stream nodes, so that approximate trimming is close to exact.
            try await client.execute("CONFIG", "SET", "stream-node-max-entries", "10")
            let core = StreamConsumerCore(settings: settings(["s"]) {
                $0.trimmed = ["s", "sink"]
                $0.streamKeep = 20
                $0.recoveryInterval = .zero
            })
            try core.groupsCreated(await client.pipeline(core.createGroupCommands()))
            _ = try await add(client, "s", 100)
            _ = try await add(client, "sink", 100)
            let read = try await client.execute("XREADGROUP", "GROUP", "g", "me", "COUNT", 100, "STREAMS", "s", ">")
            let ids = read.array?.first?.array?.last?.array?.compactMap { $0.array?.first?.string } ?? []
            try await client.execute(RedisCommand("XACK", arguments: ["s", "g"] + ids.prefix(90)))
            _ = try await add(client, "s", 5)

            let steps = try await recover(core, on: client)
            let backlog = steps.compactMap { step -> String? in
                if case .backlog(let stream, let lag, let pending) = step { return "\(stream) lag=\(lag) pending=\(pending)" }
                return nil
            }
            #expect(backlog == ["s lag=5 pending=10"])
            #expect(try await client.execute("XLEN", "s").int == 105, "nothing trimmed that the group has not acknowledged")
            let sink = try await client.execute("XLEN", "sink").int ?? 0
            #expect(sink >= 20 && sink <= 30, "a sink keeps the newest entries: \(sink)")

            _ = try await client.execute("XREADGROUP", "GROUP", "g", "me", "STREAMS", "s", ">")
            let rest = (try await client.execute("XRANGE", "s", ids[90], "+").array ?? []).compactMap { $0.array?.first?.string }
            try await client.execute(RedisCommand("XACK", arguments: ["s", "g"] + rest))
            _ = try await recover(core, on: client)
            let length = try await client.execute("XLEN", "s").int ?? 0
            #expect(length >= 20 && length <= 30, "once acknowledged, the newest entries are kept: \(length)")
        }
    }

    @Test("leaving removes the replica where it holds nothing, keeps it where it holds entries, and ends its heartbeat")
    func leave() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let core = StreamConsumerCore(settings: settings(["s1", "s2"]) { $0.block = .milliseconds(10) })
            try core.groupsCreated(await client.pipeline(core.createGroupCommands()))
            try await client.execute("XADD", "s1", "*", "a", "1")
            #expect(try core.entries(read: await client.pipeline([core.readCommand], timeout: core.readTimeout)[0]).count == 1)
            try await client.execute("XGROUP", "CREATECONSUMER", "s2", "g", "me")
            _ = try await recover(core, on: client)
            #expect(try await consumers(client, "s2") == ["me"])
            #expect(try await client.execute("EXISTS", "heartbeat:g:me").int == 1)

            for reply in try await client.pipeline(core.leaveCommands()) { _ = try reply.checked() }
            #expect(try await consumers(client, "s1") == ["me"], "its pending entry stays with it, for a live replica to take over")
            #expect(try await consumers(client, "s2") == [])
            #expect(try await client.execute("EXISTS", "heartbeat:g:me").int == 0)
        }
    }
}
