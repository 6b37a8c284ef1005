import Foundation
import GoalDomain
import Redis
import RedisTestSupport
import SignalBus
import Testing

// guide:test
@Suite("The guide's example receiver: track_goal_ended_short")
struct EndedShortReceiverTests {
    /// Runs one consumer of each of `groups` while `body` runs.
    func withGroups(_ groups: [ReceiverGroup], _ server: RedisTestServer, _ body: () async throws -> Void) async throws {
        let consumers = groups.map { GroupConsumer(group: $0, redis: .server(server.configuration), configuration: fastConfiguration(), logger: testLogger) }
        try await withServices(consumers.map { consumer in { try await consumer.run() } }, body)
    }

    @Test("a goal that expires short of its target is counted once, and the trace shows the receiver acting")
    func countsAShortEnd() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await GoalStore(redis: client).create(referenceSpec(exp: T + 200))
            try await withGroups(extendedGroups, server) {
                #expect(try await ExpirySweep.sweep(redis: client, bus: tracedConfiguration, nowMs: (T + 300) * 1000) == 1)
                try await eventually("the tracking group to count the short end") {
                    try await client.execute("HGET", "tracking:counters", "goal.ended.short").string == "1"
                }
                try await waitSettled(client)
            }
            let ended = try #require(try await streamEntries(client, "signal:goal.ended").first)
            let record = try await traceRecords(client, ended["trace"]!).first { $0.receiver == "track_goal_ended_short" }
            #expect(record?.group == "tracking")
            #expect(record?.acted == true)
            #expect(record?.writes == ["HINCRBY tracking:counters goal.ended.short 1"])
        }
    }

    @Test("a goal that reached its target returns with the reason, and counts nothing")
    func returnsWhenTheTargetWasReached() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await GoalStore(redis: client).create(referenceSpec())
            let publisher = Publisher(redis: client, configuration: tracedConfiguration)
            let channel = "presence-enc-goal@g1"
            try await withGroups(extendedGroups, server) {
                _ = try await publisher.publish([webhook(Topics.channelOccupied, id: "evt-occupied", at: T, channel: channel)])
                try await waitSettled(client)
                _ = try await publisher.publish([webhook(Topics.channelVacated, id: "evt-vacated", at: T + 400, channel: channel)])
                try await eventually("the goal to end") { try await client.execute("HGET", "goal:{g1}", "active").string == "0" }
                try await waitSettled(client)
            }
            #expect(try await client.execute("HEXISTS", "tracking:counters", "goal.ended.short").int == 0)
            let record = try await traceRecords(client, "evt-vacated").first { $0.receiver == "track_goal_ended_short" }
            #expect(record?.acted == false)
            #expect(record?.reason == "reached its target")
        }
    }

    @Test("a goal.ended delivered to a tracking replica that died is taken over and counted once")
    func redeliveryCountsOnce() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await GoalStore(redis: client).create(referenceSpec(exp: T + 200))
            try await client.execute("XGROUP", "CREATE", Topics.goalEnded.key, "tracking", "0", "MKSTREAM")
            // The goal ends while no tracking replica runs.
            try await withGroups(extendedGroups.filter { $0.name != "tracking" }, server) {
                _ = try await ExpirySweep.sweep(redis: client, bus: tracedConfiguration, nowMs: (T + 300) * 1000)
                try await eventually("goal.ended") { try await integer(client, "XLEN", Topics.goalEnded.key) == 1 }
            }
            // A tracking replica reads it and dies before committing.
            _ = try await client.execute("XREADGROUP", "GROUP", "tracking", "tracking-dead", "COUNT", 10, "STREAMS", Topics.goalEnded.key, ">")
            try await withGroups(extendedGroups, server) {
                try await eventually("the entry to be taken over and counted", within: .seconds(20)) {
                    try await client.execute("HGET", "tracking:counters", "goal.ended.short").string == "1"
                }
                try await waitSettled(client)
            }
            #expect(try await client.execute("HGET", "tracking:counters", "goal.ended.short").string == "1")
            #expect(try await client.execute("XPENDING", Topics.goalEnded.key, "tracking").array?.first?.int == 0)
        }
    }
}
// guide:end
