/// The cursor behind ``JSONParser``: reads values from `bytes` starting at `index`.
struct JSONReader {
    let bytes: [UInt8]
    let maxDepth: Int
    var index = 0

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Reads a whole document: one value, surrounded by optional whitespace only.
    mutating func readDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try readValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else {
            throw failure("unexpected data after the JSON value")
        }
        return value
    }

    /// Reads the value starting at `index`; `depth` is the number of containers around it.
    private mutating func readValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard let byte = peek() else {
            throw failure("unexpected end of input")
        }
        switch byte {
        case UInt8(ascii: "{"):
            return .object(try readObject(depth: depth + 1))
        case UInt8(ascii: "["):
            return .array(try readArray(depth: depth + 1))
        case UInt8(ascii: "\""):
            return .string(try readString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try readNumber())
        case UInt8(ascii: "t"):
            try readLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try readLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try readLiteral("null")
            return .null
        default:
            throw failure("unexpected \(Self.describe(byte))")
        }
    }

    private mutating func readObject(depth: Int) throws(JSONParseError) -> JSONObject {
        try checkDepth(depth)
        index += 1
        skipWhitespace()
        var members: [(key: String, value: JSONValue)] = []
        var seen: Set<String> = []
        if peek() == UInt8(ascii: "}") {
            index += 1
            return JSONObject(members)
        }
        while true {
            guard peek() == UInt8(ascii: "\"") else {
                throw failure("expected a string key")
            }
            let keyOffset = index
            let key = try readString()
            guard seen.insert(key).inserted else {
                throw JSONParseError(offset: keyOffset, message: "duplicate key \(Self.quote(key))")
            }
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else {
                throw failure("expected ':' after an object key")
            }
            index += 1
            skipWhitespace()
            members.append((key, try readValue(depth: depth)))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                index += 1
                return JSONObject(members)
            default:
                throw failure("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func readArray(depth: Int) throws(JSONParseError) -> [JSONValue] {
        try checkDepth(depth)
        index += 1
        skipWhitespace()
        var elements: [JSONValue] = []
        if peek() == UInt8(ascii: "]") {
            index += 1
            return elements
        }
        while true {
            elements.append(try readValue(depth: depth))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                index += 1
                return elements
            default:
                throw failure("expected ',' or ']' in an array")
            }
        }
    }

    private mutating func readLiteral(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        let matches = word.withUTF8Buffer { expected in
            index + count <= bytes.count && bytes[index..<index + count].elementsEqual(expected)
        }
        guard matches else {
            throw failure("invalid literal, expected '\(word)'")
        }
        index += count
    }

    private func checkDepth(_ depth: Int) throws(JSONParseError) {
        guard depth <= maxDepth else {
            throw failure("nesting deeper than \(maxDepth) levels")
        }
    }

    func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func skipWhitespace() {
        while let byte = peek(),
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
                || byte == UInt8(ascii: "\t")
        {
            index += 1
        }
    }

    /// An error at the current position.
    func failure(_ message: String) -> JSONParseError {
        JSONParseError(offset: index, message: message)
    }

    /// `character 'x'` for printable ASCII, `byte 0xNN` otherwise.
    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F {
            return "character '\(Character(Unicode.Scalar(byte)))'"
        }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x\(hex.count == 1 ? "0" + hex : hex)"
    }

    /// A key quoted for an error message, cut to 64 characters.
    private static func quote(_ key: String) -> String {
        let shown = key.prefix(64)
        let text = shown.endIndex == key.endIndex ? String(shown) : shown + "…"
        return JSONValue.string(text).serialized
    }
}
