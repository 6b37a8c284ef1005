/// A receiver broke a rule of the bus, or could not act on a message it accepted.
public struct ReceiverError: Error, CustomStringConvertible, Sendable {
    /// The receiver's name.
    public let receiver: String
    /// What went wrong.
    public let message: String

    /// Creates the error.
    public init(receiver: String, message: String) {
        self.receiver = receiver
        self.message = message
    }

    public var description: String { "receiver \(receiver): \(message)" }
}
