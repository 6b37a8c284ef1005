import SignalBus

/// One entry of the outbox stream: the event it asks for and where it came from.
struct OutboxEntry: Sendable {
    /// The stream entry id, used to acknowledge it.
    let entryID: String
    /// The event to send; `nil` when the entry lacks a `channel` or an `event`.
    let event: PusherEvent?
    /// The id of the message whose receiver wrote it (`cause`), for logs.
    let cause: String

    /// The outbox entry that a stream entry holds.
    init(_ entry: DeliveredEntry) {
        entryID = entry.id
        cause = entry.fields["cause"] ?? ""
        if let channel = entry.fields["channel"], !channel.isEmpty, let name = entry.fields["event"], !name.isEmpty {
            event = PusherEvent(channel: channel, name: name, data: entry.fields["data"] ?? "{}")
        } else {
            event = nil
        }
    }
}
