/// What one receiver did with one message, as kept in `trace:<trace>` for `goalctl trace`.
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

    /// The record as compact JSON.
    var json: String {
        JSONText.object([
            ("at_ms", String(atMs)),
            ("signal", JSONText.quoted(signal)),
            ("kind", JSONText.quoted(kind)),
            ("message", JSONText.quoted(message)),
            ("cause", JSONText.quoted(cause)),
            ("group", JSONText.quoted(group)),
            ("receiver", JSONText.quoted(receiver)),
            ("acted", acted ? "true" : "false"),
            ("reason", JSONText.quoted(reason)),
            ("published", JSONText.array(published.map {
                JSONText.object([("signal", JSONText.quoted($0.signal)), ("kind", JSONText.quoted($0.kind)), ("id", JSONText.quoted($0.id))])
            })),
            ("writes", JSONText.array(writes.map(JSONText.quoted))),
        ])
    }
}
