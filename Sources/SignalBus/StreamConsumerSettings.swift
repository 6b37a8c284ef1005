/// What a ``StreamConsumerCore`` consumes, as whom, and how it recovers; every timing has the bus's default.
public struct StreamConsumerSettings: Sendable, Hashable {
    /// The consumer group.
    public var group: String
    /// This replica's consumer name in the group; unique per replica.
    public var consumer: String
    /// The streams the group reads, in the order `XREADGROUP` lists them.
    public var streams: [String]
    /// The streams trimmed on every recovery pass (``StreamTrimmer``): those read, and sinks the consumer
    /// appends to. Never `escrow:ledger` or a dead-letter stream.
    public var trimmed: [String]
    /// How many entries of a trimmed stream are kept beyond what every group on it acknowledged.
    public var streamKeep = 10_000
    /// The hash of last errors, field `"<stream> <entry>"`, whose value a dead letter carries as its error.
    public var errorsKey: String
    /// Whether Redis is a cluster: then a plain stream's dead letters live in its slot (``DeadLetters/key(for:cluster:)``).
    public var cluster = false
    /// Most entries read per `XREADGROUP`, and claimed per stream per recovery pass.
    public var batchSize = 64
    /// How long one `XREADGROUP` blocks.
    public var block: Duration = .seconds(1)
    /// How long an entry stays pending before any replica of the group claims it (the fallback for a replica
    /// alive but stuck; a stopped one is found by its heartbeat).
    public var claimIdle: Duration = .seconds(30)
    /// Deliveries after which an entry claimed or taken over moves to `dead:<stream>` instead of being handled.
    public var maxDeliveries = 5
    /// How long a replica's heartbeat lives without being refreshed.
    public var heartbeat: Duration = .seconds(3)
    /// How often the recovery pass runs.
    public var recoveryInterval: Duration = .seconds(1)

    /// Settings for `consumer` in `group` on `streams`, trimming those streams.
    public init(group: String, consumer: String, streams: [String], errorsKey: String) {
        self.group = group
        self.consumer = consumer
        self.streams = streams
        self.trimmed = streams
        self.errorsKey = errorsKey
    }
}

extension StreamConsumerSettings {
    /// A receiver group's settings: its topics' streams (in `partition`, if any) read, those and its sinks trimmed.
    init(group: ReceiverGroup, partition: Partition?, configuration: BusConfiguration, consumer: String, cluster: Bool) {
        self.init(
            group: group.name, consumer: consumer, streams: group.topics.map { $0.key(partition: partition) },
            errorsKey: BusConfiguration.errorsKey(group: group.name, partition: partition)
        )
        trimmed = streams + group.sinks
        streamKeep = configuration.streamKeep
        self.cluster = cluster
        batchSize = configuration.batchSize
        block = configuration.block
        claimIdle = configuration.claimIdle
        maxDeliveries = configuration.maxDeliveries
        heartbeat = configuration.heartbeat
        recoveryInterval = configuration.recoveryInterval
    }
}
