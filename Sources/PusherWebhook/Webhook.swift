/// A validated Pusher webhook: its time and the events worth storing.
public struct Webhook: Sendable, Hashable {
    /// When the webhook was made, Unix milliseconds: `time_ms`, else `timestamp`, else the time of receipt.
    public var timeMs: Int64
    /// The events with a known name and a valid channel, in the order sent.
    public var events: [WebhookEvent]
    /// How many events were skipped: unknown names and invalid channel names.
    public var ignored: Int

    /// Creates a webhook.
    public init(timeMs: Int64, events: [WebhookEvent], ignored: Int) {
        self.timeMs = timeMs
        self.events = events
        self.ignored = ignored
    }
}
