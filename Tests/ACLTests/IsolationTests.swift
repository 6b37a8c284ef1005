import Redis
import RedisTestSupport
import Testing

/// What each user of `Config/redis-acl.conf` may not do: touch another group's state, write what it only
/// reads, forge the signals it consumes, publish on channels it does not emit on, administer the server.
@Suite("Each user is refused what it does not need")
struct IsolationTests {
    /// A command and whether the user may run it.
    struct Case: CustomStringConvertible, Sendable {
        let arguments: [String]
        let allowed: Bool
        /// For refusals: the start of the error text (`NOPERM` at the call, `ERR The user executing the
        /// script` inside a script).
        let refusal: String

        var description: String { "\(allowed ? "may" : "may not") \(arguments.joined(separator: " "))" }

        static func may(_ arguments: String...) -> Case { Case(arguments: arguments, allowed: true, refusal: "") }
        static func mayNot(_ arguments: String...) -> Case { Case(arguments: arguments, allowed: false, refusal: "NOPERM") }
        /// Refused by the check of the `redis.call` inside the script (the call itself passed).
        static func mayNotInScript(_ arguments: String...) -> Case {
            Case(arguments: arguments, allowed: false, refusal: "ERR The user executing the script can't")
        }
    }

    static let hset = "return redis.call('HSET', KEYS[1], 'x', '1')"
    static let hsetUndeclared = "return redis.call('HSET', ARGV[1], 'x', '1')"
    static let hget = "return redis.call('HGET', KEYS[1], 'active')"

    /// Cases every receiver user shares: no administration, no other group's bus keys.
    static let common: [Case] = [
        .mayNot("FLUSHALL"), .mayNot("KEYS", "*"), .mayNot("CONFIG", "GET", "maxmemory"), .mayNot("ACL", "LIST"),
        .mayNot("SELECT", "1"), .mayNot("SCRIPT", "FLUSH"), .mayNot("FUNCTION", "FLUSH"),
        .mayNot("SET", "heartbeat:other:c1", "1"), .mayNot("HSET", "errors:other", "f", "v"),
        .mayNot("XTRIM", "escrow:ledger", "MAXLEN", "0"),
        .mayNot("HSET", "webhook:event:x", "f", "v"), .mayNot("GET", "webhook:event:x"),
        .may("PING"),
    ]

