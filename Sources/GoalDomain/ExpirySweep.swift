import Logging
import Redis
import ServiceLifecycle
import SignalBus

/// Ends goals whose `exp` has passed: every period it moves the due members of `goals:expiring` into
/// task deactivate_goal (triggerer `expiry`) in one atomic step, so with several replicas running each
/// goal is enqueued once. The task itself checks the goal is active and expired, so ending is idempotent.
public struct ExpirySweep: Service {
    private let redis: RedisConfiguration
    private let period: Duration
    private let streamMaxLength: Int
    private let logger: Logger

    /// Creates the sweep.
    public init(redis: RedisConfiguration, period: Duration = .seconds(5), streamMaxLength: Int = 1_000_000, logger: Logger) {
        self.redis = redis
        self.period = period
        self.streamMaxLength = streamMaxLength
        self.logger = logger
    }

    public func run() async throws {
        let client = RedisClient(configuration: redis, name: "expiry-sweep")
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let ended = try await sweep(client: client, nowMs: Int64(Clock.unixMilliseconds()))
                if ended > 0 { logger.info("expired goals enqueued for deactivation", metadata: ["count": "\(ended)"]) }
            } catch {
                logger.error("expiry sweep failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: period)
        }
    }

    /// Enqueues deactivation for every goal due at `nowMs`; returns how many.
    public func sweep(client: RedisClient, nowMs: Int64) async throws -> Int {
        let reply = try await client.run(
            Self.script, keys: [Keys.expiringGoals, Topics.deactivateGoal.key],
            arguments: [Int(nowMs / 1000), Int(nowMs), streamMaxLength]
        )
        return reply.int ?? 0
    }

    static let script = BusLua.script(#"""
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 500)
        for _, goal in ipairs(due) do
          local exp = redis.call('ZSCORE', KEYS[1], goal)
          redis.call('ZREM', KEYS[1], goal)
          local id = 'expiry:' .. goal .. ':' .. exp
          local fields = {'id', id, 'signal', 'deactivate_goal', 'at_ms', ARGV[2], 'cause', '', 'trace', id,
                          'goal_id', goal, 'triggerer', 'expiry'}
          announce(KEYS[2], ARGV[3], fields)
        end
        return #due
        """#)
}
