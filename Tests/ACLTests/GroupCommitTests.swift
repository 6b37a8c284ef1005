import GoalDomain
import Redis
import RedisTestSupport
import SignalBus
import Testing

/// Each executable's real Redis path (consumer group, commit script, emissions, dead letters, the gateway's
/// publish script, the expiry sweep, `goalctl`'s calls) works under its own user of `Config/redis-acl.conf`,
/// and is not refused anything: `ACL LOG` stays empty.
@Suite("Each service works under its own ACL user")
struct GroupCommitTests {
    @Test("gateway publishes webhook events; karaoke starts and pauses the timer, keeps members, enqueues progress")
    func karaoke() async throws {
        try await withACLServer { acl, admin in
            try await admin.execute(
                "HSET", "goal:{g1}", "_cls", "ExclusiveGoal", "active", "1", "progress", "0", "level", "0", "levels.0.target", "360",
                "context.started", String(T - 100), "context.last_updated", String(T - 100), "session_id", "s1", "exclusive_to", "v1"
            )
            let gateway = Publisher(redis: try acl.client("gateway"), configuration: fastConfiguration())
            let channel = "presence-enc-goal@g1"
            let member = OutgoingMessage(
                topic: Topics.memberAdded, id: "member-1", atMs: (T - 50) * 1000,
                payload: [("channel", channel), ("goal_id", "g1"), ("user_id", "v1")], dedupKey: "webhook:event:member-1"
            )
            let vacate = OutgoingMessage(
                topic: Topics.channelVacated, id: "vacate-1", atMs: T * 1000,
                payload: [("channel", channel), ("goal_id", "g1")], dedupKey: "webhook:event:vacate-1"
            )
            #expect(try await gateway.publish([member, vacate]) == [true, true])
            #expect(try await gateway.publish([vacate]) == [false], "a retry is recognised under the gateway user")

            try await withServices([try consumer(KaraokeReceivers.group(), on: acl)]) {
                try await waitHandled(acl, admin, group: "karaoke", id: "member-1")
                try await waitHandled(acl, admin, group: "karaoke", id: "vacate-1")
            }
            let goal = try await hashFields(admin, "goal:{g1}")
            #expect(goal["context.paused"] == String(T))
            #expect(goal["context.last_updated"] == String(T))
            let tasks = try await entryMaps(admin, "task:increment_goal_progress")
            #expect(tasks.count == 1)
            #expect(tasks.first?["amount"] == "100")
            #expect(try await admin.execute("SISMEMBER", "presence:\(channel)", "v1").int == 1)
            #expect(try await admin.execute("ZCARD", "traces:{g1}").int == 2)
            let log = try await admin.execute("ACL", "LOG")
            #expect(try await acl.aclLog(admin) == [], "\(log)")
        }
    }

    @Test("goals adds progress, completes, deactivates and ends a goal; its expiry sweep ends an expired one")
    func goals() async throws {
        try await withACLServer { acl, admin in
            let store = GoalStore(redis: try acl.client("operator"))
            var spec = GoalSpec(id: "g1")
            spec.sessionID = "s1"
            spec.viewer = "v1"
            spec.amount = 500
            try await store.create(spec)
            var expiring = GoalSpec(id: "g2")
            expiring.exp = T - 10
            try await store.create(expiring)

            _ = try await Publisher(redis: admin, configuration: fastConfiguration()).publish([
                OutgoingMessage(topic: Topics.incrementGoalProgress, id: "inc-1", atMs: T * 1000, payload: [("goal_id", "g1"), ("amount", "400")]),
            ])
            let group = GoalReceivers.group()
            let sweep = ExpirySweep(redis: .server(try acl.configuration("goals")), period: .milliseconds(100), logger: testLogger)
            let pairs = group.topics.map { (stream: $0.key, group: group.name) }
            try await withServices([try consumer(group, on: acl), { try await sweep.run() }]) {
                try await eventually("both goals to end and the goals group to settle") {
                    try await acl.checkNoRefusals(admin)
                    guard try await admin.execute("XLEN", "signal:goal.ended").int == 2 else { return false }
                    return try await isSettled(admin, pairs)
                }
            }
            let g1 = try await hashFields(admin, "goal:{g1}")
            #expect(g1["progress"] == "400")
            #expect(g1["level"] == "1")
            #expect(g1["active"] == "0")
            #expect(try await hashFields(admin, "goal:{g2}")["active"] == "0")
            #expect(try await admin.execute("ZCARD", "goals:expiring").int == 0)
            let ended = try await entryMaps(admin, "signal:goal.ended").compactMap { $0["triggerer"] }.sorted()
            #expect(ended == ["", "expiry"])
            let outbox = try await entryMaps(admin, "outbox:pusher").compactMap { $0["event"] }
            #expect(outbox.filter { $0 == "goal-ended" }.count == 2)
            let log = try await admin.execute("ACL", "LOG")
            #expect(try await acl.aclLog(admin) == [], "\(log)")
        }
    }

