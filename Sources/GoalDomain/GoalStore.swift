import Redis

/// Creates and inspects goals, sessions and escrows directly in Redis (for `goalctl` and tests).
public struct GoalStore: Sendable {
    private let redis: any RedisCommandRunner

    /// A store writing through `redis`.
    public init(redis: any RedisCommandRunner) {
        self.redis = redis
    }

    /// A refusal to create a goal, naming what is wrong.
    public struct InvalidSpec: Error, CustomStringConvertible, Sendable {
        /// What is wrong.
        public let description: String
    }

    /// Creates the goal hash, the session's exclusive pair and the escrow hold in one transaction, and indexes
    /// the goal in `goals:expiring` when it has an `exp`. On a cluster, whose keys lie in several slots, they
    /// are written in turn: session and escrow, then the goal, then the index.
    public func create(_ spec: GoalSpec) async throws {
        var writes = try Self.commands(creating: spec)
        let clear = RedisCommand("DEL", Keys.goal(spec.id))
        if redis.isCluster {
            // Session pair and escrow hold first, then the goal, then its expiry index: a signal or a sweep that
            // finds the goal finds it whole.
            let hash = writes.removeFirst()
            let index = writes.filter { $0.name == "ZADD" }
            writes.removeAll { $0.name == "ZADD" }
            for step in [writes, [clear, hash], index] {
                for reply in try await redis.pipeline(step) { _ = try reply.checked() }
            }
            return
        }
        let replies = try await redis.pipeline([RedisCommand("MULTI"), clear] + writes + [RedisCommand("EXEC")])
        if let failure = replies.compactMap(\.errorMessage).first { throw RedisError(code: .server, message: failure) }
        if let exec = replies.last?.array, let failure = exec.compactMap(\.errorMessage).first {
            throw RedisError(code: .server, message: failure)
        }
    }

    /// The writes that create a new goal with its session pair and escrow hold, for callers that pipeline
    /// many goals at once (bulk loads); ``create(_:)`` wraps them in a transaction.
    /// - Throws: ``InvalidSpec`` naming what is wrong with `spec`.
    public static func commands(creating spec: GoalSpec) throws -> [RedisCommand] {
        guard GoalChannel.isValidGoalID(spec.id) else { throw InvalidSpec(description: "goal id '\(spec.id)' must match [A-Za-z0-9_-]{1,64}") }
        guard !spec.targets.isEmpty, spec.targets.allSatisfy({ $0 > 0 }) else { throw InvalidSpec(description: "targets must be positive seconds") }
        var goal = RedisCommand("HSET", Keys.goal(spec.id), "_cls", spec.goalClass, "active", "1", "progress", "0", "level", "0")
        for (index, target) in spec.targets.enumerated() {
            goal.append("levels.\(index).target")
            goal.append(Int(target))
        }
        for (field, value) in [("breakdown_id", spec.breakdownID), ("conditions", spec.conditions), ("metadata", spec.metadata)] {
            goal.append(field)
            goal.append(value)
        }
        if let viewer = spec.viewer { goal.append("exclusive_to"); goal.append(viewer) }
        if let session = spec.sessionID { goal.append("session_id"); goal.append(session) }
        if let exp = spec.exp { goal.append("exp"); goal.append(Int(exp)) }
        if spec.traced { goal.append("trace"); goal.append("1") }
        if let started = spec.started {
            for field in ["context.started", "context.last_updated"] { goal.append(field); goal.append(Int(started)) }
        }

        var commands = [goal]
        if let exp = spec.exp { commands.append(RedisCommand("ZADD", Keys.expiringGoals, Int(exp), spec.id)) }
        if let session = spec.sessionID, let viewer = spec.viewer {
            commands.append(RedisCommand(
                "HSET", Keys.session(session), "status.exclusive_to", viewer, "exclusive_goal_pairs.\(viewer).goal_id", spec.id
            ))
        }
        if let amount = spec.amount {
            let payer = spec.payer ?? spec.viewer ?? ""
            let payee = spec.payee ?? ""
            commands.append(RedisCommand("HSET", Keys.escrow(spec.id), "state", "held", "amount", Int(amount), "payer", payer, "payee", payee))
            commands.append(RedisCommand(
                "XADD", Keys.escrowLedger, "*", "goal_id", spec.id, "from", "", "to", "held", "amount", Int(amount), "payer", payer, "payee", payee
            ))
        }
        return commands
    }

    /// Turns tracing of every chain of goal `id` on or off (its hash's `trace` field).
    /// - Returns: `false` when the goal does not exist (nothing is written).
    @discardableResult
    public func setTraced(_ id: String, _ traced: Bool) async throws -> Bool {
        try await redis.run(Self.traceFlagScript, keys: [Keys.goal(id)], arguments: [traced ? "1" : "0"]).int == 1
    }

    /// Sets (`ARGV[1]` = `1`) or clears a goal's `trace` field, only when the goal exists.
    static let traceFlagScript = RedisScript(#"""
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        if ARGV[1] == '1' then redis.call('HSET', KEYS[1], 'trace', '1') else redis.call('HDEL', KEYS[1], 'trace') end
        return 1
        """#)

    /// A hash's fields (empty when it does not exist).
    public func fields(of key: String) async throws -> [String: String] {
        try await redis.execute("HGETALL", key).fieldMap
    }
}
