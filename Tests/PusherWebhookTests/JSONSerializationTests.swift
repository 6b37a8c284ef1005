import PusherWebhook
import Testing

@Suite struct JSONSerializationTests {
    @Test func writesCompactTextKeepingOrderAndNumberLiterals() throws {
        let text = #" { "b" : [ 1 , 2.50 , -0 , 1E3 ] , "a" : { "c" : null , "d" : true , "e" : false } , "s" : "x" } "#
        let value = try JSONParser().parse(Array(text.utf8))
        #expect(value.serialized == #"{"b":[1,2.50,-0,1E3],"a":{"c":null,"d":true,"e":false},"s":"x"}"#)
    }

    @Test func escapesQuotesBackslashesAndControlCharacters() {
        let value = JSONValue.string("q\"b\\s/\u{8}\u{C}\n\r\t\u{1}\u{1F}\u{7F}é😀")
        #expect(value.serialized == #""q\"b\\s/\b\f\n\r\t\u0001\u001f"# + "\u{7F}é😀\"")
    }

    @Test func roundTripsThroughTheParser() throws {
        let value: JSONValue = .object([
            "key \"quoted\"\n": .array([.string("\u{0}\u{2028}😀"), .number(JSONNumber(-7)), .null]),
            "": .object([:]),
        ])
        let text = value.serialized
        #expect(text == #"{"key \"quoted\"\n":["\u0000"# + "\u{2028}😀" + #"",-7,null],"":{}}"#)
        #expect(try JSONParser().parse(Array(text.utf8)) == value)
    }

    @Test func aRepeatedKeyReplacesTheValueInItsFirstPlace() {
        let object = JSONObject([
            (key: "a", value: .bool(true)), (key: "b", value: .null), (key: "a", value: .bool(false)),
        ])
        #expect(object.keys == ["a", "b"])
        #expect(object["a"] == .bool(false))
        #expect(JSONValue.object(object).serialized == #"{"a":false,"b":null}"#)
    }

    @Test func writesEmptyContainers() {
        #expect(JSONValue.array([]).serialized == "[]")
        #expect(JSONValue.object([:]).serialized == "{}")
        #expect(JSONValue.string("").serialized == #""""#)
    }
}
