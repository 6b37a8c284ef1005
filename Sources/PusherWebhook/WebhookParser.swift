/// Parses and validates the body of a Pusher webhook (`POST /notify/pusher`).
///
/// A body that breaks the schema is refused whole with a ``WebhookError`` naming the field; events with an
/// unknown name or an invalid channel name are skipped and counted in ``Webhook/ignored``. Unknown fields are
/// ignored, and `null` counts as absent for every optional field.
public struct WebhookParser: Sendable {
    /// How far the webhook's time may be from the time of receipt, into the past or the future.
    public let timeWindow: Duration
    /// `timeWindow` in whole milliseconds.
    let windowMs: Int128

    /// Creates a parser.
    /// - Parameter timeWindow: how far the webhook's time may be from the time of receipt; not negative.
    public init(timeWindow: Duration = .seconds(600)) {
        precondition(timeWindow >= .zero, "the time window cannot be negative")
        self.timeWindow = timeWindow
        let (seconds, attoseconds) = timeWindow.components
        windowMs = Int128(seconds) * 1000 + Int128(attoseconds / 1_000_000_000_000_000)
    }

    /// Parses `body`, checks its schema and its time, and keeps the events worth storing.
    /// - Parameters:
    ///   - body: the raw request body.
    ///   - receivedAtMs: when the gateway received it, Unix milliseconds; the webhook's time when it has none.
    /// - Returns: the webhook's time, the stored events and the count of skipped ones.
    /// - Throws: ``WebhookError`` naming the field that is missing, of the wrong type, or out of the window.
    public func parse(_ body: [UInt8], receivedAtMs: Int64) throws(WebhookError) -> Webhook {
        let root: JSONValue
        do {
            root = try JSONParser().parse(body)
        } catch {
            throw WebhookError(field: "body", message: "invalid JSON at byte \(error.offset): \(error.message)")
        }
        guard case .object(let top) = root else {
            throw WebhookError(field: "body", message: "must be a JSON object, not \(root.kindDescription)")
        }
        guard let eventsValue = top["events"] else {
            throw WebhookError(field: "events", message: "is required")
        }
        guard case .array(let items) = eventsValue else {
            throw WebhookError(field: "events", message: "must be an array, not \(eventsValue.kindDescription)")
        }
        var events: [WebhookEvent] = []
        var ignored = 0
        for (position, item) in items.enumerated() {
            let event = try Self.event(from: item, field: "events[\(position)]")
            if WebhookEvent.knownNames.contains(event.name) && WebhookEvent.isValidChannel(event.channel) {
                events.append(event)
            } else {
                ignored += 1
            }
        }
        let timeMs = try resolveTime(in: top, receivedAtMs: receivedAtMs)
        return Webhook(timeMs: timeMs, events: events, ignored: ignored)
    }
}
