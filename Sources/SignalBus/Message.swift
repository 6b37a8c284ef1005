import Redis

/// One message read from a stream: the envelope the bus fills in, and the payload a receiver supplied.
///
/// Its parts are kept in one immutable object, so the copies a message goes through while it is handled
/// (its context, its commit, its trace) each cost one reference, not one per field.
public struct Message: Sendable, Hashable {
    private let storage: Storage

    /// The topic (and so the stream) it was read from.
    public var topic: Topic { storage.topic }
    /// The stream entry id (`1732600000000-0`), used to acknowledge it.
    public var entryID: String { storage.entryID }
    /// The envelope id, unique per message; duplicates are recognised by it.
    public var id: String { storage.id }
    /// Event time of the chain's root, Unix milliseconds.
    public var atMs: Int64 { storage.atMs }
    /// The id of the message that caused this one; empty for a webhook event.
    public var cause: String { storage.cause }
    /// The id of the webhook event (or sweep/operator action) at the root of the chain.
    public var trace: String { storage.trace }
    /// The payload fields, flattened with dots (`goal_id`, `context.started`, `levels.0.target`).
    public var payload: [String: String] { storage.payload }
    /// The partition of the topic's stream it was read from; `nil` when streams are not partitioned.
    public var partition: Partition? { storage.partition }
    /// The stream it was read from: the topic's key, or its partition's.
    public var streamKey: String { storage.streamKey }
    /// Whether its chain is traced: the optional envelope field `traced` (`1`), set at the chain's root by the
    /// sample or the goal's own `trace` flag, and carried downstream.
    public var traced: Bool { storage.traced }
    /// For a replayed dead letter, the one group that handles it (`replay.group`); every other group
    /// acknowledges it without running a receiver. `nil` for every other message.
    public var replayGroup: String? { storage.replayGroup }

    /// A message's parts, immutable.
    private final class Storage: Sendable, Hashable {
        let topic: Topic
        let entryID: String
        let id: String
        let atMs: Int64
        let cause: String
        let trace: String
        /// The payload's field names as read, in order, and their values: a message has a handful, so a
        /// look-up scans the names rather than hashing every name as a dictionary would when the message is
        /// decoded.
        let names: [String]
        let values: [String]
        let partition: Partition?
        let streamKey: String
        let traced: Bool
        let replayGroup: String?

        init(
            topic: Topic, entryID: String, id: String, atMs: Int64, cause: String, trace: String, names: [String], values: [String],
            partition: Partition?, traced: Bool, replayGroup: String?
        ) {
            self.topic = topic
            self.entryID = entryID
            self.id = id
            self.atMs = atMs
            self.cause = cause
            self.trace = trace
            self.names = names
            self.values = values
            self.partition = partition
            self.streamKey = topic.key(partition: partition)
            self.traced = traced
            self.replayGroup = replayGroup
        }

        /// The payload as a dictionary (a field given twice keeps its last value, as look-ups find it).
        var payload: [String: String] { Dictionary(zip(names, values)) { _, last in last } }

        static func == (lhs: Storage, rhs: Storage) -> Bool {
            lhs === rhs || (
                lhs.topic == rhs.topic && lhs.entryID == rhs.entryID && lhs.id == rhs.id && lhs.atMs == rhs.atMs
                    && lhs.cause == rhs.cause && lhs.trace == rhs.trace && lhs.payload == rhs.payload
                    && lhs.partition == rhs.partition && lhs.traced == rhs.traced && lhs.replayGroup == rhs.replayGroup
            )
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(topic)
            hasher.combine(entryID)
            hasher.combine(id)
            hasher.combine(atMs)
            hasher.combine(cause)
            hasher.combine(trace)
            hasher.combine(payload)
            hasher.combine(partition)
            hasher.combine(traced)
            hasher.combine(replayGroup)
        }
    }

