import Redis

/// The key whose life says a replica is running: `heartbeat:<group>:<consumer>`, set with a time to live of
/// ``life`` and refreshed well within it. A replica whose heartbeat is gone (SIGKILL, a lost machine) is taken
/// over by a live replica of its group.
public struct ConsumerHeartbeat: Sendable, Hashable {
    /// `heartbeat:<group>:<consumer>`.
    public let key: String
    /// How long the key lives after the last refresh.
    public let life: Duration

    /// The heartbeat of `consumer` in `group`.
    public init(group: String, consumer: String, life: Duration) {
        self.key = Self.key(group: group, consumer: consumer)
        self.life = life
    }

    /// `heartbeat:<group>:<consumer>`.
    public static func key(group: String, consumer: String) -> String {
        "heartbeat:\(group):\(consumer)"
    }

    /// Sets the key for another ``life``.
    public var beat: RedisCommand { RedisCommand("SET", key, "1", "PX", Int(life.milliseconds)) }

    /// Ends the heartbeat, on a clean stop.
    public var end: RedisCommand { RedisCommand("DEL", key) }

    /// Refreshes the heartbeat three times per ``life`` until the task is cancelled, for a replica whose
    /// handling of one entry can outlast the heartbeat (one waiting on HTTP). A failed refresh is tried again
    /// at the next one.
    /// - Parameter redis: a runner of its own, so that no blocking read delays a refresh.
    public func keep(on redis: any RedisCommandRunner) async {
        while !Task.isCancelled {
            _ = try? await redis.execute(beat)
            try? await Task.sleep(for: life / 3)
        }
    }
}
