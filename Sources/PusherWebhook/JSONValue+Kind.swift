extension JSONValue {
    /// The kind of value with an article, for error messages: `an object`, `a string`, `null`, …
    var kindDescription: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}
