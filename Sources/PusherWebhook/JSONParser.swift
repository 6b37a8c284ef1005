/// A strict RFC 8259 JSON parser over raw bytes, meant for untrusted input.
///
/// It refuses invalid UTF-8 (overlong forms, surrogates, bytes past U+10FFFF), lone surrogates in `\u` escapes,
/// control characters in strings, leading zeros, trailing data after the value and duplicate object keys.
/// Nesting is limited, so a hostile document fails with an error rather than exhausting the stack.
public struct JSONParser: Sendable {
    /// The deepest nesting of arrays and objects accepted; the outermost container is level 1.
    ///
    /// Parsing recurses once per level, so keep this small.
    public var maxDepth: Int

    /// Creates a parser accepting at most `maxDepth` levels of nested arrays and objects.
    public init(maxDepth: Int = 64) {
        self.maxDepth = maxDepth
    }

    /// Parses one JSON value that fills `bytes`, whitespace aside.
    /// - Parameter bytes: UTF-8 encoded JSON text, without a byte order mark.
    /// - Returns: the value.
    /// - Throws: ``JSONParseError`` with the offset of the first problem.
    public func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var reader = JSONReader(bytes: bytes, maxDepth: maxDepth)
        return try reader.readDocument()
    }
}
