import Foundation
import Notifier
import Redis
import RedisTestSupport
import Testing

@Suite("Recovery: entries left pending by a dead consumer")
struct RecoveryTests {
    @Test("pending entries of a dead consumer are claimed after the idle time and sent; one out of attempts is dead-lettered")
    func claimsFromDeadConsumer() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                try await client.execute("XGROUP", "CREATE", "outbox:pusher", "notifier", "0", "MKSTREAM")
                let first = try await appendOutbox(client, channel: "presence-enc-goal@a", event: "goal-ended", data: "{}")
                let second = try await appendOutbox(client, channel: "presence-enc-goal@b", event: "goal-ended", data: "{}")
                let worn = try await appendOutbox(client, channel: "presence-enc-goal@c", event: "goal-ended", data: "{}")
                // A consumer reads all three and dies; the third had already been delivered 3 times.
                try await client.execute("XREADGROUP", "GROUP", "notifier", "ghost", "COUNT", 10, "STREAMS", "outbox:pusher", ">")
                try await client.execute("XCLAIM", "outbox:pusher", "notifier", "ghost", 0, worn, "RETRYCOUNT", 3)
                try await client.execute("HSET", "errors:notifier", "outbox:pusher \(worn)", "Pusher answered 500: oops")

                var configuration = fastConfiguration(stub, maxAttempts: 3)
                configuration.claimIdle = .milliseconds(400)
                configuration.requestTimeout = .seconds(1)
                configuration.maxBackoff = .milliseconds(50)
                let started = ContinuousClock.now
                try await withNotifier(PusherNotifier(configuration: configuration, redis: .server(server.configuration), logger: testLogger)) {
                    try await eventually("the dead consumer's entries to be settled") { try await outboxSettled(client) }
                }
                #expect(ContinuousClock.now - started >= .milliseconds(300), "nothing is claimed before the idle time")
                let channels = stub.received.compactMap { $0.event?.channels.first }
                #expect(channels == ["presence-enc-goal@a", "presence-enc-goal@b"])
                #expect(stub.received.allSatisfy { $0.authProblem == nil && $0.status == 200 })
                let dead = try await outboxEntries(client, "dead:outbox:pusher")
                #expect(dead.map { $0.fields["dead.entry"] } == [worn])
                #expect(dead.first?.fields["dead.deliveries"] == "3")
                #expect(dead.first?.fields["dead.error"] == "Pusher answered 500: oops", "the dead consumer's last error")
                #expect(try await pendingCount(client) == 0)
                _ = (first, second)
            }
        }
    }

    @Test("two replicas: an entry retried for longer than the claim idle time stays with its replica; each entry is sent once")
    func retriesKeepTheClaim() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                // The first entry fails five times, each answer taking 150 ms: with 600 ms backoffs its retries
                // last about 3.9 s, twice the claim idle time. The replica renews its claim before each retry,
                // 750 ms apart: the 1,250 ms left before the idle time holds through a busy machine's stalls
                // (750 ms did not, once, with the whole suite running on two cores).
                stub.plan(
                    Array(repeating: PlannedAnswer(status: 503, body: "busy", delay: .milliseconds(150)), count: 5)
                        + [PlannedAnswer(status: 200, delay: .milliseconds(150))],
                    channel: "presence-enc-goal@r0"
                )
                var configuration = fastConfiguration(stub, maxAttempts: 7)
                configuration.claimIdle = .milliseconds(2_000)
                configuration.initialBackoff = .milliseconds(600)
                configuration.maxBackoff = .milliseconds(600)
                configuration.batchSize = 4
                let channels = (0..<8).map { "presence-enc-goal@r\($0)" }
                var entries: [String] = []
                for channel in channels {
                    entries.append(try await appendOutbox(client, channel: channel, event: "goal-ended", data: "{}"))
                }
                let watcher = server.client(name: "watcher")
                var owners: Set<String> = []
                let replicas = ["one", "two"].map {
                    PusherNotifier(configuration: configuration, redis: .server(server.configuration), consumerName: "notifier-\($0)", logger: testLogger)
                }
                try await withNotifier(replicas[0]) {
                    try await eventually("the first failure") { stub.received.count >= 1 }
                    try await withNotifier(replicas[1]) {
                        try await eventually("every entry to be sent", within: .seconds(20)) {
                            let pending = try await watcher.execute("XPENDING", "outbox:pusher", "notifier", entries[0], entries[0], 1)
                            if let owner = pending.array?.first?.array?[1].string { owners.insert(owner) }
                            return try await outboxSettled(client)
                        }
                        try await Task.sleep(for: .milliseconds(600))
                    }
                }
                let delivered = stub.received.filter { $0.status == 200 }.compactMap { $0.event?.channels.first }
                #expect(delivered.sorted() == channels.sorted(), "every entry sent once, none twice")
                #expect(stub.received.filter { $0.status == 503 }.count == 5)
                #expect(owners == ["notifier-one"], "the entry stays with the replica retrying it")
                #expect(try await client.execute("XLEN", "dead:outbox:pusher").int == 0)
                #expect(try await pendingCount(client) == 0)
            }
        }
    }

    @Test("the group is created when missing, and an existing group is reused")
    func groupCreation() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                let notifier = PusherNotifier(configuration: fastConfiguration(stub), redis: .server(server.configuration), logger: testLogger)
                try await withNotifier(notifier) {
                    try await eventually("the group to exist") {
                        (try? await client.execute("XINFO", "GROUPS", "outbox:pusher").array?.count) == 1
                    }
                }
                try await appendOutbox(client, channel: "presence-enc-goal@again", event: "goal-ended", data: "{}")
                try await withNotifier(notifier) {
                    try await eventually("the entry appended while stopped to be sent") { try await outboxSettled(client) }
                }
                #expect(stub.received.count == 1)
                let groups = try await client.execute("XINFO", "GROUPS", "outbox:pusher").array?.map(\.pairs) ?? []
                #expect(groups.compactMap { $0["name"]?.string } == ["notifier"])
            }
        }
    }

    @Test("after Redis loses its data the group is created again and sending goes on")
    func groupLost() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                try await withNotifier(PusherNotifier(configuration: fastConfiguration(stub), redis: .server(server.configuration), logger: testLogger)) {
                    try await appendOutbox(client, channel: "presence-enc-goal@before", event: "goal-ended", data: "{}")
                    try await eventually("the first entry to be sent") { stub.received.count == 1 }
                    try await client.execute("FLUSHALL")
                    try await appendOutbox(client, channel: "presence-enc-goal@after", event: "goal-ended", data: "{}")
                    try await eventually("the entry after the flush to be sent", within: .seconds(10)) { stub.received.count == 2 }
                }
                #expect(stub.received.compactMap { $0.event?.channels.first } == ["presence-enc-goal@before", "presence-enc-goal@after"])
            }
        }
    }
}
