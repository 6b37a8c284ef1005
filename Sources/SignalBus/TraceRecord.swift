/// What one receiver did with one message, as `goalctl trace` shows it (stored per message and group as a
/// ``TraceEntry``, the value of the message's done marker; ``ChainTrace`` reads a chain back).
public struct TraceRecord: Sendable, Hashable, Codable {
    /// A message the receiver published.
    public struct Published: Sendable, Hashable, Codable {
        /// The bare topic name.
        public var signal: String
        /// `signal` or `task`.
        public var kind: String
        /// The new message's envelope id.
        public var id: String
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

    enum CodingKeys: String, CodingKey {
        case atMs = "at_ms", signal, kind, message, cause, group, receiver, acted, reason, published, writes
    }

}

/// What one group did with one message, kept as the value of its done marker `done:<group>:<message id>`:
/// the message, then each receiver's outcome in declaration order.
public struct TraceEntry: Sendable, Hashable, Codable {
    /// One receiver's outcome.
    public struct Outcome: Sendable, Hashable, Codable {
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
    /// Each receiver's outcome, in declaration order.
    public var receivers: [Outcome]

    enum CodingKeys: String, CodingKey {
        case atMs = "at_ms", signal, kind, message, cause, group, receivers
    }

    /// One record per receiver.
    public var records: [TraceRecord] {
        receivers.map {
            TraceRecord(
                atMs: atMs, signal: signal, kind: kind, message: message, cause: cause, group: group, receiver: $0.receiver,
                acted: $0.acted, reason: $0.reason, published: $0.published, writes: $0.writes
            )
        }
    }

    /// The entry as compact JSON (UTF-8), written straight into bytes: one is built per message per group.
    var json: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(160 + 120 * receivers.count)
        func put(_ text: StaticString) {
            bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        put(#"{"at_ms":"#); bytes += Array(String(atMs).utf8)
        put(#","signal":"#); JSONText.appendQuoted(signal, to: &bytes)
        put(#","kind":"#); JSONText.appendQuoted(kind, to: &bytes)
        put(#","message":"#); JSONText.appendQuoted(message, to: &bytes)
        put(#","cause":"#); JSONText.appendQuoted(cause, to: &bytes)
        put(#","group":"#); JSONText.appendQuoted(group, to: &bytes)
        put(#","receivers":["#)
        for (index, outcome) in receivers.enumerated() {
            if index > 0 { put(",") }
            put(#"{"receiver":"#); JSONText.appendQuoted(outcome.receiver, to: &bytes)
            put(outcome.acted ? #","acted":true"# : #","acted":false"#)
            put(#","reason":"#); JSONText.appendQuoted(outcome.reason, to: &bytes)
            put(#","published":["#)
            for (number, item) in outcome.published.enumerated() {
                if number > 0 { put(",") }
                put(#"{"signal":"#); JSONText.appendQuoted(item.signal, to: &bytes)
                put(#","kind":"#); JSONText.appendQuoted(item.kind, to: &bytes)
                put(#","id":"#); JSONText.appendQuoted(item.id, to: &bytes)
                put("}")
            }
            put(#"],"writes":["#)
            for (number, write) in outcome.writes.enumerated() {
                if number > 0 { put(",") }
                JSONText.appendQuoted(write, to: &bytes)
            }
            put("]}")
        }
        put("]}")
        return bytes
    }
}
