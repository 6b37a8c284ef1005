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
        var members = [#""error":\#(quoted(message))"#]
        if let field { members.append(#""field":\#(quoted(field))"#) }
        return WebhookResult(status: status, body: "{" + members.joined(separator: ",") + "}")
    }

    private static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case _ where scalar.value < 0x20: result += "?"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
