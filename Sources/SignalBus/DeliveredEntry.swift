import Redis

/// One stream entry handed to a consumer: read, claimed after the idle time, or taken over from a stopped
/// replica of its group.
public struct DeliveredEntry: Sendable, Hashable {
    /// The stream it is on.
    public let stream: String
    /// Its entry id, used to acknowledge it.
    public let id: String
    /// Its fields.
    public let fields: [String: String]
    /// How many times it has been delivered to the group, this delivery included.
    public let deliveries: Int

    /// Creates an entry from its parts.
    public init(stream: String, id: String, fields: [String: String], deliveries: Int) {
        self.stream = stream
        self.id = id
        self.fields = fields
        self.deliveries = deliveries
    }

    /// Decodes `[id, [field, value, …]]` as `XREADGROUP`, `XCLAIM` and the take-over script answer it; `nil` for
    /// a reply of another shape (`XCLAIM` answers nil for an entry deleted from the stream).
    init?(_ reply: RedisValue, stream: String, deliveries: Int) {
        guard let parts = reply.array, parts.count == 2, let id = parts[0].string else { return nil }
        self.init(stream: stream, id: id, fields: parts[1].fieldMap, deliveries: deliveries)
    }
}
