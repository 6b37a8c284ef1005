import Redis

/// How a receiver group consumes and publishes; every value has a default fit for production.
public struct BusConfiguration: Sendable, Hashable {
    /// Most messages read per `XREADGROUP`.
    public var batchSize: Int = 64
    /// How long one `XREADGROUP` blocks waiting for messages; also bounds how long a stop waits for the read.
    public var block: Duration = .seconds(2)
    /// How long a message stays pending with a consumer before another consumer of the group claims it.
    public var claimIdle: Duration = .seconds(30)
    /// Deliveries after which a message that keeps failing moves to `dead:<stream>`.
    public var maxDeliveries: Int = 5
    /// Approximate cap on each stream's length (`XADD MAXLEN ~`).
    public var streamMaxLength: Int = 1_000_000
    /// How long a handled message's id is remembered to recognise duplicates, in seconds.
    public var dedupSeconds: Int = 86_400
    /// How long a message's trace entry (the value of its done marker) is kept, in seconds: a marker lives
    /// the longer of this and ``dedupSeconds``. 0 turns tracing off: markers then hold `1`, which saves the
    /// entries' bytes but no command.
    public var traceSeconds: Int = 86_400
    /// How long a stop waits for the message in hand before giving up.
    public var shutdownTimeout: Duration = .seconds(10)
    /// How often a consumer looks for messages to claim and measures lag.
    public var recoveryInterval: Duration = .seconds(1)
    /// How many times a message is handled again after another replica changed what it read.
    public var conflictRetries: Int = 32
    /// How many partitions each stream is split into (`signal:goal.ended:{p0-0}` …), so that a Redis Cluster
    /// spreads the streams over its masters; 0 keeps one stream per topic under the contract's name. A
    /// chain stays in the partition of its goal, so per-goal order holds.
    public var partitions: Int = 0

    /// Creates the defaults.
    public init() {}

    /// The partition of messages about `routingKey` (a goal id, or the channel of an event that is about
    /// no goal); `nil` when streams are not partitioned.
    public func partition(of routingKey: String) -> Partition? {
        guard partitions > 0 else { return nil }
        return Partition(HashSlot(key: routingKey).number % partitions, of: partitions)
    }

    /// Every stream of `topic`: its own, or each of its partitions'.
    public func streamKeys(of topic: Topic) -> [String] {
        partitions > 0 ? Partition.all(partitions).map { topic.key(partition: $0) } : [topic.key]
    }

    /// The hash of recorded errors of `group`'s messages in `partition`: `errors:<group>`, or
    /// `errors:<group>:{<partition tag>}` beside the partition's streams.
    public static func errorsKey(group: String, partition: Partition?) -> String {
        guard let partition else { return "errors:\(group)" }
        return "errors:\(group):{\(partition.tag)}"
    }
}
