import Foundation
import GoalDomain
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("Flow edges: crashed replicas, settled escrow, shared sessions, retention")
struct EdgeFlowTests {
    let channel = "presence-enc-goal@g1"

    @Test("a vacate read by a karaoke replica that died is claimed by a live one and counted once")
    func crashedKaraokeReplica() async throws {
        try await withRedisServer { server in
            let client = server.client()
            var spec = referenceSpec()
            spec.targets = [1000]
            try await GoalStore(redis: client).create(spec)
            let publisher = Publisher(redis: client, configuration: tracedConfiguration)
            try await withFlow(server) {
                _ = try await publisher.publish([webhook(Topics.channelOccupied, id: "evt-occupied", at: T, channel: channel)])
                try await waitSettled(client)
            }
            // With no consumer running, a replica reads the vacate and dies before acknowledging it.
            _ = try await publisher.publish([webhook(Topics.channelVacated, id: "evt-vacated", at: T + 400, channel: channel)])
            let read = try await client.execute(
                "XREADGROUP", "GROUP", "karaoke", "karaoke-dead", "COUNT", 10, "STREAMS", Topics.channelVacated.key, ">"
            )
            #expect(read.array?.first?.array?.last?.array?.count == 1)
            try await withFlow(server) {
                try await eventually("the vacate to be claimed and counted", within: .seconds(15)) {
                    try await client.execute("HGET", "goal:{g1}", "progress").string == "400"
                }
                try await waitSettled(client)
            }
            let increments = try await integer(client, "XLEN", "task:increment_goal_progress")
            #expect(increments == 1)
            let pending = try await client.execute("XPENDING", Topics.channelVacated.key, "karaoke").array?.first?.int
            #expect(pending == 0)
            let karaoke = try await traceRecords(client, "evt-vacated").filter { $0.group == "karaoke" && $0.message == "evt-vacated" }
            #expect(karaoke.map(\.receiver) == ["trigger_online", "trigger_user_enter", "karaoke_control"])
        }
    }

    @Test("an escrow already transferred is never refunded, even when the goal ends short of its target")
    func transferredEscrowIsFinal() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await GoalStore(redis: client).create(referenceSpec(exp: T + 200))
            try await client.execute("HSET", "escrow:{g1}", "state", "transferred")
            try await withFlow(server) {
                let swept = try await ExpirySweep.sweep(redis: client, bus: tracedConfiguration, nowMs: (T + 300) * 1000)
                #expect(swept == 1)
                try await eventually("the goal to end") { try await client.execute("HGET", "goal:{g1}", "active").string == "0" }
                try await waitSettled(client)
            }
            let state = try await client.execute("HGET", "escrow:{g1}", "state").string
            #expect(state == "transferred")
            let ledger = try await streamEntries(client, "escrow:ledger")
            #expect(ledger.map { $0["to"] } == ["held"])
            let ended = try #require(try await streamEntries(client, "signal:goal.ended").first)
            let refund = try await traceRecords(client, ended["trace"]!).first { $0.receiver == "trigger_exclusive_goal_escrow_refund" && $0.message == ended["id"] }
            #expect(refund?.acted == false)
            #expect(refund?.reason == "escrow already transferred")
        }
    }

    @Test("a goal that ends after the viewer's pair moved to a newer goal leaves the pair alone")
    func pairOfAnotherGoal() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let store = GoalStore(redis: client)
            try await store.create(referenceSpec(id: "g1", exp: T + 200))
            try await store.create(referenceSpec(id: "g2"))
            try await withFlow(server) {
                _ = try await ExpirySweep.sweep(redis: client, bus: tracedConfiguration, nowMs: (T + 300) * 1000)
                try await eventually("g1 to end") { try await client.execute("HGET", "goal:{g1}", "active").string == "0" }
                try await waitSettled(client)
            }
            let session = try await hashFields(client, "session:{s1}")
            #expect(session["exclusive_goal_pairs.v1.goal_id"] == "g2")
            #expect(session["exclusive_goal_pairs.v1.exclusive_goal_ended"] == nil)
            #expect(session["status.exclusive_to"] == "v1")
            let g2 = try await hashFields(client, "goal:{g2}")
            #expect(g2["active"] == "1")
            let ended = try #require(try await streamEntries(client, "signal:goal.ended").first)
            let pair = try await traceRecords(client, ended["trace"]!).first { $0.receiver == "set_embedded_goal_ended" && $0.message == ended["id"] }
            #expect(pair?.acted == false)
            #expect(pair?.reason == "the session's exclusive pair is another goal's")
        }
    }

    @Test("pairs that ended longer ago than the retention (24 h from the chain's now) are removed; younger ones stay")
    func pairRetention() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await GoalStore(redis: client).create(referenceSpec())
            let now = T + 400
            try await client.execute(
                "HSET", "session:{s1}",
                "exclusive_goal_pairs.v0.goal_id", "g0", "exclusive_goal_pairs.v0.exclusive_goal_ended", String(now - 86_401),
                "exclusive_goal_pairs.v9.goal_id", "g9", "exclusive_goal_pairs.v9.exclusive_goal_ended", String(now - 86_400)
            )
            try await withFlow(server) {
                let publisher = Publisher(redis: client, configuration: tracedConfiguration)
                _ = try await publisher.publish([webhook(Topics.channelOccupied, id: "evt-occupied", at: T, channel: channel)])
                _ = try await publisher.publish([webhook(Topics.channelVacated, id: "evt-vacated", at: now, channel: channel)])
                try await eventually("the goal to end") { try await client.execute("HGET", "goal:{g1}", "active").string == "0" }
                try await waitSettled(client)
            }
            let session = try await hashFields(client, "session:{s1}")
            #expect(session == [
                "exclusive_goal_pairs.v1.goal_id": "g1", "exclusive_goal_pairs.v1.exclusive_goal_ended": "\(now)",
                "exclusive_goal_pairs.v9.goal_id": "g9", "exclusive_goal_pairs.v9.exclusive_goal_ended": "\(now - 86_400)",
                "viewers.v1.duration": "400", "viewers.v1.exp": "\(now)", "viewers.v1.nbf": "\(T)",
            ])
        }
    }

    @Test("a goal with two levels completes and ends at its first level increase")
    func twoLevels() async throws {
        try await withRedisServer { server in
            let client = server.client()
            var spec = referenceSpec()
            spec.targets = [100, 300]
            try await GoalStore(redis: client).create(spec)
            try await withFlow(server) {
                let publisher = Publisher(redis: client, configuration: tracedConfiguration)
                _ = try await publisher.publish([webhook(Topics.channelOccupied, id: "evt-occupied", at: T, channel: channel)])
                _ = try await publisher.publish([webhook(Topics.channelVacated, id: "evt-vacated", at: T + 150, channel: channel)])
                try await eventually("the goal to end") { try await client.execute("HGET", "goal:{g1}", "active").string == "0" }
                try await waitSettled(client)
            }
            let goal = try await hashFields(client, "goal:{g1}")
            #expect(goal["progress"] == "150")
            #expect(goal["level"] == "1")
            #expect(goal["levels.1.target"] == "300")
            let completed = try #require(try await streamEntries(client, "signal:goal.completed").first)
            #expect(completed["levels.0.target"] == "100" && completed["levels.1.target"] == "300")
            let progressed = try #require(try await streamEntries(client, "signal:goal.progressed").first)
            #expect(progressed["level"] == "1" && progressed["old_level"] == "0")
            // Progress passed levels.0.target, so no refund.
            let state = try await client.execute("HGET", "escrow:{g1}", "state").string
            #expect(state == "held")
        }
    }
}