    @Test("sessions reads the goal (read-only), writes the session, drops caches, enqueues and handles StartSnapshot")
    func sessions() async throws {
        try await withACLServer { acl, admin in
            try await admin.execute(
                "HSET", "goal:{g1}", "_cls", "ExclusiveGoal", "active", "0", "progress", "100", "levels.0.target", "360",
                "session_id", "s1", "exclusive_to", "v1", "exp", String(T)
            )
            try await admin.execute("HSET", "session:{s1}", "status.exclusive_to", "v1", "exclusive_goal_pairs.v1.goal_id", "g1")
            try await admin.execute("SET", "cache:session_token_view:s1", "x")
            try await admin.execute("SET", "cache:pusher_channel_data:presence-enc-goal@g1", "x")
            _ = try await Publisher(redis: admin, configuration: fastConfiguration()).publish([goalSignal(Topics.goalEnded, id: "ended-1", goal: "g1", at: T, progress: 100)])

            let group = SessionReceivers.group()
            let pairs = group.topics.map { (stream: $0.key, group: group.name) }
            try await withServices([try consumer(group, on: acl)]) {
                try await waitHandled(acl, admin, group: "sessions", id: "ended-1")
                try await eventually("StartSnapshot to be handled") {
                    try await acl.checkNoRefusals(admin)
                    guard try await admin.execute("XLEN", "outbox:rtc").int == 1 else { return false }
                    return try await isSettled(admin, pairs)
                }
            }
            let session = try await hashFields(admin, "session:{s1}")
            #expect(session["exclusive_goal_pairs.v1.exclusive_goal_ended"] == String(T))
            #expect(session["status.exclusive_to"] == nil)
            #expect(session["viewers.v1.duration"] == "100")
            #expect(try await admin.execute("EXISTS", "cache:session_token_view:s1", "cache:pusher_channel_data:presence-enc-goal@g1").int == 0)
            #expect(try await entryMaps(admin, "outbox:rtc").first?["action"] == "snapshot")
            #expect(try await hashFields(admin, "goal:{g1}")["active"] == "0", "the goal is untouched")
            let log = try await admin.execute("ACL", "LOG")
            #expect(try await acl.aclLog(admin) == [], "\(log)")
        }
    }

    @Test("escrow reads the goal it only reads (declared in the commit's KEYS) and refunds on goal.ended")
    func escrow() async throws {
        try await withACLServer { acl, admin in
            try await admin.execute(
                "HSET", "goal:{g1}", "_cls", "ExclusiveGoal", "active", "1", "progress", "100", "levels.0.target", "360",
                "session_id", "s1", "exclusive_to", "v1"
            )
            try await admin.execute("HSET", "escrow:{g1}", "state", "held", "amount", "500", "payer", "v1", "payee", "")
            try await admin.execute("HSET", "session:{s1}", "status.exclusive_to", "v1")
            let publisher = Publisher(redis: admin, configuration: fastConfiguration())
            _ = try await publisher.publish([goalSignal(Topics.goalProgressed, id: "progressed-1", goal: "g1", at: T, progress: 100, active: true)])

            try await withServices([try consumer(EscrowReceivers.group(), on: acl)]) {
                // goal.progressed: trigger_exclusive_goal_escrow_refund reads goal:{g1}.active, so the commit
                // declares goal:{g1} in KEYS and checks the field again, under a user that may only read it.
                try await waitHandled(acl, admin, group: "escrow", id: "progressed-1")
                try await admin.execute("HSET", "goal:{g1}", "active", "0")
                _ = try await publisher.publish([goalSignal(Topics.goalEnded, id: "ended-1", goal: "g1", at: T, progress: 100)])
                try await waitHandled(acl, admin, group: "escrow", id: "ended-1")
            }
            let progressed = try await admin.execute("HGET", "trace:progressed-1", "escrow progressed-1").string ?? ""
            #expect(progressed.contains(#""receiver":"trigger_exclusive_goal_escrow_refund""#) && progressed.contains("goal still active"))
            #expect(try await hashFields(admin, "escrow:{g1}")["state"] == "refunded")
            let ledger = try await entryMaps(admin, "escrow:ledger")
            #expect(ledger.count == 1)
            #expect(ledger.first?["to"] == "refunded")
            #expect(try await hashFields(admin, "goal:{g1}")["active"] == "0", "the goal is untouched")
            #expect(try await hashFields(admin, "session:{s1}") == ["status.exclusive_to": "v1"], "the session is untouched")
            let log = try await admin.execute("ACL", "LOG")
            #expect(try await acl.aclLog(admin) == [], "\(log)")
        }
    }

