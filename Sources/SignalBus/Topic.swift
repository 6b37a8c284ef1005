/// A signal or a task: what a message is about, and so the Redis stream (and pub/sub channel) it travels on.
///
/// Signals live on `signal:<name>` and tasks on `task:<name>`; the envelope's `signal` field holds the bare name.
public struct Topic: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// Whether the topic is a broadcast signal or a task.
    public enum Kind: String, Hashable, Sendable {
        case signal
        case task
    }

    /// Signal or task.
    public let kind: Kind
    /// The bare name, as in the envelope's `signal` field (`goal.progressed`, `increment_goal_progress`).
    public let name: String
    /// The stream key, which is also the pub/sub channel: `signal:<name>` or `task:<name>`. Made once: it is
    /// asked for several times per message handled.
    public let key: String

    /// A signal named `name`.
    public static func signal(_ name: String) -> Topic { Topic(kind: .signal, name: name) }
    /// A task named `name`.
    public static func task(_ name: String) -> Topic { Topic(kind: .task, name: name) }

    /// The dead-letter stream for this topic: `dead:<key>`.
    public var deadLetterKey: String { "dead:\(key)" }

    /// The stream key of one partition of the topic (`signal:goal.ended:{p3-12}`), or ``key`` when streams
    /// are not partitioned (`partition` is `nil`).
    public func key(partition: Partition?) -> String {
        guard let partition else { return key }
        return "\(key):{\(partition.tag)}"
    }

    /// Parses a stream key, `signal:goal.ended` or one partition's `signal:goal.ended:{p3-12}`.
    public init?(streamKey: String) {
        var key = streamKey
        if key.hasSuffix("}"), let open = key.lastIndex(of: "{"), key[..<open].hasSuffix(":") {
            key = String(key[..<key.index(before: open)])
        }
        self.init(key: key)
    }

    /// Parses a stream key such as `signal:goal.ended`.
    public init?(key: String) {
        if key.hasPrefix("signal:") {
            self.init(kind: .signal, name: String(key.dropFirst(7)))
        } else if key.hasPrefix("task:") {
            self.init(kind: .task, name: String(key.dropFirst(5)))
        } else {
            return nil
        }
    }

    private init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
        self.key = "\(kind.rawValue):\(name)"
    }

    public var description: String { key }

    // The key spells the kind and the name: it alone decides equality.
    public static func == (lhs: Topic, rhs: Topic) -> Bool { lhs.key == rhs.key }

    public func hash(into hasher: inout Hasher) { hasher.combine(key) }

    public static func < (lhs: Topic, rhs: Topic) -> Bool { lhs.key < rhs.key }
}
