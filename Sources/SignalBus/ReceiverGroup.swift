/// A receiver group: a consumer group of that name on every stream its receivers listen to. Every message
/// reaches every group once; inside a group exactly one replica handles it, running the group's receivers
/// for that topic in declaration order.
public struct ReceiverGroup: Sendable {
    /// The group's name (`karaoke`, `goals`, …), which is also the consumer group's name.
    public let name: String
    /// The receivers, in the order the seed lists them.
    public let receivers: [Receiver]
    /// The key of a sorted set indexing the message's chain for tracing (for the goal flow, `traces:{<goal_id>}`), if any.
    public let traceIndexKey: @Sendable (Message) -> String?
    /// The hashes the group's receivers will read for a message, loaded for a whole batch in one round trip
    /// before its receivers run (any other hash is loaded when first read).
    public let prefetch: @Sendable (Message) -> [String]
    /// The hashes the receivers will read that only the hashes of ``prefetch`` name (a goal's session): given
    /// the message and a lookup of what was prefetched, loaded for the whole batch in a second round trip.
    public let prefetchNamed: @Sendable (Message, _ prefetched: (String) -> [String: String]?) -> [String]
    /// The hash whose `trace` field, when `1`, traces every chain about it (for the goal flow, `goal:{<goal_id>}`):
    /// a group that has it loaded traces the delivery and marks its emissions `traced`, whatever the sample.
    public let traceFlagKey: @Sendable (Message) -> String?
    /// Plain streams the group appends to that it keeps trimmed (``StreamTrimmer``): outboxes and analytics,
    /// never a ledger.
    public let sinks: [String]

    /// Declares a group.
    /// - Parameters:
    ///   - name: the group's name, also its consumer group's.
    ///   - receivers: the receivers in declaration order.
    ///   - traceIndexKey: the sorted set indexing a chain for tracing, per message.
    ///   - prefetch: the hashes the receivers will read for a message, loaded ahead for the whole batch.
    ///   - prefetchNamed: the hashes they will read that the prefetched hashes name, loaded ahead too.
    ///   - traceFlagKey: the hash whose `trace` field turns tracing on for the chains about it.
    ///   - sinks: the plain streams it appends to and keeps trimmed.
    public init(
        name: String, receivers: [Receiver],
        traceIndexKey: @escaping @Sendable (Message) -> String? = { _ in nil },
        prefetch: @escaping @Sendable (Message) -> [String] = { _ in [] },
        prefetchNamed: @escaping @Sendable (Message, _ prefetched: (String) -> [String: String]?) -> [String] = { _, _ in [] },
        traceFlagKey: @escaping @Sendable (Message) -> String? = { _ in nil },
        sinks: [String] = []
    ) {
        self.sinks = sinks
        self.traceFlagKey = traceFlagKey
        self.name = name
        self.receivers = receivers
        self.traceIndexKey = traceIndexKey
        self.prefetch = prefetch
        self.prefetchNamed = prefetchNamed
    }

    /// Every topic some receiver of the group listens to, sorted by key.
    public var topics: [Topic] {
        Array(Set(receivers.flatMap(\.topics))).sorted()
    }

    /// The receivers of `topic`, in declaration order.
    public func receivers(of topic: Topic) -> [Receiver] {
        receivers.filter { $0.topics.contains(topic) }
    }
}