    @Test("tracking records presence and goal events")
    func tracking() async throws {
        try await withACLServer { acl, admin in
            _ = try await Publisher(redis: try acl.client("gateway"), configuration: fastConfiguration()).publish([
                OutgoingMessage(
                    topic: Topics.channelOccupied, id: "occupied-1", atMs: T * 1000,
                    payload: [("channel", "presence-enc-goal@g1"), ("goal_id", "g1")], dedupKey: "webhook:event:occupied-1"
                ),
            ])
            _ = try await Publisher(redis: admin, configuration: fastConfiguration()).publish([goalSignal(Topics.goalProgressed, id: "progressed-1", goal: "g1", at: T, progress: 10)])
            try await withServices([try consumer(TrackingReceivers.group(), on: acl)]) {
                try await waitHandled(acl, admin, group: "tracking", id: "occupied-1")
                try await waitHandled(acl, admin, group: "tracking", id: "progressed-1")
            }
            let counters = try await hashFields(admin, "tracking:counters")
            #expect(counters == ["channel_occupied": "1", "goal.progressed": "1"])
            #expect(try await admin.execute("XLEN", "tracking:events").int == 2)
            let log = try await admin.execute("ACL", "LOG")
            #expect(try await acl.aclLog(admin) == [], "\(log)")
        }
    }

    /// Every group's failure path (`HSET errors:<group>`, claim, dead-letter script) under its own user: a
    /// malformed entry on each stream it reads is moved to `dead:<stream>` at once, and a message that keeps
    /// failing (a `WRONGTYPE` hash) after `bus.max.deliveries`.
    @Test("each group dead-letters under its own user", arguments: ["karaoke", "goals", "sessions", "escrow", "tracking"])
    func deadLetters(groupName: String) async throws {
        let groups = [
            KaraokeReceivers.group(), GoalReceivers.group(), SessionReceivers.group(), EscrowReceivers.group(), TrackingReceivers.group(),
        ]
        let group = try #require(groups.first { $0.name == groupName })
        try await withACLServer { acl, admin in
            for topic in group.topics {
                try await admin.execute("XADD", topic.key, "*", "signal", topic.name, "junk", "1")
            }
            // A goal key of the wrong type makes every group that loads the goal fail on this message.
            try await admin.execute("SET", "goal:{bad}", "not a hash")
            // A topic on which the group loads the goal (tracking never does: its message is simply handled).
            let poisonedTopic: [String: Topic] = [
                "karaoke": Topics.channelOccupied, "goals": Topics.incrementGoalProgress, "sessions": Topics.goalEnded,
                "escrow": Topics.goalProgressed, "tracking": Topics.goalEnded,
            ]
            let poisoned = try #require(poisonedTopic[group.name])
            _ = try await Publisher(redis: admin, configuration: fastConfiguration()).publish([
                OutgoingMessage(
                    topic: poisoned, id: "poison-1", atMs: T * 1000,
                    payload: [("goal_id", "bad"), ("channel", "presence-enc-goal@bad"), ("_cls", "ExclusiveGoal"), ("amount", "5"), ("session_id", "s1")]
                ),
            ])
            try await withServices([try consumer(group, on: acl)]) {
                try await eventually("every malformed entry to be dead-lettered") {
                    try await acl.checkNoRefusals(admin)
                    for topic in group.topics {
                        let dead = try await entryMaps(admin, topic.deadLetterKey).filter { $0["junk"] == "1" && $0["dead.group"] == group.name }
                        if dead.isEmpty { return false }
                    }
                    return true
                }
                try await eventually("the poisoned message to be handled or dead-lettered") {
                    let dead = try await entryMaps(admin, poisoned.deadLetterKey).contains { $0["id"] == "poison-1" }
                    let done = try await handled(admin, group: group.name, id: "poison-1")
                    return dead || done
                }
            }
            let poison = try await entryMaps(admin, poisoned.deadLetterKey).first { $0["id"] == "poison-1" }
            if group.name == "tracking" {
                #expect(poison == nil, "tracking never loads the goal")
            } else {
                let dead = try #require(poison, "\(group.name) failed on the poisoned message and dead-lettered it")
                #expect(dead["dead.error"]?.contains("WRONGTYPE") == true, "\(dead)")
                #expect(dead["dead.deliveries"] == "2")
                #expect(try await admin.execute("HLEN", "errors:\(group.name)").int == 0, "the error was moved with the message")
            }
            let log = try await admin.execute("ACL", "LOG")
            #expect(try await acl.aclLog(admin) == [], "\(log)")
        }
    }

