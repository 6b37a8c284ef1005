import Foundation
import Notifier
import Redis
import RedisTestSupport
import Testing

/// The notifier as a member of its group, like a receiver group's replica: a heartbeat, the take-over of a
/// replica that stopped without leaving, trimming of the outbox, and leaving on a clean stop.
@Suite("Membership: heartbeats, take-over of a stopped notifier, trimming the outbox, leaving the group")
struct MembershipTests {
    /// Heartbeats of 500 ms and a claim idle time far beyond the test, so only a heartbeat hands entries over.
    func configuration(_ stub: PusherStub) -> NotifierConfiguration {
        var configuration = fastConfiguration(stub)
        configuration.claimIdle = .seconds(120)
        configuration.heartbeat = .milliseconds(500)
        return configuration
    }

    func consumers(_ client: RedisClient) async throws -> [String] {
        (try await client.execute("XINFO", "CONSUMERS", "outbox:pusher", "notifier").array ?? []).compactMap { $0.pairs["name"]?.string }.sorted()
    }

    @Test("the entries of a notifier stopped without leaving are sent by a live one within seconds, which removes it")
    func stoppedNotifierTakenOver() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                try await client.execute("XGROUP", "CREATE", "outbox:pusher", "notifier", "0", "MKSTREAM")
                let channels = (0..<3).map { "presence-enc-goal@lost\($0)" }
                for channel in channels { try await appendOutbox(client, channel: channel, event: "goal-ended", data: "{}") }
                // A replica that read the entries and was killed (SIGKILL) before it sent them: no heartbeat.
                try await client.execute("XREADGROUP", "GROUP", "notifier", "notifier-killed", "COUNT", 10, "STREAMS", "outbox:pusher", ">")
                let started = ContinuousClock.now
                let live = PusherNotifier(configuration: configuration(stub), redis: .server(server.configuration), consumerName: "notifier-live", logger: testLogger)
                try await withNotifier(live) {
                    try await eventually("the stopped replica's entries to be sent", within: .seconds(10)) { try await outboxSettled(client) }
                    #expect(ContinuousClock.now - started < .seconds(5), "taken over in \(ContinuousClock.now - started)")
                    #expect(try await consumers(client) == ["notifier-live"], "the stopped replica is gone from the group")
                }
                #expect(stub.received.compactMap { $0.event?.channels.first }.sorted() == channels)
                #expect(stub.received.allSatisfy { $0.status == 200 })
            }
        }
    }

    @Test("a notifier whose heartbeat lives keeps its entries; a clean stop leaves the group and ends the heartbeat")
    func liveKeptAndCleanStopLeaves() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                try await client.execute("XGROUP", "CREATE", "outbox:pusher", "notifier", "0", "MKSTREAM")
                let held = try await appendOutbox(client, channel: "presence-enc-goal@held", event: "goal-ended", data: "{}")
                try await client.execute("XREADGROUP", "GROUP", "notifier", "notifier-busy", "COUNT", 1, "STREAMS", "outbox:pusher", ">")
                try await client.execute("SET", "heartbeat:notifier:notifier-busy", "1", "PX", 60_000)
                let notifier = PusherNotifier(configuration: configuration(stub), redis: .server(server.configuration), consumerName: "notifier-leaving", logger: testLogger)
                try await withNotifier(notifier) {
                    try await appendOutbox(client, channel: "presence-enc-goal@sent", event: "goal-ended", data: "{}")
                    try await eventually("the new entry to be sent") { stub.received.count == 1 }
                    // Several recovery passes go by.
                    try await Task.sleep(for: .seconds(1))
                    let life = try await client.execute("PTTL", "heartbeat:notifier:notifier-leaving").int ?? -1
                    #expect(life > 0 && life <= 500, "the running notifier's heartbeat: \(life) ms")
                    #expect(try await consumers(client) == ["notifier-busy", "notifier-leaving"])
                }
                let pending = try await client.execute("XPENDING", "outbox:pusher", "notifier", "-", "+", 10).array ?? []
                #expect(pending.compactMap { $0.array?.first?.string } == [held])
                #expect(pending.compactMap { $0.array?[1].string } == ["notifier-busy"], "the live replica keeps its entry")
                #expect(stub.received.compactMap { $0.event?.channels.first } == ["presence-enc-goal@sent"])
                #expect(try await consumers(client) == ["notifier-busy"], "the stopped notifier left the group")
                #expect(try await client.execute("EXISTS", "heartbeat:notifier:notifier-leaving").int == 0)
            }
        }
    }

    @Test("a retry that outlasts the heartbeat keeps the entry with its notifier: the heartbeat is kept while it waits")
    func heartbeatThroughRetries() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                // Four failures with 600 ms backoffs: the entry is retried for about 2 s, four heartbeats' life.
                stub.plan(Array(repeating: PlannedAnswer(status: 503, body: "busy"), count: 4), channel: "presence-enc-goal@slow")
                var configuration = configuration(stub)
                configuration.heartbeat = .milliseconds(300)
                configuration.initialBackoff = .milliseconds(600)
                configuration.maxBackoff = .milliseconds(600)
                configuration.maxAttempts = 6
                let entry = try await appendOutbox(client, channel: "presence-enc-goal@slow", event: "goal-ended", data: "{}")
                let replicas = ["one", "two"].map {
                    PusherNotifier(configuration: configuration, redis: .server(server.configuration), consumerName: "notifier-\($0)", logger: testLogger)
                }
                let watcher = server.client(name: "watcher")
                var owners: Set<String> = []
                try await withNotifier(replicas[0]) {
                    try await eventually("the first failure") { stub.received.count >= 1 }
                    try await withNotifier(replicas[1]) {
                        try await eventually("the entry to be sent", within: .seconds(10)) {
                            let pending = try await watcher.execute("XPENDING", "outbox:pusher", "notifier", entry, entry, 1)
                            if let owner = pending.array?.first?.array?[1].string { owners.insert(owner) }
                            return stub.received.contains { $0.status == 200 }
                        }
                        try await eventually("the group to settle") { try await outboxSettled(client) }
                    }
                }
                #expect(owners == ["notifier-one"], "the entry stayed with the replica retrying it")
                #expect(stub.received.map(\.status) == [503, 503, 503, 503, 200], "sent once, after its retries")
            }
        }
    }

    @Test("the outbox is trimmed only below what the notifier group acknowledged, then to bus.stream.keep")
    func trimmedBelowAcknowledged() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                // Small stream nodes, so that approximate trimming is close to exact.
                try await client.execute("CONFIG", "SET", "stream-node-max-entries", "10")
                try await client.execute("XGROUP", "CREATE", "outbox:pusher", "notifier", "0", "MKSTREAM")
                // 30 entries sent and acknowledged long ago, then one held by a live replica.
                for index in 0..<30 { try await appendOutbox(client, channel: "presence-enc-goal@old\(index)", event: "goal-ended", data: "{}") }
                let old = try await client.execute("XREADGROUP", "GROUP", "notifier", "notifier-gone", "COUNT", 30, "STREAMS", "outbox:pusher", ">")
                let oldIDs = old.array?.first?.array?.last?.array?.compactMap { $0.array?.first?.string } ?? []
                try await client.execute(RedisCommand("XACK", arguments: ["outbox:pusher", "notifier"] + oldIDs))
                let held = try await appendOutbox(client, channel: "presence-enc-goal@held", event: "goal-ended", data: "{}")
                try await client.execute("XREADGROUP", "GROUP", "notifier", "notifier-busy", "COUNT", 1, "STREAMS", "outbox:pusher", ">")
                try await client.execute("SET", "heartbeat:notifier:notifier-busy", "1", "PX", 60_000)

                var configuration = configuration(stub)
                configuration.streamKeep = 20
                let notifier = PusherNotifier(configuration: configuration, redis: .server(server.configuration), logger: testLogger)
                try await withNotifier(notifier) {
                    // New entries arrive while it runs, so that its passes learn where the newest 20 begin.
                    for batch in 0..<5 {
                        for index in 0..<20 {
                            try await appendOutbox(client, channel: "presence-enc-goal@new\(batch)-\(index)", event: "goal-ended", data: "{}")
                        }
                        try await Task.sleep(for: .milliseconds(250))
                    }
                    try await eventually("the new entries to be sent") { stub.received.count == 100 }
                    try await eventually("the acknowledged entries below the held one to be trimmed") {
                        (try await client.execute("XLEN", "outbox:pusher").int ?? 0) <= 111
                    }
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(try await client.execute("XRANGE", "outbox:pusher", held, held).array?.count == 1, "the held entry is kept")
                    let first = try await client.execute("XRANGE", "outbox:pusher", "-", "+", "COUNT", 1).array?.first?.array?.first?.string
                    #expect(first.map { oldIDs.prefix(20).contains($0) } == false, "acknowledged entries below it went: first kept \(first ?? "none")")

                    try await client.execute("XACK", "outbox:pusher", "notifier", held)
                    try await eventually("the outbox to be trimmed to bus.stream.keep once all is acknowledged") {
                        (try await client.execute("XLEN", "outbox:pusher").int ?? 0) <= 30
                    }
                }
                #expect((try await client.execute("XLEN", "outbox:pusher").int ?? 0) >= 20, "the newest entries are kept")
            }
        }
    }
}
