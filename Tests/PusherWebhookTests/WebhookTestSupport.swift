import PusherWebhook

/// When the test webhooks arrive: 2024-11-26T05:46:40Z, the `time_ms` of the sample bodies.
let receivedAtMs: Int64 = 1_732_600_000_000

/// Parses `body` with the default window, received at ``receivedAtMs``.
func parse(_ body: String, receivedAt: Int64 = receivedAtMs) throws(WebhookError) -> Webhook {
    try WebhookParser().parse(Array(body.utf8), receivedAtMs: receivedAt)
}

/// A body at ``receivedAtMs`` holding `events`, a JSON array written out.
func body(events: String) -> String {
    #"{"time_ms":1732600000000,"events":\#(events)}"#
}
