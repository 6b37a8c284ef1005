/// A message published from outside a receiver (the gateway, the expiry sweep, an operator), with its
/// envelope given explicitly.
public struct OutgoingMessage: Sendable, Hashable {
    /// Where it goes.
    public var topic: Topic
    /// The envelope id.
    public var id: String
    /// The event time, Unix milliseconds.
    public var atMs: Int64
    /// The causing message's id; empty at the root of a chain.
    public var cause: String
    /// The root event's id; a root message's trace is its own id.
    public var trace: String
    /// Payload fields in order.
    public var payload: [(String, String)]
    /// A key that, while it exists, marks this message as already published (for recognising retries);
    /// `nil` publishes unconditionally.
    public var dedupKey: String?
    /// What picks the message's partition when streams are partitioned: the goal it is about (so its whole
    /// chain stays in one partition, in order), or the channel of an event about no goal; `nil` uses the id.
    public var routingKey: String?
    /// A hash whose `trace` field, when `1`, traces the chain this message starts, whatever the sample (for a
    /// goal's events, `goal:{<goal_id>}`). Read atomically with the publish on one server; on a cluster, where
    /// it lies in another slot, the groups that read it trace the chain from there on.
    public var traceFlagKey: String?

    /// Creates a root message (its own trace, no cause).
    public init(
        topic: Topic, id: String, atMs: Int64, payload: [(String, String)], dedupKey: String? = nil,
        routingKey: String? = nil, cause: String = "", trace: String? = nil, traceFlagKey: String? = nil
    ) {
        self.topic = topic
        self.traceFlagKey = traceFlagKey
        self.routingKey = routingKey
        self.id = id
        self.atMs = atMs
        self.cause = cause
        self.trace = trace ?? id
        self.payload = payload
        self.dedupKey = dedupKey
    }

    /// The stream fields: envelope then payload.
    var fields: [(String, String)] {
        [("id", id), ("signal", topic.name), ("at_ms", String(atMs)), ("cause", cause), ("trace", trace)] + payload
    }

    /// The stream fields of a traced chain's root: the envelope, `traced`, then the payload.
    var tracedFields: [(String, String)] {
        [("id", id), ("signal", topic.name), ("at_ms", String(atMs)), ("cause", cause), ("trace", trace), (Message.tracedField, "1")] + payload
    }

    public static func == (lhs: OutgoingMessage, rhs: OutgoingMessage) -> Bool {
        lhs.fields.elementsEqual(rhs.fields, by: ==) && lhs.dedupKey == rhs.dedupKey && lhs.topic == rhs.topic && lhs.routingKey == rhs.routingKey
            && lhs.traceFlagKey == rhs.traceFlagKey
    }

    public func hash(into hasher: inout Hasher) {
        for (field, value) in fields {
            hasher.combine(field)
            hasher.combine(value)
        }
        hasher.combine(dedupKey)
    }
}
