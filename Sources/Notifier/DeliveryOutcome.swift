/// What one request to Pusher came to.
enum DeliveryOutcome: Sendable {
    /// Pusher accepted the event (2xx).
    case delivered(status: Int)
    /// Pusher refused the event for good (4xx other than 408 and 429, or an unexpected status): retrying
    /// the same request cannot succeed.
    case rejected(status: Int, body: String)
    /// A 5xx, 408, 429, a timeout or a connection error: worth retrying later.
    case failed(reason: String)
}
