extension JSONReader {
    /// Reads the number starting at `index`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    mutating func readNumber() throws(JSONParseError) -> JSONNumber {
        let start = index
        if peek() == UInt8(ascii: "-") {
            index += 1
        }
        guard let first = peek(), Self.isDigit(first) else {
            throw failure("expected a digit")
        }
        if first == UInt8(ascii: "0") {
            index += 1
            if let next = peek(), Self.isDigit(next) {
                throw JSONParseError(offset: start, message: "leading zero in a number")
            }
        } else {
            skipDigits()
        }
        var isInteger = true
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            try readDigits(after: "'.'")
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") {
                index += 1
            }
            try readDigits(after: "the exponent mark")
        }
        let literal = String(decoding: bytes[start..<index], as: UTF8.self)
        return JSONNumber(validLiteral: literal, isInteger: isInteger)
    }

    private mutating func readDigits(after what: String) throws(JSONParseError) {
        guard let byte = peek(), Self.isDigit(byte) else {
            throw failure("expected a digit after \(what)")
        }
        skipDigits()
    }

    private mutating func skipDigits() {
        while let byte = peek(), Self.isDigit(byte) {
            index += 1
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
