import Redis

/// One entry of the outbox stream: the event it asks for and where it came from.
struct OutboxEntry: Sendable {
    /// The stream entry id, used to acknowledge it.
    let entryID: String
    /// The event to send; `nil` when the entry lacks a `channel` or an `event`.
    let event: PusherEvent?
    /// The id of the message whose receiver wrote it (`cause`), for logs.
    let cause: String

    /// Decodes `[id, [field, value, …]]` from `XREADGROUP` or `XCLAIM`; `nil` for a reply of another shape.
    init?(_ reply: RedisValue) {
        guard let parts = reply.array, parts.count == 2, let entryID = parts[0].string else { return nil }
        let fields = parts[1].fieldMap
        self.entryID = entryID
        cause = fields["cause"] ?? ""
        if let channel = fields["channel"], !channel.isEmpty, let name = fields["event"], !name.isEmpty {
            event = PusherEvent(channel: channel, name: name, data: fields["data"] ?? "{}")
        } else {
            event = nil
        }
    }
}
