import SignalBus

/// The gateway's answer to one webhook: an HTTP status and a JSON body.
public struct WebhookResult: Sendable, Hashable {
    /// The HTTP status code.
    public let status: Int
    /// The JSON body.
    public let body: String
    /// Seconds for the `Retry-After` header of a 503 that asks the sender to come back later.
    public var retryAfter: Int? = nil

    static func accepted(_ accepted: Int, ignored: Int) -> WebhookResult {
        WebhookResult(status: 200, body: #"{"accepted":\#(accepted),"ignored":\#(ignored)}"#)
    }

    /// A 503 refusing new work while a group's backlog is past its limit: Pusher retries it.
    static func backlogged(_ reason: String, retryAfter: Int) -> WebhookResult {
        var result = error(503, "not stored, try again later: \(reason)")
        result.retryAfter = retryAfter
        return result
    }

    static func error(_ status: Int, _ message: String, field: String? = nil) -> WebhookResult {
        var members = [("error", JSONText.quoted(message))]
        if let field { members.append(("field", JSONText.quoted(field))) }
        return WebhookResult(status: status, body: JSONText.object(members))
    }
}
