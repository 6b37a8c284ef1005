import Foundation
import GoalDomain
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("End to end: the reference flow over HTTP", .serialized)
struct ReferenceFlowTests {
    @Test("occupied at T, vacated at T+400: the goal completes and every goal.ended effect is in place")
    func referenceFlow() async throws {
        try await Stack.with { stack in
            let redis = stack.client()
            let t = Int64(Date().timeIntervalSince1970)
            var spec = GoalSpec(id: "g1")
            spec.sessionID = "s1"
            spec.viewer = "viewer-1"
            spec.amount = 500
            try await GoalStore(redis: redis).create(spec)
            try await redis.execute("SET", "cache:session_token_view:s1", "cached")
            try await redis.execute("SET", "cache:pusher_channel_data:presence-enc-goal@g1", "cached")

            let occupied = try await stack.post(Stack.body("channel_occupied", goal: "g1", atSeconds: t))
            #expect(occupied.0 == 200)
            #expect(occupied.1 == #"{"accepted":1,"ignored":0}"#)
            try await stack.waitFor("the timer to start") { try await redis.execute("HGET", "goal:{g1}", "context.started").string == String(t) }
            let vacated = try await stack.post(Stack.body("channel_vacated", goal: "g1", atSeconds: t + 400))
            #expect(vacated.0 == 200)
            try await stack.waitFor("the goal to end") {
                let snapshots = try await redis.execute("XLEN", "task:StartSnapshot").int
                let active = try await redis.execute("HGET", "goal:{g1}", "active").string
                return snapshots == 1 && active == "0"
            }
            try await stack.waitFor("the sessions group to finish") {
                let duration = try await redis.execute("HGET", "session:{s1}", "viewers.viewer-1.duration").string
                let cached = try await redis.execute("EXISTS", "cache:pusher_channel_data:presence-enc-goal@g1").int
                return duration == "400" && cached == 0
            }

            let goal = try await redis.execute("HGETALL", "goal:{g1}").fieldMap
            #expect(goal["progress"] == "400")
            #expect(goal["level"] == "1")
            #expect(goal["active"] == "0")
            #expect(goal["exp"] == String(t + 400))
            #expect(goal["context.started"] == String(t))
            #expect(goal["context.paused"] == String(t + 400))
            #expect(goal["context.last_updated"] == String(t + 400))

            let session = try await redis.execute("HGETALL", "session:{s1}").fieldMap
            #expect(session == [
                "exclusive_goal_pairs.viewer-1.goal_id": "g1",
                "exclusive_goal_pairs.viewer-1.exclusive_goal_ended": String(t + 400),
                "viewers.viewer-1.duration": "400",
                "viewers.viewer-1.exp": String(t + 400),
                "viewers.viewer-1.nbf": String(t),
            ])
            #expect(try await redis.execute("EXISTS", "cache:session_token_view:s1").int == 0)
            #expect(try await redis.execute("HGET", "escrow:{g1}", "state").string == "held")
            #expect(try await redis.execute("XLEN", "escrow:ledger").int == 1)

            let outbox = try await redis.execute("XRANGE", "outbox:pusher", "-", "+").array ?? []
            #expect(outbox.count == 1)
            let notification = outbox.first?.array?[1].fieldMap ?? [:]
            #expect(notification["channel"] == "presence-enc-goal@g1")
            #expect(notification["event"] == "goal-ended")

            let snapshot = try await redis.execute("XRANGE", "task:StartSnapshot", "-", "+").array?.first?.array?[1].fieldMap ?? [:]
            #expect(snapshot["goal_id"] == "g1")
            #expect(snapshot["session_id"] == "s1")

