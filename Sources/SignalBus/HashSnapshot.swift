/// A Redis hash as a receiver saw it, plus the receiver's own pending writes.
///
/// Every field read that the message's own writes did not produce is remembered: when the bus commits,
/// the script checks those fields still hold the values read, and handles the message again if another
/// replica changed them in between (optimistic concurrency), so guards never act on stale state.
public final class HashSnapshot {
    /// The hash's key.
    public let key: String
    private var fields: [String: String]
    private var written: Set<String> = []
    /// The fields this message wrote, in the order first written.
    private var writtenOrder: [String] = []
    /// Whether this message deleted the whole hash (the fields written after that are all it holds then).
    private(set) var deleted = false
    private let loadedExists: Bool
    private(set) var reads: [String: String?] = [:]
    private(set) var existenceRead = false

    init(key: String, fields: [String: String]) {
        self.key = key
        self.fields = fields
        self.loadedExists = !fields.isEmpty
    }

    /// Whether the hash exists (has any field), taking this message's writes into account.
    public var exists: Bool {
        existenceRead = true
        return !fields.isEmpty
    }

    /// Whether the hash existed when it was loaded (checked again at commit when ``exists`` was read).
    var existedWhenLoaded: Bool { loadedExists }

    /// A field's current value, as seen by this message.
    public subscript(field: String) -> String? {
        let value = fields[field]
        if written.isEmpty || !written.contains(field), reads[field] == nil { reads[field] = .some(value) }
        return value
    }

    /// A field's current value, without remembering it as read.
    func peek(_ field: String) -> String? { fields[field] }

    /// A field as an integer (`nil` when absent or not a decimal integer).
    public func int(_ field: String) -> Int64? {
        self[field].flatMap { Int64($0) }
    }

    /// All fields whose name starts with `prefix` (for scans such as the session's `exclusive_goal_pairs.*`).
    /// Records a read of each field found; a field added under the prefix meanwhile is not detected.
    public func fields(withPrefix prefix: String) -> [String: String] {
        let matching = fields.filter { $0.key.hasPrefix(prefix) }
        for (field, value) in matching where !written.contains(field) && reads[field] == nil {
            reads[field] = .some(value)
        }
        return matching
    }

    /// Applies one of this message's writes to the local copy, so later receivers of the message see it.
    /// Writes computed from the old value (increment, max, min) depend on it, so it counts as read.
    func apply(_ write: Write) {
        switch write {
        case .hashIncrement(_, let field, _), .hashMax(_, let field, _), .hashMin(_, let field, _):
            _ = self[field]
        default:
            break
        }
        switch write {
        case .hashSet(_, let field, let value):
            set(field, value)
        case .hashDelete(_, let field):
            set(field, nil)
        case .hashIncrement(_, let field, let amount):
            set(field, String((fields[field].flatMap { Int64($0) } ?? 0) + amount))
        case .hashMax(_, let field, let value):
            let current = fields[field].flatMap { Int64($0) }
            if current == nil || value > current! { set(field, String(value)) }
        case .hashMin(_, let field, let value):
            let current = fields[field].flatMap { Int64($0) }
            if current == nil || value < current! { set(field, String(value)) }
        case .delete:
            for field in fields.keys { written.insert(field) }
            fields.removeAll()
            writtenOrder.removeAll()
            deleted = true
        default:
            break
        }
    }

    private func set(_ field: String, _ value: String?) {
        if written.insert(field).inserted || !writtenOrder.contains(field) { writtenOrder.append(field) }
        fields[field] = value
    }

    /// This message's changes to the hash as their end result, in the order the fields were first written:
    /// the fields it leaves set, with their final values, and the fields it leaves removed.
    var changes: (set: [(String, String)], removed: [String]) {
        var set: [(String, String)] = []
        var removed: [String] = []
        for field in writtenOrder {
            if let value = fields[field] { set.append((field, value)) } else { removed.append(field) }
        }
        return (set, removed)
    }

    /// Whether the field holds something other than a decimal integer, which `HINCRBY` would refuse.
    func holdsNonInteger(_ field: String) -> Bool {
        fields[field].map { Int64($0) == nil } ?? false
    }
}
