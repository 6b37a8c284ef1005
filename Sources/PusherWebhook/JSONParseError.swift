/// Why a byte sequence is not accepted as JSON, and where.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The offset, in bytes from the start of the input, where the problem was found.
    public var offset: Int
    /// A short explanation, e.g. `unexpected character '}'`.
    public var message: String

    /// Creates an error at `offset` with `message`.
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    /// `byte <offset>: <message>`.
    public var description: String {
        "byte \(offset): \(message)"
    }
}