            for stream in ["signal:channel_occupied", "signal:channel_vacated", "task:increment_goal_progress", "signal:goal.progressed",
                           "signal:goal.completed", "task:deactivate_goal", "signal:goal.ended"] {
                #expect(try await redis.execute("XLEN", stream).int == 1, "\(stream) holds exactly one entry")
            }
            let vacate = try await redis.execute("XRANGE", "signal:channel_vacated", "-", "+").array?.first?.array?[1].fieldMap ?? [:]
            let deactivate = try await redis.execute("XRANGE", "task:deactivate_goal", "-", "+").array?.first?.array?[1].fieldMap ?? [:]
            let ended = try await redis.execute("XRANGE", "signal:goal.ended", "-", "+").array?.first?.array?[1].fieldMap ?? [:]
            #expect(vacate["cause"] == "")
            #expect(vacate["trace"] == vacate["id"])
            #expect(ended["signal"] == "goal.ended")
            #expect(ended["trace"] == vacate["id"])
            #expect(ended["cause"] == deactivate["id"])
            #expect(ended["at_ms"] == String((t + 400) * 1000))
            #expect(ended["active"] == "0")
            #expect(ended["exp"] == String(t + 400))
            #expect(ended["triggerer"] == "")
            #expect(ended["progress"] == "400")
            #expect(ended["levels.0.target"] == "360")

            let counters = try await redis.execute("HGETALL", "tracking:counters").fieldMap
            #expect(counters == ["channel_occupied": "1", "channel_vacated": "1", "goal.progressed": "1", "goal.completed": "1", "goal.ended": "1"])

            // The trace of the vacate chain, read back from the groups' done markers, lists every receiver of the
            // seed with its outcome: channel_vacated 4, increment_goal_progress 1, goal.progressed 7, goal.completed 8,
            // deactivate_goal 1, goal.ended 11, StartSnapshot 1.
            let receiverCount = 4 + 1 + 7 + 8 + 1 + 11 + 1
            let groups = Catalogue.groups().map(\.name)
            try await stack.waitFor("the trace to be complete") {
                try await ChainTrace.records(trace: vacate["id"]!, groups: groups, redis: redis).count == receiverCount
            }
            let records = try await ChainTrace.records(trace: vacate["id"]!, groups: groups, redis: redis)
            #expect(records.filter { $0.signal == "goal.ended" }.count == 11)
            let outcomes = Set(records.map { "\($0.signal) \($0.receiver) \($0.acted ? "acted" : "returned")" })
            for expected in [
                "channel_vacated trigger_online returned", "channel_vacated trigger_user_enter returned",
                "channel_vacated track_channel_presence acted", "channel_vacated karaoke_control acted",
                "goal.progressed trigger_goal_complete acted", "goal.progressed trigger_exclusive_goal_escrow_refund returned",
                "goal.completed trigger_exclusive_escrow_transfer returned", "goal.completed deactivate_goal acted",
                "goal.ended snapshot_rtc_sources acted", "goal.ended set_embedded_goal_ended acted",
                "goal.ended trigger_exclusive_goal_escrow_refund returned", "goal.ended notify_goal_ended acted",
            ] {
                #expect(outcomes.contains(expected), "trace has \(expected)")
            }

