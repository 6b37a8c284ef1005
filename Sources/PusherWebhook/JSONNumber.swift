/// A JSON number: the literal text it was written as, and its values as `Int64` and `Double`.
public struct JSONNumber: Sendable, Hashable {
    /// The number exactly as written, e.g. `"1.50"` or `"-3e2"`.
    public let literal: String
    /// The value when the literal is an integer (no fraction, no exponent) that fits in `Int64`, else `nil`.
    public let int64: Int64?
    /// The nearest `Double`; `±infinity` when the literal is out of `Double`'s range.
    public let double: Double

    /// Creates a number from an integer.
    public init(_ value: Int64) {
        literal = String(value)
        int64 = value
        double = Double(value)
    }

    /// Creates a number from a literal that is already known to follow the JSON number grammar.
    init(validLiteral: String, isInteger: Bool) {
        literal = validLiteral
        int64 = isInteger ? Int64(validLiteral) : nil
        // Every JSON number literal is also a valid `Double` literal; the fallback only keeps this total.
        double = Double(validLiteral) ?? .infinity
    }
}
