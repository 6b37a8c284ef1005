import SignalBus

/// The gateway's answer to one webhook: an HTTP status and a JSON body.
public struct WebhookResult: Sendable, Hashable {
    /// The HTTP status code.
    public let status: Int
    /// The JSON body.
    public let body: String

    static func accepted(_ accepted: Int, ignored: Int) -> WebhookResult {
        WebhookResult(status: 200, body: #"{"accepted":\#(accepted),"ignored":\#(ignored)}"#)
    }

    static func error(_ status: Int, _ message: String, field: String? = nil) -> WebhookResult {
        var members = [("error", JSONText.quoted(message))]
        if let field { members.append(("field", JSONText.quoted(field))) }
        return WebhookResult(status: status, body: JSONText.object(members))
    }
}