    @Test("operator: goalctl goal create, goal end, dead replay, trace, lag and the redis-cli recipes")
    func operatorUser() async throws {
        try await withACLServer { acl, admin in
            let operatorClient = try acl.client("operator")
            var spec = GoalSpec(id: "g1")
            spec.sessionID = "s1"
            spec.viewer = "v1"
            spec.amount = 500
            spec.exp = T + 3600
            try await GoalStore(redis: operatorClient).create(spec)
            #expect(try await hashFields(admin, "escrow:{g1}")["state"] == "held")
            #expect(try await admin.execute("ZSCORE", "goals:expiring", "g1").string == String(T + 3600))

            // goalctl goal end: a deactivate_goal task through the publish script.
            #expect(try await Publisher(redis: operatorClient).publish([
                OutgoingMessage(topic: Topics.deactivateGoal, id: "end-1", atMs: T * 1000, payload: [("goal_id", "g1"), ("triggerer", "operator")]),
            ]) == [true])
            // goalctl dead replay.
            try await admin.execute("XADD", "dead:signal:goal.ended", "*", "id", "m1", "signal", "goal.ended", "at_ms", "1", "cause", "", "trace", "m1", "dead.group", "escrow")
            #expect(try await DeadLetters(redis: operatorClient).replay(stream: Topics.goalEnded.key, entryID: nil) == 1)
            #expect(try await admin.execute("XLEN", "signal:goal.ended").int == 1)
            #expect(try await admin.execute("XLEN", "dead:signal:goal.ended").int == 0)
            // goalctl goal show, trace, lag, dead list and the inspection recipes.
            try await admin.execute("XGROUP", "CREATE", "signal:goal.ended", "escrow", "0")
            for command in [
                RedisCommand("HGETALL", "goal:{g1}"), RedisCommand("ZRANGE", "traces:{g1}", 0, -1), RedisCommand("GET", "done:goals:m1"),
                RedisCommand("XLEN", "task:deactivate_goal"), RedisCommand("XINFO", "GROUPS", "signal:goal.ended"),
                RedisCommand("XINFO", "CONSUMERS", "signal:goal.ended", "escrow"), RedisCommand("XPENDING", "signal:goal.ended", "escrow"),
                RedisCommand("XRANGE", "dead:signal:goal.ended", "-", "+"), RedisCommand("HGETALL", "errors:goals"),
                RedisCommand("EXISTS", "done:goals:m1"), RedisCommand("TTL", "webhook:event:x"), RedisCommand("XRANGE", "outbox:pusher", "-", "+"),
                RedisCommand("HGETALL", "tracking:counters"), RedisCommand("SMEMBERS", "presence:presence-enc-goal@g1"),
                RedisCommand("ZRANGE", "goals:expiring", 0, -1, "WITHSCORES"),
            ] {
                #expect(await refusal(operatorClient, command) == nil, "\(command.name)")
            }
            // Not an administrator, and cannot forge the bus's own markers or other groups' results.
            for command in [
                RedisCommand("KEYS", "*"), RedisCommand("FLUSHALL"), RedisCommand("CONFIG", "GET", "maxmemory"), RedisCommand("ACL", "LIST"),
                RedisCommand("SET", "done:goals:m1", "1"), RedisCommand("HSET", "tracking:counters", "x", "1"), RedisCommand("DEL", "done:goals:m1"),
                RedisCommand("XADD", "outbox:pusher", "*", "a", "b"),
            ] {
                #expect(await refusal(operatorClient, command)?.hasPrefix("NOPERM") == true, "\(command.name)")
            }
        }
    }
}
