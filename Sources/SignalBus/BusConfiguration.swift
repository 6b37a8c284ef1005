import Redis

/// How a receiver group consumes and publishes; every value has a default fit for production.
public struct BusConfiguration: Sendable, Hashable {
    /// Most messages read per `XREADGROUP`.
    public var batchSize: Int = 64
    /// How long one `XREADGROUP` blocks waiting for messages; also bounds how long a stop waits for the read.
    public var block: Duration = .seconds(1)
    /// How long a message stays pending with a live consumer before another consumer of the group claims it
    /// (the fallback for a replica that is alive but stuck; a stopped replica is found by its heartbeat).
    public var claimIdle: Duration = .seconds(30)
    /// Deliveries after which a message that keeps failing moves to `dead:<stream>`.
    public var maxDeliveries: Int = 5
    /// How many of a stream's newest entries are kept for inspection beyond what every group on it has
    /// acknowledged (`bus.stream.keep`); a stream no group reads keeps just these.
    public var streamKeep: Int = 10_000
    /// The backlog (entries not yet acknowledged) of one group on one stream past which new work is refused
    /// with 503 and the expiry sweep waits (`bus.backlog.limit`).
    public var backlogLimit: Int = 1_000_000
    /// The share of chains traced, from 0 to 1 (`trace.sample`), decided once per chain from its trace id.
    public var traceSample: Double = 0.01
    /// How long a chain's trace is kept, in seconds (`trace.seconds`).
    public var traceSeconds: Int = 3_600
    /// How long a stop waits for the message in hand before giving up.
    public var shutdownTimeout: Duration = .seconds(10)
    /// How often a consumer looks for messages to claim, refreshes its heartbeat, trims and measures lag.
    public var recoveryInterval: Duration = .seconds(1)
    /// How long a replica's heartbeat lives without being refreshed: a consumer whose heartbeat is gone is
    /// taken as stopped, and a live replica of its group takes its pending entries and removes it.
    public var heartbeat: Duration = .seconds(3)
    /// How many times a message is handled again after another replica changed what it read.
    public var conflictRetries: Int = 32
    /// How many partitions each stream is split into (`signal:goal.ended:{p0-0}` …), so that a Redis Cluster
    /// spreads the streams over its masters; 0 keeps one stream per topic under the contract's name. A
    /// chain stays in the partition of its goal, so per-goal order holds.
    public var partitions: Int = 0

    /// Creates the defaults.
    public init() {}

    /// How long a message can be delivered again after a first delivery: the claim idle time for every
    /// delivery before it is dead-lettered, doubled, plus a minute. A cluster commit's parts outside the
    /// stream's slot keep their markers this long, no longer.
    public var redeliverySeconds: Int {
        Int(claimIdle.components.seconds) * maxDeliveries * 2 + 60
    }

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
