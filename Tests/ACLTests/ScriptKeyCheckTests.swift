import Redis
import RedisTestSupport
import Testing

/// How Redis 7.0 applies ACL key permissions to `EVAL`/`EVALSHA`, on ad-hoc users: the facts the shipped
/// ACL file is built on. Run against whatever `redis-server` the harness finds (7.0 on this project's machines).
@Suite("Redis ACL key checks for scripts")
struct ScriptKeyCheckTests {
    /// `return redis.call('HGET', <key>, 'active')`, the key taken from KEYS[1] or ARGV[1].
    static let readDeclared = "return redis.call('HGET', KEYS[1], 'active')"
    static let readUndeclared = "return redis.call('HGET', ARGV[1], 'active')"
    static let writeDeclared = "return redis.call('HSET', KEYS[1], 'x', '1')"
    static let writeUndeclared = "return redis.call('HSET', ARGV[1], 'x', '1')"

    @Test("the server is Redis 7 (selectors and %R~/%W~ key permissions exist from 7.0)")
    func redisSeven() async throws {
        try await withACLServer { _, admin in
            let info = try await admin.execute("INFO", "server").string ?? ""
            let version = info.split(separator: "\r\n").first { $0.hasPrefix("redis_version:") }.map { $0.dropFirst("redis_version:".count) } ?? ""
            #expect((Int(version.split(separator: ".").first ?? "") ?? 0) >= 7, "redis_version \(version)")
        }
    }

    @Test("EVAL needs read AND write permission on every declared key: %R~ alone is refused, even for a read-only script")
    func declaredKeysNeedReadWrite() async throws {
        try await withACLServer { acl, admin in
            try await admin.execute("ACL", "SETUSER", "reader", "on", ">pw", "resetkeys", "-@all", "+eval", "+evalsha", "+hget", "+hset", "%R~goal:*")
            try await admin.execute("HSET", "goal:{g1}", "active", "1")
            let reader = RedisClient(configuration: try acl.configuration("reader", password: "pw"))

            // A plain HGET is fine with %R~.
            #expect(try await reader.execute("HGET", "goal:{g1}", "active").string == "1")
            // The same HGET as a script that declares the key in KEYS is refused before the script runs:
            // EVAL's key spec is RW ACCESS UPDATE.
            let declared = await refusal(reader, "EVAL", Self.readDeclared, 1, "goal:{g1}")
            #expect(declared?.hasPrefix("NOPERM") == true, "\(declared ?? "accepted")")
            #expect(declared?.contains("keys used as arguments") == true)
            let log = try await acl.aclLog(admin)
            #expect(log.first == "key toplevel goal:{g1} reader", "\(log)")
            // Passed in ARGV instead (not declared), the read inside the script is allowed.
            #expect(try await reader.execute("EVAL", Self.readUndeclared, 0, "goal:{g1}").string == "1")
            // %W~ alone is not enough either.
            try await admin.execute("ACL", "SETUSER", "writer", "on", ">pw", "resetkeys", "-@all", "+eval", "+hget", "%W~goal:*")
            let writer = RedisClient(configuration: try acl.configuration("writer", password: "pw"))
            let writeOnly = await refusal(writer, "EVAL", "return 1", 1, "goal:{g1}")
            #expect(writeOnly?.hasPrefix("NOPERM") == true, "\(writeOnly ?? "accepted")")
        }
    }

    @Test("every redis.call inside a script is checked again, with that command's own key spec")
    func callsInsideScriptsAreChecked() async throws {
        try await withACLServer { acl, admin in
            try await admin.execute("ACL", "SETUSER", "reader", "on", ">pw", "resetkeys", "-@all", "+eval", "+hget", "+hset", "%R~goal:*", "~escrow:*")
            try await admin.execute("HSET", "goal:{g1}", "active", "1")
            let reader = RedisClient(configuration: try acl.configuration("reader", password: "pw"))

            // Undeclared key, write inside the script: refused by the in-script check (an ERR, not a NOPERM reply).
            let write = await refusal(reader, "EVAL", Self.writeUndeclared, 0, "goal:{g1}")
            #expect(write?.hasPrefix("ERR The user executing the script can't access at least one of the keys") == true, "\(write ?? "accepted")")
            let log = try await acl.aclLog(admin)
            #expect(log.first == "key lua goal:{g1} reader", "\(log)")
            // A command the user lacks is refused inside a script too.
            let del = await refusal(reader, "EVAL", "return redis.call('DEL', KEYS[1])", 1, "escrow:{g1}")
            #expect(del?.hasPrefix("ERR The user executing the script can't run this command or subcommand") == true, "\(del ?? "accepted")")
            // Nothing was written.
            #expect(try await admin.execute("HGET", "goal:{g1}", "x") == .null)
        }
    }

    @Test("a selector with only +eval/+evalsha passes the declared-key check; data commands keep the root's read-only permission")
    func evalSelectorKeepsReadOnly() async throws {
        try await withACLServer { acl, admin in
            try await admin.execute(
                "ACL", "SETUSER", "escrowlike", "on", ">pw", "resetkeys", "-@all", "+hget", "+hset", "%R~goal:*", "~escrow:*",
                "(+eval +evalsha ~goal:* ~escrow:*)"
            )
            try await admin.execute("HSET", "goal:{g1}", "active", "0")
            try await admin.execute("HSET", "escrow:{g1}", "state", "held")
            let user = RedisClient(configuration: try acl.configuration("escrowlike", password: "pw"))

            // The commit's shape: the goal is declared and only read, the escrow declared and written.
            let refund = """
                if redis.call('HGET', KEYS[1], 'active') ~= '0' then return 'conflict' end
                redis.call('HSET', KEYS[2], 'state', 'refunded')
                return 'ok'
                """
            #expect(try await user.execute("EVAL", refund, 2, "goal:{g1}", "escrow:{g1}").string == "ok")
            #expect(try await admin.execute("HGET", "escrow:{g1}", "state").string == "refunded")

            // Writing the declared, read-only goal inside a script is refused.
            let write = await refusal(user, "EVAL", Self.writeDeclared, 1, "goal:{g1}")
            #expect(write?.hasPrefix("ERR The user executing the script can't access at least one of the keys") == true, "\(write ?? "accepted")")
            // And directly.
            let direct = await refusal(user, "HSET", "goal:{g1}", "x", "1")
            #expect(direct?.hasPrefix("NOPERM") == true, "\(direct ?? "accepted")")
            #expect(try await admin.execute("HGET", "goal:{g1}", "x") == .null)
            // A key outside both is refused at the call.
            let session = await refusal(user, "EVAL", "return 1", 1, "session:{s1}")
            #expect(session?.hasPrefix("NOPERM") == true, "\(session ?? "accepted")")
        }
    }
}
