/// A JSON value, as parsed by ``JSONParser`` or built to be written with ``JSONValue/serialized``.
public enum JSONValue: Sendable, Hashable {
    /// An object; its members keep the order in which they were written.
    case object(JSONObject)
    /// An array.
    case array([JSONValue])
    /// A string.
    case string(String)
    /// A number, keeping the text it was written as.
    case number(JSONNumber)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null
}