    static let cases: [(user: String, cases: [Case])] = [
        ("escrow", [
            .may("HGET", "goal:{g1}", "active"), .may("HGETALL", "goal:{g1}"), .may("EVAL", hget, "1", "goal:{g1}"),
            .may("HSET", "escrow:{g1}", "state", "held"), .may("HGETALL", "escrow:{g1}"),
            .mayNot("HSET", "goal:{g1}", "active", "0"), .mayNot("DEL", "goal:{g1}"),
            .mayNotInScript("EVAL", hset, "1", "goal:{g1}"), .mayNotInScript("EVAL", hsetUndeclared, "0", "goal:{g1}"),
            .mayNot("HSET", "session:{s1}", "x", "1"), .mayNot("HGETALL", "session:{s1}"),
            .mayNot("EVAL", hset, "1", "session:{s1}"), .mayNot("EVAL", "return 1", "1", "session:{s1}"),
            .mayNotInScript("EVAL", hsetUndeclared, "0", "session:{s1}"),
            .mayNot("XADD", "signal:goal.ended", "*", "id", "forged"), .mayNot("XADD", "task:deactivate_goal", "*", "id", "forged"),
            .mayNot("PUBLISH", "signal:goal.ended", "{}"), .mayNot("XRANGE", "escrow:ledger", "-", "+"),
            .mayNot("HINCRBY", "tracking:counters", "x", "1"), .mayNot("SET", "heartbeat:goals:c1", "1"), .mayNot("HSET", "errors:goals", "f", "v"),
        ]),
        ("sessions", [
            .may("HGETALL", "goal:{g1}"), .may("HSET", "session:{s1}", "x", "1"), .may("DEL", "cache:session_token_view:s1"),
            .mayNot("HSET", "goal:{g1}", "active", "0"), .mayNotInScript("EVAL", hset, "1", "goal:{g1}"),
            .mayNot("HSET", "escrow:{g1}", "state", "refunded"), .mayNot("EVAL", hset, "1", "escrow:{g1}"),
            .mayNotInScript("EVAL", hsetUndeclared, "0", "escrow:{g1}"), .mayNot("XADD", "escrow:ledger", "*", "a", "b"),
            .mayNot("DEL", "cache:something:else"), .mayNot("XADD", "signal:goal.ended", "*", "id", "forged"),
            .mayNot("PUBLISH", "signal:goal.ended", "{}"), .mayNot("XADD", "task:increment_goal_progress", "*", "a", "b"),
        ]),
        ("karaoke", [
            .may("HSET", "goal:{g1}", "context.started", "1"), .may("SADD", "presence:presence-enc-goal@g1", "v1"),
            .mayNot("XADD", "signal:channel_vacated", "*", "id", "forged"), .mayNot("PUBLISH", "signal:channel_vacated", "{}"),
            .mayNot("XADD", "task:deactivate_goal", "*", "a", "b"), .mayNot("PUBLISH", "signal:goal.ended", "{}"),
            .mayNot("HSET", "session:{s1}", "x", "1"), .mayNot("HSET", "escrow:{g1}", "state", "refunded"),
            .mayNot("SADD", "presence:other-channel", "v1"), .mayNot("HGETALL", "escrow:{g1}"),
            .mayNotInScript("EVAL", hsetUndeclared, "0", "escrow:{g1}"),
        ]),
        ("goals", [
            .may("HINCRBY", "goal:{g1}", "progress", "1"), .may("ZADD", "goals:expiring", "1", "g1"),
            .mayNot("HSET", "session:{s1}", "x", "1"), .mayNot("HSET", "escrow:{g1}", "state", "refunded"),
            .mayNot("XADD", "signal:channel_vacated", "*", "id", "forged"), .mayNot("XADD", "task:StartSnapshot", "*", "a", "b"),
            .mayNot("XADD", "outbox:rtc", "*", "a", "b"), .mayNot("XRANGE", "outbox:pusher", "-", "+"),
            .mayNot("PUBLISH", "task:StartSnapshot", "{}"),
        ]),
        ("tracking", [
            .may("HINCRBY", "tracking:counters", "x", "1"),
            .mayNot("HGET", "goal:{g1}", "active"), .mayNot("HSET", "goal:{g1}", "x", "1"), .mayNot("XRANGE", "tracking:events", "-", "+"),
            .mayNot("XADD", "signal:goal.ended", "*", "id", "forged"), .mayNot("PUBLISH", "signal:goal.ended", "{}"),
            .mayNot("HSET", "session:{s1}", "x", "1"), .mayNotInScript("EVAL", hsetUndeclared, "0", "session:{s1}"),
        ]),
        ("notifier", [
            .may("XADD", "dead:outbox:pusher", "*", "dead.error", "x"), .may("HSET", "errors:notifier", "outbox:pusher 1-0", "x"),
            .may("XGROUP", "CREATE", "outbox:pusher", "notifier", "0", "MKSTREAM"),
            .may("XREADGROUP", "GROUP", "notifier", "c", "COUNT", "1", "STREAMS", "outbox:pusher", ">"),
            .may("SET", "heartbeat:notifier:c", "1", "PX", "3000"), .may("EXISTS", "heartbeat:notifier:other"),
            .may("DEL", "heartbeat:notifier:c"), .may("XINFO", "CONSUMERS", "outbox:pusher", "notifier"),
            .may("XINFO", "GROUPS", "outbox:pusher"), .may("XINFO", "STREAM", "outbox:pusher"), .may("XLEN", "outbox:pusher"),
            .may("XGROUP", "DELCONSUMER", "outbox:pusher", "notifier", "gone"),
            .mayNot("XADD", "outbox:pusher", "*", "channel", "forged"), .mayNot("XTRIM", "escrow:ledger", "MAXLEN", "0"),
            .mayNot("XTRIM", "signal:goal.ended", "MAXLEN", "0"), .mayNot("SET", "heartbeat:goals:c1", "1"),
            .mayNot("XRANGE", "dead:outbox:pusher", "-", "+"), .mayNot("HSET", "errors:goals", "f", "v"),
            .mayNot("XADD", "signal:goal.ended", "*", "id", "forged"), .mayNot("HGET", "goal:{g1}", "active"),
            .mayNot("HSET", "escrow:{g1}", "state", "refunded"), .mayNot("PUBLISH", "signal:goal.ended", "{}"),
            .mayNot("XRANGE", "signal:channel_vacated", "-", "+"), .mayNot("FLUSHALL"), .mayNot("KEYS", "*"),
        ]),
        ("gateway", [
            .may("XADD", "signal:channel_vacated", "*", "id", "x"), .may("PUBLISH", "signal:channel_vacated", "{}"),
            .may("SET", "webhook:event:x", "1", "NX", "EX", "900"),
            .mayNot("XADD", "signal:goal.ended", "*", "id", "forged"), .mayNot("PUBLISH", "signal:goal.ended", "{}"),
            .mayNot("XADD", "task:increment_goal_progress", "*", "a", "b"), .may("HGET", "goal:{g1}", "trace"),
            .mayNot("HSET", "goal:{g1}", "trace", "1"), .mayNot("HGETALL", "goal:{g1}"),
            .may("XINFO", "GROUPS", "signal:channel_vacated"), .mayNot("XTRIM", "signal:goal.ended", "MAXLEN", "0"),
            .mayNot("EVAL", "return 1", "1", "goal:{g1}"), .mayNotInScript("EVAL", hsetUndeclared, "0", "goal:{g1}"),
            .mayNot("XRANGE", "signal:channel_vacated", "-", "+"), .mayNot("XREADGROUP", "GROUP", "karaoke", "c", "STREAMS", "signal:channel_vacated", ">"),
            .mayNot("FLUSHALL"), .mayNot("KEYS", "*"),
        ]),
    ]

