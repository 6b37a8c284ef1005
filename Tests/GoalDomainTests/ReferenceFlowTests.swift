import Foundation
import GoalDomain
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("The reference flow, in process")
struct ReferenceFlowTests {
    let channel = "presence-enc-goal@g1"

    @Test("occupied at T, vacated at T+400: progress, completion, deactivation and every side effect, exactly once")
    func referenceFlow() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await GoalStore(redis: client).create(referenceSpec())
            try await client.execute("SET", "cache:session_token_view:s1", "cached-view")
            try await client.execute("SET", "cache:pusher_channel_data:\(channel)", "cached-channel")
            let occupy = webhook(Topics.channelOccupied, id: "evt-occupied", at: T, channel: channel)
            let vacate = webhook(Topics.channelVacated, id: "evt-vacated", at: T + 400, channel: channel)

            try await withFlow(server) {
                let publisher = Publisher(redis: client, configuration: tracedConfiguration)
                _ = try await publisher.publish([occupy])
                _ = try await publisher.publish([vacate])
                try await eventually("the goal to end") {
                    try await client.execute("HGET", "goal:{g1}", "active").string == "0"
                }
                try await waitSettled(client)
            }

            // The goal.
            let goal = try await hashFields(client, "goal:{g1}")
            #expect(goal == [
                "_cls": "ExclusiveGoal", "active": "0", "progress": "400", "level": "1", "levels.0.target": "360",
                "breakdown_id": "", "conditions": "{}", "metadata": "{}", "exclusive_to": "v1", "session_id": "s1",
                "exp": "\(T + 400)", "context.started": "\(T)", "context.paused": "\(T + 400)", "context.last_updated": "\(T + 400)",
            ])

            // The session: the viewer's window, the pair ended, no longer exclusive.
            let session = try await hashFields(client, "session:{s1}")
            #expect(session == [
                "exclusive_goal_pairs.v1.goal_id": "g1", "exclusive_goal_pairs.v1.exclusive_goal_ended": "\(T + 400)",
                "viewers.v1.duration": "400", "viewers.v1.exp": "\(T + 400)", "viewers.v1.nbf": "\(T)",
            ])
            let caches = try await integer(client, "EXISTS", "cache:session_token_view:s1", "cache:pusher_channel_data:\(channel)")
            #expect(caches == 0)

            // Escrow: the goal reached its target, so no refund; completion moves no money.
            let escrow = try await hashFields(client, "escrow:{g1}")
            #expect(escrow == ["state": "held", "amount": "500", "payer": "v1", "payee": ""])
            let ledger = try await streamEntries(client, "escrow:ledger")
            #expect(ledger.map { $0["to"] } == ["held"])

            // One message on each stream of the chain.
            let counts = try await lengths(client, [
                "signal:channel_occupied", "signal:channel_vacated", "task:increment_goal_progress", "signal:goal.progressed",
                "signal:goal.completed", "task:deactivate_goal", "signal:goal.ended", "task:StartSnapshot",
            ])
            #expect(counts.values.allSatisfy { $0 == 1 }, "\(counts)")

            // Envelopes: ids derived from the cause, every message's cause its parent, the trace and time the root's.
            let increment = try #require(try await streamEntries(client, "task:increment_goal_progress").first)
            let progressed = try #require(try await streamEntries(client, "signal:goal.progressed").first)
            let completed = try #require(try await streamEntries(client, "signal:goal.completed").first)
            let deactivate = try #require(try await streamEntries(client, "task:deactivate_goal").first)
            let ended = try #require(try await streamEntries(client, "signal:goal.ended").first)
            let snapshotTask = try #require(try await streamEntries(client, "task:StartSnapshot").first)
            let chain = [increment, progressed, completed, deactivate, ended]
            #expect(chain.map { $0["cause"] } == ["evt-vacated", increment["id"], progressed["id"], completed["id"], deactivate["id"]])
            #expect((chain + [snapshotTask]).allSatisfy { $0["trace"] == "evt-vacated" && $0["at_ms"] == "\((T + 400) * 1000)" })
            #expect(chain.map { $0["signal"] } == ["increment_goal_progress", "goal.progressed", "goal.completed", "deactivate_goal", "goal.ended"])
            #expect(increment["id"] == MessageID.derived(cause: "evt-vacated", group: "karaoke", receiver: "karaoke_control", topic: Topics.incrementGoalProgress, index: 0))
            #expect(ended["id"] == MessageID.derived(cause: deactivate["id"]!, group: "goals", receiver: "deactivate_goal", topic: Topics.goalEnded, index: 0))
            #expect(Array(ended.fields.prefix(10)) == [
                "id", ended["id"]!, "signal", "goal.ended", "at_ms", "\((T + 400) * 1000)", "cause", deactivate["id"]!, "trace", "evt-vacated",
            ])

            // Payloads.
            #expect(increment.map == [
                "id": increment["id"]!, "signal": "increment_goal_progress", "at_ms": "\((T + 400) * 1000)", "cause": "evt-vacated",
                "trace": "evt-vacated", "traced": "1", "goal_id": "g1", "amount": "400",
            ])
            #expect(progressed["goal_id"] == "g1" && progressed["_cls"] == "ExclusiveGoal")
            #expect(progressed["amount"] == "400" && progressed["progress"] == "400")
            #expect(progressed["level"] == "1" && progressed["old_level"] == "0" && progressed["levels.0.target"] == "360")
            #expect(progressed["context.started"] == "\(T)" && progressed["context.paused"] == "\(T + 400)")
            #expect(progressed["context.last_updated"] == "\(T + 400)")
            #expect(Set(progressed.map.keys).isSuperset(of: [
                "goal_id", "_cls", "amount", "conditions", "context.started", "context.paused", "context.last_updated", "progress",
                "breakdown_id", "levels.0.target", "metadata", "exp", "level", "old_level",
            ]))
            #expect(completed["goal_id"] == "g1" && completed["progress"] == "400" && completed["level"] == "1")
            #expect(Set(completed.map.keys).isSuperset(of: [
                "goal_id", "_cls", "conditions", "context.started", "context.paused", "context.last_updated", "progress", "level",
                "levels.0.target", "metadata",
            ]))
            #expect(deactivate["goal_id"] == "g1" && deactivate["triggerer"] == "")
            #expect(ended["goal_id"] == "g1" && ended["_cls"] == "ExclusiveGoal" && ended["active"] == "0")
            #expect(ended["progress"] == "400" && ended["levels.0.target"] == "360" && ended["exp"] == "\(T + 400)")
            #expect(ended["triggerer"] == "" && ended["context.started"] == "\(T)" && ended["context.paused"] == "\(T + 400)")
            #expect(ended["conditions"] == "{}" && ended["metadata"] == "{}")
            #expect(snapshotTask["goal_id"] == "g1" && snapshotTask["session_id"] == "s1")
            #expect(snapshotTask["cause"] == ended["id"])

            // The client notification.
            let outbox = try await streamEntries(client, "outbox:pusher")
            #expect(outbox.count == 1)
            #expect(outbox.first?["event"] == "goal-ended")
            #expect(outbox.first?["channel"] == channel)
            let data = try #require(outbox.first?["data"])
            let notification = try JSONDecoder().decode([String: String].self, from: Data(data.utf8))
            #expect(notification["goal_id"] == "g1" && notification["progress"] == "400" && notification["exp"] == "\(T + 400)")

            // Tracking.
            let counters = try await hashFields(client, "tracking:counters")
            #expect(counters == [
                "channel_occupied": "1", "channel_vacated": "1", "goal.progressed": "1", "goal.completed": "1", "goal.ended": "1",
            ])
            let events = try await streamEntries(client, "tracking:events")
            #expect(events.map { $0["event"] ?? "" }.sorted() == ["channel_occupied", "channel_vacated", "goal.completed", "goal.ended", "goal.progressed"])

            // Traces: who acted and who returned, and why.
            let records = try await traceRecords(client, "evt-vacated")
            let karaoke = records.filter { $0.message == "evt-vacated" && $0.group == "karaoke" }
            #expect(karaoke.map(\.receiver) == ["trigger_online", "trigger_user_enter", "karaoke_control"])
            #expect(karaoke.map(\.acted) == [false, false, true])
            #expect(karaoke.first?.reason == "acts on channel_occupied")
            #expect(karaoke.last?.published.map(\.id) == [increment["id"]!])
            #expect(karaoke.last?.writes == ["max goal:{g1} context.last_updated \(T + 400)", "max goal:{g1} context.paused \(T + 400)"])
            let presence = records.filter { $0.message == "evt-vacated" && $0.group == "tracking" }
            #expect(presence.map(\.receiver) == ["track_channel_presence"])
            let refund = records.first { $0.message == ended["id"] && $0.receiver == "trigger_exclusive_goal_escrow_refund" }
            #expect(refund?.acted == false)
            #expect(refund?.reason == "progress ≥ target")
            let completion = records.first { $0.message == progressed["id"] && $0.receiver == "trigger_goal_complete" }
            #expect(completion?.acted == true)
            #expect(completion?.published.map(\.id) == [completed["id"]!])
            // Every record of the chain is there once: one per receiver per message per group.
            let keys = records.map { "\($0.message)|\($0.group)|\($0.receiver)" }
            #expect(Set(keys).count == keys.count)
            let occupiedRecords = try await traceRecords(client, "evt-occupied")
            let online = occupiedRecords.first { $0.receiver == "trigger_online" }
            #expect(online?.acted == true)
            #expect(online?.writes.contains("HSET goal:{g1} context.started=\(T)") == true)
            #expect(online?.writes.contains("max goal:{g1} context.last_updated \(T)") == true)

            // Nothing pending, nothing dead, no errors.
            let keysNow = try await allKeys(client)
            #expect(keysNow.filter { $0.hasPrefix("dead:") || $0.hasPrefix("errors:") }.isEmpty)
            let indexed = try await client.execute("ZRANGE", "traces:{g1}", 0, -1).array?.compactMap(\.string).sorted()
            #expect(indexed == ["evt-occupied", "evt-vacated"])
        }
    }

    @Test("short of target the goal stays active; the expiry sweep ends it, refunds once, and sweeping or redelivering again changes nothing")
    func shortOfTargetThenExpiry() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await GoalStore(redis: client).create(referenceSpec(exp: T + 200))
            var before: [String: [String]] = [:]
            try await withFlow(server) {
                let publisher = Publisher(redis: client, configuration: tracedConfiguration)
                _ = try await publisher.publish([webhook(Topics.channelOccupied, id: "evt-occupied", at: T, channel: channel)])
                _ = try await publisher.publish([webhook(Topics.channelVacated, id: "evt-vacated", at: T + 100, channel: channel)])
                try await eventually("progress 100") {
                    try await client.execute("HGET", "goal:{g1}", "progress").string == "100"
                }
                try await waitSettled(client)

                let running = try await hashFields(client, "goal:{g1}")
                #expect(running["progress"] == "100")
                #expect(running["level"] == "0")
                #expect(running["active"] == "1")
                #expect(running["exp"] == "\(T + 200)")
                #expect(running["context.paused"] == "\(T + 100)")
                let early = try await lengths(client, ["signal:goal.progressed", "signal:goal.completed", "task:deactivate_goal", "signal:goal.ended"])
                #expect(early == ["signal:goal.progressed": 1, "signal:goal.completed": 0, "task:deactivate_goal": 0, "signal:goal.ended": 0])
                let held = try await client.execute("HGET", "escrow:{g1}", "state").string
                #expect(held == "held")
                let notDue = try await ExpirySweep.sweep(redis: client, bus: tracedConfiguration, nowMs: (T + 199) * 1000)
                #expect(notDue == 0)

                // The sweep at T+300 ends it.
                let due = try await ExpirySweep.sweep(redis: client, bus: tracedConfiguration, nowMs: (T + 300) * 1000)
                #expect(due == 1)
                try await eventually("the goal to end") {
                    try await client.execute("HGET", "goal:{g1}", "active").string == "0"
                }
                try await waitSettled(client)
                before = try await snapshot(client, skip: ["task:deactivate_goal", "signal:goal.ended"])

                // Sweeping again finds nothing; an operator re-indexing the goal makes the sweep send the task
                // again, which its dedup key recognises (nothing stored). A goal.ended copied onto the stream by
                // hand is a new message: every group handles it, and the escrow, already refunded, is not
                // refunded again.
                let again = try await ExpirySweep.sweep(redis: client, bus: tracedConfiguration, nowMs: (T + 400) * 1000)
                #expect(again == 0)
                try await client.execute("ZADD", "goals:expiring", Int(T + 200), "g1")
                let resent = try await ExpirySweep.sweep(redis: client, bus: tracedConfiguration, nowMs: (T + 500) * 1000)
                #expect(resent == 1)
                let endedCopy = try #require(try await streamEntries(client, "signal:goal.ended").first)
                try await client.execute(RedisCommand("XADD", arguments: ["signal:goal.ended", "*"] + endedCopy.fields))
                try await waitSettled(client)
            }

            // Besides what the copy was handled for (its notification, snapshot, tracking and trace entries), and
            // the replicas' heartbeats, gone with them, nothing moved.
            let handledAgain = { (key: String) in
                ["outbox:pusher", "outbox:rtc", "task:StartSnapshot", "tracking:events", "tracking:counters"].contains(key)
                    || key.hasPrefix("trace:") || key.hasPrefix("heartbeat:")
            }
            let after = try await snapshot(client, skip: ["task:deactivate_goal", "signal:goal.ended"]).filter { !handledAgain($0.key) }
            let kept = before.filter { !handledAgain($0.key) }
            #expect(after == kept, "changed: \(Set(after.keys).union(kept.keys).filter { after[$0] != kept[$0] }.sorted())")
            let inputs = try await lengths(client, ["task:deactivate_goal", "signal:goal.ended"])
            #expect(inputs == ["task:deactivate_goal": 1, "signal:goal.ended": 2])

            let goal = try await hashFields(client, "goal:{g1}")
            #expect(goal["active"] == "0")
            #expect(goal["progress"] == "100")
            #expect(goal["level"] == "0")
            #expect(goal["exp"] == "\(T + 200)")
            let expiring = try await integer(client, "ZCARD", "goals:expiring")
            #expect(expiring == 0)

            let deactivate = try await streamEntries(client, "task:deactivate_goal")
            #expect(deactivate.map { $0["id"] } == ["expiry:g1:\(T + 200)"])
            #expect(deactivate.first?["triggerer"] == "expiry")
            #expect(deactivate.first?["at_ms"] == "\((T + 300) * 1000)")
            let ended = try #require(try await streamEntries(client, "signal:goal.ended").first)
            #expect(ended["triggerer"] == "expiry")
            #expect(ended["exp"] == "\(T + 200)")
            #expect(ended["progress"] == "100")
            #expect(ended["active"] == "0")
            #expect(ended["cause"] == "expiry:g1:\(T + 200)")
            #expect(ended["trace"] == "expiry:g1:\(T + 200)")
            #expect(ended["at_ms"] == "\((T + 300) * 1000)")

            let escrow = try await hashFields(client, "escrow:{g1}")
            #expect(escrow["state"] == "refunded")
            let ledger = try await streamEntries(client, "escrow:ledger")
            #expect(ledger.map { $0["to"] } == ["held", "refunded"])
            let refund = try #require(ledger.last)
            #expect(refund["goal_id"] == "g1" && refund["from"] == "held" && refund["amount"] == "500" && refund["payer"] == "v1")
            #expect(refund["at"] == "\(T + 300)")
            #expect(refund["cause"] == ended["id"])

            let session = try await hashFields(client, "session:{s1}")
            #expect(session == [
                "exclusive_goal_pairs.v1.goal_id": "g1", "exclusive_goal_pairs.v1.exclusive_goal_ended": "\(T + 300)",
                "viewers.v1.duration": "100", "viewers.v1.exp": "\(T + 200)", "viewers.v1.nbf": "\(T + 100)",
            ])
            let outbox = try await streamEntries(client, "outbox:pusher")
            #expect(outbox.map { $0["event"] } == ["goal-ended", "goal-ended"], "the copy notified again, as a new message")
            let counters = try await hashFields(client, "tracking:counters")
            #expect(counters == ["channel_occupied": "1", "channel_vacated": "1", "goal.progressed": "1", "goal.ended": "2"])
        }
    }

    @Test("a goal that has no exp is never swept")
    func noExpNeverExpires() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await GoalStore(redis: client).create(referenceSpec())
            let swept = try await ExpirySweep.sweep(redis: client, bus: tracedConfiguration, nowMs: (T + 10_000_000) * 1000)
            #expect(swept == 0)
            let tasks = try await integer(client, "EXISTS", "task:deactivate_goal")
            #expect(tasks == 0)
        }
    }
}
