import Logging
import Redis
import ServiceLifecycle
import SignalBus

/// Ends goals whose `exp` has passed: every period it publishes task deactivate_goal (triggerer `expiry`)
/// for the due members of `goals:expiring`, then removes them from the index.
///
/// Each task has the id `expiry:<goal>:<exp>` and a dedup key of that name, so with several replicas
/// sweeping, or a sweep that stopped between publishing and removing, each goal is enqueued once. The task
/// itself checks the goal is active and expired, so ending is idempotent. Removal keeps a member whose `exp`
/// was changed meanwhile.
public struct ExpirySweep: Service {
    private let redis: RedisEndpoint
    private let period: Duration
    private let bus: BusConfiguration
    private let backpressure: Backpressure
    private let logger: Logger

    /// How many due goals one sweep handles; the next sweep takes the rest.
    static let batch = 500

    /// How long a task's dedup key is kept, in seconds: the sweep removes the goal from the index right
    /// after publishing, so the key only has to outlive a sweep that stopped in between.
    static let dedupSeconds = 900

    /// Creates the sweep.
    /// - Parameter backpressure: while some group's backlog is past its limit, the sweep waits.
    public init(
        redis: RedisEndpoint, period: Duration = .seconds(5), bus: BusConfiguration = BusConfiguration(), backpressure: Backpressure = Backpressure(),
        logger: Logger
    ) {
        self.backpressure = backpressure
        self.redis = redis
        self.period = period
        self.bus = bus
        self.logger = logger
    }

    public func run() async throws {
        let runner = try redis.makeRunner(name: "expiry-sweep")
        var waiting = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let reason = backpressure.refusal {
                if !waiting { logger.warning("expiry sweep waits: \(reason)") }
                waiting = true
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: period) }
                continue
            }
            if waiting { logger.info("expiry sweep resumes") }
            waiting = false
            do {
                let ended = try await Self.sweep(redis: runner, bus: bus, nowMs: Int64(Clock.unixMilliseconds()))
                if ended > 0 { logger.info("expired goals enqueued for deactivation", metadata: ["count": "\(ended)"]) }
            } catch {
                logger.error("expiry sweep failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: period) }
        }
    }

    /// Enqueues deactivation for every goal due at `nowMs` (up to ``batch``); returns how many.
    public static func sweep(redis: any RedisCommandRunner, bus: BusConfiguration, nowMs: Int64) async throws -> Int {
        let due = try await redis.execute(
            "ZRANGEBYSCORE", Keys.expiringGoals, "-inf", Int(nowMs / 1000), "WITHSCORES", "LIMIT", 0, batch
        ).array ?? []
        var goals: [(id: String, exp: String)] = []
        for index in stride(from: 0, to: due.count - 1, by: 2) {
            if let id = due[index].string, let exp = due[index + 1].string { goals.append((id, exp)) }
        }
        guard !goals.isEmpty else { return 0 }
        let messages = goals.map { goal in
            let id = "expiry:\(goal.id):\(goal.exp)"
            return OutgoingMessage(
                topic: Topics.deactivateGoal, id: id, atMs: nowMs, payload: [("goal_id", goal.id), ("triggerer", "expiry")],
                dedupKey: "expiry:task:\(goal.id):\(goal.exp)", routingKey: goal.id, traceFlagKey: Keys.goal(goal.id)
            )
        }
        _ = try await Publisher(redis: redis, configuration: bus, dedupSeconds: dedupSeconds).publish(messages)
        _ = try await redis.pipeline(goals.map { goal in
            removeScript.evalSHA(keys: [Keys.expiringGoals], arguments: [goal.id, goal.exp])
        })
        return goals.count
    }

    /// Removes a member from `goals:expiring` when its score is still the one swept.
    static let removeScript = RedisScript(#"""
        if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then
          return redis.call('ZREM', KEYS[1], ARGV[1])
        end
        return 0
        """#)
}
