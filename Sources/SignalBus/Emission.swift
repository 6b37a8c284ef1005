/// A message a receiver publishes: a topic and a payload. The bus adds the envelope.
public struct Emission: Sendable, Hashable {
    /// Where it goes.
    public let topic: Topic
    /// The payload fields in the order they are written to the stream.
    public let payload: [(String, String)]

    /// Creates an emission.
    public init(_ topic: Topic, _ payload: [(String, String)]) {
        self.topic = topic
        self.payload = payload
    }

    public static func == (lhs: Emission, rhs: Emission) -> Bool {
        lhs.topic == rhs.topic && lhs.payload.elementsEqual(rhs.payload) { $0 == $1 }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(topic)
        for (field, value) in payload {
            hasher.combine(field)
            hasher.combine(value)
        }
    }
}