    @Test("receiver and gateway users", arguments: IsolationTests.cases.map(\.user))
    func user(_ user: String) async throws {
        let cases = Self.cases.first { $0.user == user }!.cases + (["gateway", "notifier"].contains(user) ? [] : Self.common)
        try await withACLServer { acl, admin in
            try await admin.execute("HSET", "goal:{g1}", "active", "1")
            try await admin.execute("HSET", "escrow:{g1}", "state", "held")
            try await admin.execute("HSET", "session:{s1}", "status.exclusive_to", "v1")
            let client = try acl.client(user)
            for test in cases {
                let refused = await refusal(client, RedisCommand(test.arguments[0], arguments: Array(test.arguments.dropFirst())))
                if test.allowed {
                    #expect(refused == nil, "\(user) \(test): \(refused ?? "")")
                } else {
                    #expect(refused?.hasPrefix(test.refusal) == true, "\(user) \(test): \(refused ?? "accepted")")
                }
            }
            // Whatever was refused changed nothing.
            #expect(try await admin.execute("HGET", "escrow:{g1}", "state").string == "held")
            #expect(try await hashFields(admin, "session:{s1}")["status.exclusive_to"] == "v1")
            #expect(try await admin.execute("EXISTS", "signal:goal.ended", "task:deactivate_goal", "heartbeat:goals:c1").int == 0)
        }
    }

    @Test("the default user (no password) may only PING")
    func defaultUser() async throws {
        try await withACLServer { acl, _ in
            let anonymous = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: acl.server.port))
            #expect(await refusal(anonymous, "PING") == nil)
            for command in [RedisCommand("GET", "x"), RedisCommand("HGETALL", "goal:{g1}"), RedisCommand("SUBSCRIBE", "signal:goal.ended"), RedisCommand("INFO")] {
                #expect(await refusal(anonymous, command)?.hasPrefix("NOPERM") == true, "\(command.name)")
            }
        }
    }

    @Test("a wrong password is refused at connection")
    func wrongPassword() async throws {
        try await withACLServer { acl, _ in
            let client = RedisClient(configuration: try acl.configuration("escrow", password: "not-the-password"))
            let refused = await refusal(client, "PING")
            #expect(refused?.contains("WRONGPASS") == true, "\(refused ?? "accepted")")
        }
    }
}