    /// The envelope field names, in the order they are written.
    public static let envelopeFields = ["id", "signal", "at_ms", "cause", "trace"]
    /// The optional envelope field that marks a traced chain.
    public static let tracedField = "traced"
    /// The field naming the group a replayed dead letter is for.
    public static let replayGroupField = "replay.group"

    /// Creates a message from its parts.
    public init(
        topic: Topic, entryID: String, id: String, atMs: Int64, cause: String, trace: String, payload: [String: String],
        partition: Partition? = nil, traced: Bool = false, replayGroup: String? = nil
    ) {
        let names = payload.keys.sorted()
        self.init(
            topic: topic, entryID: entryID, id: id, atMs: atMs, cause: cause, trace: trace,
            names: names, values: names.map { payload[$0]! },
            partition: partition, traced: traced, replayGroup: replayGroup
        )
    }

    private init(
        topic: Topic, entryID: String, id: String, atMs: Int64, cause: String, trace: String, names: [String], values: [String],
        partition: Partition?, traced: Bool, replayGroup: String?
    ) {
        storage = Storage(
            topic: topic, entryID: entryID, id: id, atMs: atMs, cause: cause, trace: trace, names: names, values: values,
            partition: partition, traced: traced, replayGroup: replayGroup
        )
    }

    /// Decodes a stream entry's fields; `nil` when the envelope is incomplete or malformed.
    public init?(topic: Topic, entryID: String, fields: consuming [String: String], partition: Partition? = nil) {
        guard let id = fields["id"], !id.isEmpty,
              let atText = fields["at_ms"], let atMs = Int64(atText) else { return nil }
        let cause = fields["cause"] ?? ""
        let trace = fields["trace"] ?? id
        var payload = consume fields
        for name in Self.envelopeFields { payload[name] = nil }
        let traced = payload.removeValue(forKey: Self.tracedField) == "1"
        let replayGroup = payload.removeValue(forKey: Self.replayGroupField)
        self.init(
            topic: topic, entryID: entryID, id: id, atMs: atMs, cause: cause, trace: trace, payload: payload, partition: partition,
            traced: traced, replayGroup: replayGroup
        )
    }

    /// Decodes a stream entry's fields as read (alternating field/value replies), straight into the envelope
    /// and the payload: the envelope fields are picked out as they come, so no dictionary of all the fields is
    /// made first. `nil` when the envelope is incomplete or malformed, as ``init(topic:entryID:fields:partition:)``.
    public init?(topic: Topic, entryID: String, fields: RedisReplyView, partition: Partition? = nil) {
        var id: String?
        var atText: String?
        var cause: String?
        var trace: String?
        var traced: String?
        var replayGroup: String?
        var names: [String] = []
        var values: [String] = []
        names.reserveCapacity(fields.count / 2)
        values.reserveCapacity(fields.count / 2)
        fields.forEachPair { field, value in
            guard let name = field.string, let text = value.string else { return }
            switch name {
            case "id": id = text
            case "at_ms": atText = text
            case "cause": cause = text
            case "trace": trace = text
            case "signal": break
            case Self.tracedField: traced = text
            case Self.replayGroupField: replayGroup = text
            default:
                names.append(name)
                values.append(text)
            }
        }
        guard let id, !id.isEmpty, let atText, let atMs = Int64(atText) else { return nil }
        self.init(
            topic: topic, entryID: entryID, id: id, atMs: atMs, cause: cause ?? "", trace: trace ?? id, names: names, values: values,
            partition: partition, traced: traced == "1", replayGroup: replayGroup
        )
    }

    /// A payload field.
    public subscript(field: String) -> String? {
        // From the end: a field given twice has its last value, as a dictionary of the entry would.
        storage.names.lastIndex(of: field).map { storage.values[$0] }
    }

    /// The chain's "now": the root event time in whole seconds (floor).
    public var now: Int64 {
        atMs >= 0 ? atMs / 1000 : (atMs - 999) / 1000
    }
}
