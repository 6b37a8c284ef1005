import PusherWebhook
import Testing

@Suite struct JSONParserTests {
    let parser = JSONParser()

    @Test func parsesNestedDocumentInOrder() throws {
        let value = try parser.parse(Array(#" {"z":[1,true,false,null,"x"],"a":{}} "#.utf8))
        let expected: JSONValue = .object([
            "z": .array([.number(JSONNumber(1)), .bool(true), .bool(false), .null, .string("x")]),
            "a": .object([:]),
        ])
        #expect(value == expected)
        guard case .object(let object) = value else {
            Issue.record("expected an object")
            return
        }
        #expect(object.keys == ["z", "a"])
    }

    @Test func acceptsAllFourWhitespaceBytes() throws {
        let value = try parser.parse(Array(" \t\n\r[ 1 ,\t2 ]\r\n".utf8))
        #expect(value == .array([.number(JSONNumber(1)), .number(JSONNumber(2))]))
    }

    @Test(
        arguments: [
            ("0", Int64(0), 0.0),
            ("-0", Int64(0), -0.0),
            ("42", Int64(42), 42.0),
            ("9223372036854775807", Int64.max, 9.223372036854775807e18),
            ("-9223372036854775808", Int64.min, -9.223372036854775808e18),
            ("9223372036854775808", nil, 9.223372036854775808e18),
            ("123456789012345678901234567890", nil, 1.2345678901234568e29),
            ("1.5", nil, 1.5),
            ("1E+2", nil, 100.0),
            ("-2.5e3", nil, -2500.0),
            ("1e-400", nil, 0.0),
            ("1e999", nil, Double.infinity),
            ("-1e999", nil, -Double.infinity),
        ] as [(String, Int64?, Double)])
    func parsesNumbersWithoutCrashing(literal: String, int64: Int64?, double: Double) throws {
        let value = try parser.parse(Array(literal.utf8))
        guard case .number(let number) = value else {
            Issue.record("expected a number, got \(value)")
            return
        }
        #expect(number.literal == literal)
        #expect(number.int64 == int64)
        #expect(number.double == double)
    }

    @Test func decodesEveryEscape() throws {
        let value = try parser.parse(Array(#""\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00\u0000 é😀""#.utf8))
        #expect(value == .string("\"\\/\u{8}\u{C}\n\r\tAé😀\u{0} é😀"))
    }

    @Test func keepsStringsWithoutEscapesAsTheyAre() throws {
        let text = String(repeating: "a", count: 1 << 20)
        #expect(try parser.parse(Array("\"\(text)\"".utf8)) == .string(text))
    }

    @Test(arguments: [
        ("", 0, "unexpected end of input"),
        ("   ", 3, "unexpected end of input"),
        ("[1,]", 3, "unexpected character ']'"),
        ("[1 2]", 3, "expected ',' or ']' in an array"),
        (#"{"a" 1}"#, 5, "expected ':' after an object key"),
        ("{a:1}", 1, "expected a string key"),
        (#"{"a":1,}"#, 7, "expected a string key"),
        (#"{"a":1 "b":2}"#, 7, "expected ',' or '}' in an object"),
        (#"{"a":1,"a":2}"#, 7, #"duplicate key "a""#),
        ("01", 0, "leading zero in a number"),
        ("-01", 0, "leading zero in a number"),
        ("-", 1, "expected a digit"),
        ("1.", 2, "expected a digit after '.'"),
        ("1e", 2, "expected a digit after the exponent mark"),
        ("1e+", 3, "expected a digit after the exponent mark"),
        (".5", 0, "unexpected character '.'"),
        ("+1", 0, "unexpected character '+'"),
        ("NaN", 0, "unexpected character 'N'"),
        ("Infinity", 0, "unexpected character 'I'"),
        ("tru", 0, "invalid literal, expected 'true'"),
        ("nulll", 4, "unexpected data after the JSON value"),
        ("{} x", 3, "unexpected data after the JSON value"),
        ("[1] [2]", 4, "unexpected data after the JSON value"),
        (#""abc"#, 0, "unterminated string"),
        ("\"a\tb\"", 2, "control character byte 0x09 in a string"),
        (#""\x""#, 1, "invalid escape: backslash before character 'x'"),
        (#""\"#, 1, "unterminated escape"),
        (#""\u12""#, 1, #"a \u escape needs four hex digits"#),
        (#""\ud800""#, 1, #"lone high surrogate in a \u escape"#),
        (#""\ud800\u0041""#, 1, #"lone high surrogate in a \u escape"#),
        (#""\udc00""#, 1, #"lone low surrogate in a \u escape"#),
        ("\u{FEFF}{}", 0, "unexpected byte 0xEF"),
    ])
    func refusesMalformedText(text: String, offset: Int, message: String) {
        #expect(throws: JSONParseError(offset: offset, message: message)) {
            try parser.parse(Array(text.utf8))
        }
    }

    @Test(
        arguments: [
            ([0x22, 0xC3, 0x28, 0x22], 1, "invalid UTF-8 sequence starting with byte 0xC3"),
            ([0x22, 0xC0, 0xAF, 0x22], 1, "invalid UTF-8 byte 0xC0"),
            ([0x22, 0xE0, 0x80, 0xAF, 0x22], 1, "invalid UTF-8 sequence starting with byte 0xE0"),
            ([0x22, 0xED, 0xA0, 0x80, 0x22], 1, "invalid UTF-8 sequence starting with byte 0xED"),
            ([0x22, 0xF0, 0x8F, 0xBF, 0xBF, 0x22], 1, "invalid UTF-8 sequence starting with byte 0xF0"),
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1, "invalid UTF-8 sequence starting with byte 0xF4"),
            ([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], 1, "invalid UTF-8 byte 0xF5"),
            ([0x22, 0x61, 0x80, 0x22], 2, "invalid UTF-8 byte 0x80"),
            ([0x22, 0xE2, 0x82], 1, "invalid UTF-8 sequence starting with byte 0xE2"),
            ([0xFF], 0, "unexpected byte 0xFF"),
        ] as [([UInt8], Int, String)])
    func refusesInvalidUTF8(bytes: [UInt8], offset: Int, message: String) {
        #expect(throws: JSONParseError(offset: offset, message: message)) {
            try parser.parse(bytes)
        }
    }

    @Test func acceptsMaximumDepthAndRefusesOneMore() throws {
        let deepest = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(try parser.parse(Array(deepest.utf8)).serialized == deepest)
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParseError(offset: 64, message: "nesting deeper than 64 levels")) {
            try parser.parse(Array(tooDeep.utf8))
        }
    }

    @Test func refusesTenThousandOpenBracketsWithoutRecursingFurther() {
        #expect(throws: JSONParseError(offset: 64, message: "nesting deeper than 64 levels")) {
            try parser.parse([UInt8](repeating: UInt8(ascii: "["), count: 10_000))
        }
    }

    @Test func countsObjectsTowardsTheDepth() {
        let tooDeep = String(repeating: #"{"a":"#, count: 65)
        #expect(throws: JSONParseError(offset: 320, message: "nesting deeper than 64 levels")) {
            try parser.parse(Array(tooDeep.utf8))
        }
    }

    @Test func honoursACustomDepth() throws {
        let shallow = JSONParser(maxDepth: 2)
        #expect(try shallow.parse(Array("[[1]]".utf8)).serialized == "[[1]]")
        #expect(throws: JSONParseError(offset: 2, message: "nesting deeper than 2 levels")) {
            try shallow.parse(Array("[[[1]]]".utf8))
        }
    }

    @Test func cutsLongDuplicateKeysInTheMessage() {
        let key = String(repeating: "k", count: 100)
        let text = #"{"\#(key)":1,"\#(key)":2}"#
        let shown = String(repeating: "k", count: 64) + "…"
        #expect(throws: JSONParseError(offset: 106, message: #"duplicate key "\#(shown)""#)) {
            try parser.parse(Array(text.utf8))
        }
    }

    @Test func describesErrorsWithTheirOffset() {
        #expect(
            JSONParseError(offset: 7, message: "unexpected end of input").description
                == "byte 7: unexpected end of input")
    }
}
