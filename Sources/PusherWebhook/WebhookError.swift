/// Why a webhook body is refused as a whole, naming the field at fault.
public struct WebhookError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field, as a path: `body`, `events`, `events[3].channel`, `time_ms`, `timestamp`.
    public var field: String
    /// What is wrong with it, e.g. `must be a string, not a number`.
    public var message: String

    /// Creates an error about `field`.
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    /// `<field>: <message>`.
    public var description: String {
        "\(field): \(message)"
    }
}
