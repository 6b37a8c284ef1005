/// One message read from a stream: the envelope the bus fills in, and the payload a receiver supplied.
public struct Message: Sendable, Hashable {
    /// The topic (and so the stream) it was read from.
    public let topic: Topic
    /// The stream entry id (`1732600000000-0`), used to acknowledge it.
    public let entryID: String
    /// The envelope id, unique per message; duplicates are recognised by it.
    public let id: String
    /// Event time of the chain's root, Unix milliseconds.
    public let atMs: Int64
    /// The id of the message that caused this one; empty for a webhook event.
    public let cause: String
    /// The id of the webhook event (or sweep/operator action) at the root of the chain.
    public let trace: String
    /// The payload fields, flattened with dots (`goal_id`, `context.started`, `levels.0.target`).
    public let payload: [String: String]
    /// The partition of the topic's stream it was read from; `nil` when streams are not partitioned.
    public let partition: Partition?

    /// The envelope field names, in the order they are written.
    public static let envelopeFields = ["id", "signal", "at_ms", "cause", "trace"]

    /// Creates a message from its parts.
    public init(
        topic: Topic, entryID: String, id: String, atMs: Int64, cause: String, trace: String, payload: [String: String],
        partition: Partition? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.entryID = entryID
        self.id = id
        self.atMs = atMs
        self.cause = cause
        self.trace = trace
        self.payload = payload
    }

    /// Decodes a stream entry's fields; `nil` when the envelope is incomplete or malformed.
    public init?(topic: Topic, entryID: String, fields: consuming [String: String], partition: Partition? = nil) {
        guard let id = fields["id"], !id.isEmpty,
              let atText = fields["at_ms"], let atMs = Int64(atText) else { return nil }
        let cause = fields["cause"] ?? ""
        let trace = fields["trace"] ?? id
        // The entry's own fields become the payload in place: no copy of the dictionary per message.
        var payload = consume fields
        for name in Self.envelopeFields { payload[name] = nil }
        self.init(topic: topic, entryID: entryID, id: id, atMs: atMs, cause: cause, trace: trace, payload: payload, partition: partition)
    }

    /// The stream it was read from: the topic's key, or its partition's.
    public var streamKey: String { topic.key(partition: partition) }

    /// A payload field.
    public subscript(field: String) -> String? { payload[field] }

    /// The chain's "now": the root event time in whole seconds (floor).
    public var now: Int64 {
        atMs >= 0 ? atMs / 1000 : (atMs - 999) / 1000
    }
}
