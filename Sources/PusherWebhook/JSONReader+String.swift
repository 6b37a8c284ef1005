import Hex

extension JSONReader {
    /// Reads the string starting at the opening quote at `index`, checking its UTF-8 and its escapes.
    mutating func readString() throws(JSONParseError) -> String {
        let opening = index
        index += 1
        // Bytes are copied into `unescaped` only once an escape is met; until then the input is sliced.
        var unescaped: [UInt8] = []
        var hasEscapes = false
        var runStart = index
        while true {
            guard let byte = peek() else {
                throw JSONParseError(offset: opening, message: "unterminated string")
            }
            switch byte {
            case UInt8(ascii: "\""):
                let text: String
                if hasEscapes {
                    unescaped.append(contentsOf: bytes[runStart..<index])
                    text = String(decoding: unescaped, as: UTF8.self)
                } else {
                    text = String(decoding: bytes[runStart..<index], as: UTF8.self)
                }
                index += 1
                return text
            case UInt8(ascii: "\\"):
                unescaped.append(contentsOf: bytes[runStart..<index])
                hasEscapes = true
                try readEscape(into: &unescaped)
                runStart = index
            case 0..<0x20:
                throw failure("control character \(Self.describe(byte)) in a string")
            case 0x20..<0x80:
                index += 1
            default:
                try skipMultiByteScalar()
            }
        }
    }

    /// Reads the escape at the backslash at `index` and appends what it stands for as UTF-8.
    private mutating func readEscape(into output: inout [UInt8]) throws(JSONParseError) {
        let start = index
        index += 1
        guard let letter = peek() else {
            throw JSONParseError(offset: start, message: "unterminated escape")
        }
        index += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
            output.append(letter)
        case UInt8(ascii: "b"):
            output.append(0x08)
        case UInt8(ascii: "f"):
            output.append(0x0C)
        case UInt8(ascii: "n"):
            output.append(0x0A)
        case UInt8(ascii: "r"):
            output.append(0x0D)
        case UInt8(ascii: "t"):
            output.append(0x09)
        case UInt8(ascii: "u"):
            let scalar = try readUnicodeEscape(start: start)
            UTF8.encode(scalar) { output.append($0) }
        default:
            throw JSONParseError(offset: start, message: "invalid escape: backslash before \(Self.describe(letter))")
        }
    }

    /// Reads the four hex digits after `\u`, and a second `\uXXXX` when the first is a high surrogate.
    private mutating func readUnicodeEscape(start: Int) throws(JSONParseError) -> Unicode.Scalar {
        let unit = try readHexQuad(start: start)
        switch unit {
        case 0xD800...0xDBFF:
            let lowStart = index
            guard peek() == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                throw JSONParseError(offset: start, message: "lone high surrogate in a \\u escape")
            }
            index += 2
            let low = try readHexQuad(start: lowStart)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw JSONParseError(offset: start, message: "lone high surrogate in a \\u escape")
            }
            let value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            return Self.scalar(value)
        case 0xDC00...0xDFFF:
            throw JSONParseError(offset: start, message: "lone low surrogate in a \\u escape")
        default:
            return Self.scalar(unit)
        }
    }

    /// A scalar from a value that is already known not to be a surrogate and to be at most U+10FFFF.
    private static func scalar(_ value: UInt32) -> Unicode.Scalar {
        Unicode.Scalar(value) ?? "\u{FFFD}"
    }

    private mutating func readHexQuad(start: Int) throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = Hex.value(of: byte) else {
                throw JSONParseError(offset: start, message: "a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// Steps over one well-formed multi-byte UTF-8 sequence (RFC 3629, table 3-7 of the Unicode standard).
    private mutating func skipMultiByteScalar() throws(JSONParseError) {
        let lead = bytes[index]
        let continuations: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF:
            continuations = 1
        case 0xE0:
            continuations = 2
            secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF:
            continuations = 2
        case 0xED:
            continuations = 2
            secondRange = 0x80...0x9F
        case 0xF0:
            continuations = 3
            secondRange = 0x90...0xBF
        case 0xF1...0xF3:
            continuations = 3
        case 0xF4:
            continuations = 3
            secondRange = 0x80...0x8F
        default:
            throw failure("invalid UTF-8 \(Self.describe(lead))")
        }
        for position in 1...continuations {
            let range: ClosedRange<UInt8> = position == 1 ? secondRange : 0x80...0xBF
            guard index + position < bytes.count, range.contains(bytes[index + position]) else {
                throw failure("invalid UTF-8 sequence starting with \(Self.describe(lead))")
            }
        }
        index += 1 + continuations
    }
}