            // The metrics of the run, as Prometheus scrapes them.
            let gatewayMetrics = try await stack.get("/metrics").1
            #expect(gatewayMetrics.contains(#"webhook_events_total{name="channel_vacated",outcome="accepted"} 1"#))
            #expect(gatewayMetrics.contains(#"gateway_requests_total{status="200"} "#))
            let karaokeMetrics = try await stack.get("/metrics", from: "karaoke").1
            #expect(karaokeMetrics.contains(#"receiver_outcomes_total{group="karaoke",receiver="karaoke_control",outcome="acted",reason=""} 1"#))
            #expect(karaokeMetrics.contains(#"receiver_outcomes_total{group="karaoke",receiver="trigger_online",outcome="returned",reason="acts on channel_occupied"} 1"#))
            #expect(karaokeMetrics.contains(#"handler_duration_seconds_count{group="karaoke",stream="signal:channel_vacated"} 1"#))
            // The lag gauge is measured once a second: wait for a measurement taken after the vacate was read.
            try await stack.waitFor("karaoke's lag gauge at 0", timeout: .seconds(5)) {
                try await stack.get("/metrics", from: "karaoke").1.contains(#"group_lag{group="karaoke",stream="signal:channel_vacated"} 0"#)
            }
            let escrowMetrics = try await stack.get("/metrics", from: "escrow").1
            #expect(escrowMetrics.contains(#"receiver_outcomes_total{group="escrow",receiver="trigger_exclusive_goal_escrow_refund",outcome="returned",reason="progress ≥ target"} 1"#))
            for service in ["karaoke", "goals", "sessions", "escrow", "tracking"] {
                #expect(try await stack.get("/health", from: service).0 == 200)
                #expect(try await stack.get("/ready", from: service).0 == 200)
            }

            let statuses = await stack.stop()
            #expect(statuses == Dictionary(uniqueKeysWithValues: Stack.services.map { ($0, 0) }))
        }
    }

    @Test("a goal that expires short of its target is refunded exactly once")
    func expiryRefund() async throws {
        try await Stack.with(extraEnvironment: ["EXPIRY_SWEEP_SECONDS": "1"]) { stack in
            let redis = stack.client()
            let t = Int64(Date().timeIntervalSince1970) - 300
            var spec = GoalSpec(id: "short")
            spec.sessionID = "s2"
            spec.viewer = "viewer-2"
            spec.amount = 700
            try await GoalStore(redis: redis).create(spec)
            _ = try await stack.post(Stack.body("channel_occupied", goal: "short", atSeconds: t))
            try await stack.waitFor("the timer to start") { try await redis.execute("HGET", "goal:{short}", "context.started").string == String(t) }
            _ = try await stack.post(Stack.body("channel_vacated", goal: "short", atSeconds: t + 100))
            try await stack.waitFor("the progress") { try await redis.execute("HGET", "goal:{short}", "progress").string == "100" }
            // Its exp, already past, is written as an operator would with redis-cli: the hash and the index.
            try await redis.execute("HSET", "goal:{short}", "exp", Int(t + 250))
            try await redis.execute("ZADD", "goals:expiring", Int(t + 250), "short")
            try await stack.waitFor("the refund") { try await redis.execute("HGET", "escrow:{short}", "state").string == "refunded" }

            let goal = try await redis.execute("HGETALL", "goal:{short}").fieldMap
            #expect(goal["progress"] == "100")
            #expect(goal["level"] == "0")
            #expect(goal["active"] == "0")
            #expect(goal["exp"] == String(t + 250))
            let ended = try await redis.execute("XRANGE", "signal:goal.ended", "-", "+").array ?? []
            #expect(ended.count == 1)
            #expect(ended.first?.array?[1].fieldMap["triggerer"] == "expiry")
            let ledger = (try await redis.execute("XRANGE", "escrow:ledger", "-", "+").array ?? []).map { $0.array?[1].fieldMap ?? [:] }
            #expect(ledger.map { $0["to"] ?? "" } == ["held", "refunded"])
            #expect(ledger.last?["amount"] == "700")
            #expect(try await redis.execute("ZCARD", "goals:expiring").int == 0)

            // Ending again (an operator, or a second sweep) changes nothing.
            try await redis.execute("ZADD", "goals:expiring", Int(t + 250), "short")
            try await stack.waitFor("the second sweep") { try await redis.execute("ZCARD", "goals:expiring").int == 0 }
            try await stack.waitFor("the deactivate task to be handled") {
                let pending = try await redis.execute("XPENDING", "task:deactivate_goal", "goals").array?.first?.int
                return pending == 0
            }
            #expect(try await redis.execute("XLEN", "signal:goal.ended").int == 1)
            #expect(try await redis.execute("XLEN", "escrow:ledger").int == 2)
        }
    }
}
