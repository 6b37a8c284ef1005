/// The members of a JSON object: unique keys, in the order they were written.
///
/// Keys are compared as Swift strings, so two keys that differ only in Unicode normalisation are the same key.
public struct JSONObject: Sendable, Hashable {
    /// The keys, in order.
    public private(set) var keys: [String]
    private var values: [String: JSONValue]

    /// Creates an object from its members; a repeated key replaces the earlier value and keeps its position.
    public init(_ members: [(key: String, value: JSONValue)]) {
        keys = []
        values = [:]
        for (key, value) in members {
            if values.updateValue(value, forKey: key) == nil {
                keys.append(key)
            }
        }
    }

    /// The value of the member named `key`, or `nil` when there is none.
    public subscript(key: String) -> JSONValue? {
        values[key]
    }

    /// The members, in order.
    public var members: [(key: String, value: JSONValue)] {
        keys.map { key in (key, values[key] ?? .null) }
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Creates an object from a literal; a repeated key replaces the earlier value and keeps its position.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }
}
