/// What one receiver did with one message, as `goalctl trace` shows it (stored per message and group as a
/// ``TraceEntry`` in the chain's trace hash; ``ChainTrace`` reads a chain back).
public struct TraceRecord: Sendable, Hashable, Codable {
    /// A message the receiver published.
    public struct Published: Sendable, Hashable, Codable {
        /// The bare topic name.
        public var signal: String
        /// `signal` or `task`.
        public var kind: String
        /// The new message's envelope id.
        public var id: String

        /// Its stream's name: `task:deactivate_goal`.
        var topicKey: String { "\(kind):\(signal)" }

        /// As a ``TraceEntry`` stores it: `<stream name>#<id>`.
        var stored: String { "\(topicKey)#\(id)" }

        /// Reads the stored form back; `nil` when it is not one.
        init?(stored: String) {
            guard let hash = stored.lastIndex(of: "#"), let topic = Topic(key: String(stored[..<hash])) else { return nil }
            self.init(signal: topic.name, kind: topic.kind.rawValue, id: String(stored[stored.index(after: hash)...]))
        }

        init(signal: String, kind: String, id: String) {
            self.signal = signal
            self.kind = kind
            self.id = id
        }
    }

    /// The chain's event time, Unix ms.
    public var atMs: Int64
    /// The topic's bare name.
    public var signal: String
    /// `signal` or `task`.
    public var kind: String
    /// The handled message's envelope id.
    public var message: String
    /// Its cause's id.
    public var cause: String
    /// The group that handled it.
    public var group: String
    /// The receiver.
    public var receiver: String
    /// Whether it acted (`false`: it returned).
    public var acted: Bool
    /// Why it returned; empty when it acted.
    public var reason: String
    /// What it published.
    public var published: [Published]
    /// What it changed, one line per write.
    public var writes: [String]
    /// Why the delivery failed, for a failed, conflicted or dead-lettered delivery; `nil` when it did not.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case atMs = "at_ms", signal, kind, message, cause, group, receiver, acted, reason, published, writes, error
    }

}

/// What one group did with one message of a traced chain (or with a delivery that failed, in any chain),
/// kept in the chain's trace hash (``TraceKeys``) under the field `<group> <message id>`: each receiver's
/// outcome in declaration order.
///
/// Stored compactly: what the field already says (the message id, the group) is left out. The stored JSON
/// has the message's `topic` (its stream name, `signal:goal.ended`), its `cause` (left out on a chain's root,
/// which has `at_ms` instead), per receiver its name, then either the `reason` it returned or what it
/// `published` (`<topic>#<id>`) and the `writes` it asked for, each left out when empty, and the `error` of
/// a delivery that failed:
///
/// ```json
/// {"topic":"signal:goal.completed","cause":"1f0c…","receivers":[{"receiver":"notify_livestream_mvps","reason":"not a livestream goal"},
///  {"receiver":"deactivate_goal","published":["task:deactivate_goal#7b06c0fbf4b038e1a99f"]}]}
/// ```
/// ``ChainTrace`` reads a chain's entries back into ``TraceRecord``s.
public struct TraceEntry: Sendable, Hashable {
    /// One receiver's outcome.
    public struct Outcome: Sendable, Hashable {
        /// The receiver.
        public var receiver: String
        /// Whether it acted (`false`: it returned).
        public var acted: Bool
        /// Why it returned; empty when it acted.
        public var reason: String
        /// What it published.
        public var published: [TraceRecord.Published]
        /// What it changed, one line per write.
        public var writes: [String]
    }

    /// The chain's event time, Unix ms.
    public var atMs: Int64
    /// The handled message's topic.
    public var topic: Topic
    /// The handled message's envelope id.
    public var message: String
    /// Its cause's id; empty for a chain's root.
    public var cause: String
    /// The group that handled it.
    public var group: String
    /// Each receiver's outcome, in declaration order.
    public var receivers: [Outcome]
    /// Why the delivery failed; `nil` when it did not.
    public var error: String? = nil

    /// One record per receiver; a failed delivery whose receivers did not all run has one more, for the
    /// delivery itself, named `-`.
    public var records: [TraceRecord] {
        var records = receivers.map {
            TraceRecord(
                atMs: atMs, signal: topic.name, kind: topic.kind.rawValue, message: message, cause: cause, group: group,
                receiver: $0.receiver, acted: $0.acted, reason: $0.reason, published: $0.published, writes: $0.writes, error: error
            )
        }
        if let error, records.isEmpty {
            records.append(TraceRecord(
                atMs: atMs, signal: topic.name, kind: topic.kind.rawValue, message: message, cause: cause, group: group,
                receiver: "-", acted: false, reason: "failed", published: [], writes: [], error: error
            ))
        }
        return records
    }

    /// The entry as stored (compact JSON, UTF-8), written straight into bytes: one is built per message per group.
    var json: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + 80 * receivers.count)
        func put(_ text: StaticString) {
            bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        put(#"{"topic":"#); JSONText.appendQuoted(topic.key, to: &bytes)
        if cause.isEmpty {
            put(#","at_ms":"#); bytes.append(contentsOf: String(atMs).utf8)
        } else {
            put(#","cause":"#); JSONText.appendQuoted(cause, to: &bytes)
        }
        if let error {
            put(#","error":"#); JSONText.appendQuoted(error, to: &bytes)
        }
        put(#","receivers":["#)
        for (index, outcome) in receivers.enumerated() {
            if index > 0 { put(",") }
            put(#"{"receiver":"#); JSONText.appendQuoted(outcome.receiver, to: &bytes)
            if !outcome.acted {
                put(#","reason":"#); JSONText.appendQuoted(outcome.reason, to: &bytes)
            }
            if !outcome.published.isEmpty {
                put(#","published":["#)
                for (number, item) in outcome.published.enumerated() {
                    if number > 0 { put(",") }
                    JSONText.appendQuoted(item.stored, to: &bytes)
                }
                put("]")
            }
            if !outcome.writes.isEmpty {
                put(#","writes":["#)
                for (number, write) in outcome.writes.enumerated() {
                    if number > 0 { put(",") }
                    JSONText.appendQuoted(write, to: &bytes)
                }
                put("]")
            }
            put("}")
        }
        put("]}")
        return bytes
    }
}
