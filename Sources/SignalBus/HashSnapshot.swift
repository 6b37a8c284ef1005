/// A Redis hash as a receiver saw it, plus the receiver's own pending writes.
///
/// Every field read that the message's own writes did not produce is remembered: when the bus commits,
/// the script checks those fields still hold the values read, and handles the message again if another
/// replica changed them in between (optimistic concurrency), so guards never act on stale state.
///
/// The fields are kept as loaded, in a list: a message reads a handful of a hash's fields, so finding one by
/// scanning costs less than hashing every name into a dictionary when the hash is loaded. A hash with more
/// than ``scanLimit`` fields gets an index by name as well.
public final class HashSnapshot {
    /// One field: its value as this message sees it (`nil`: absent or removed), its value when loaded, and
    /// what this message did with it.
    private struct Entry {
        let name: String
        var value: String?
        let loaded: String?
        /// Read before this message wrote it: part of the read set.
        var read = false
        var written = false
    }

    /// Hashes with more fields than this are also indexed by name.
    static let scanLimit = 24

    /// The hash's key.
    public let key: String
    private var entries: [Entry]
    private var index: [String: Int]?
    /// The entries this message wrote, in the order first written.
    private var writtenOrder: [Int] = []
    /// Whether this message deleted the whole hash (the fields written after that are all it holds then).
    private(set) var deleted = false
    private let loadedExists: Bool
    private(set) var existenceRead = false
    /// How many fields are in the read set.
    private(set) var readCount = 0

    /// A snapshot of the hash holding `fields` (field and value pairs as `HGETALL` lists them).
    init(key: String, fields: [(String, String)]) {
        self.key = key
        self.entries = fields.map { Entry(name: $0.0, value: $0.1, loaded: $0.1) }
        self.loadedExists = !fields.isEmpty
        if entries.count > Self.scanLimit { buildIndex() }
    }

    /// Whether the hash exists (has any field), taking this message's writes into account.
    public var exists: Bool {
        existenceRead = true
        return entries.contains { $0.value != nil }
    }

    /// Whether the hash existed when it was loaded (checked again at commit when ``exists`` was read).
    var existedWhenLoaded: Bool { loadedExists }

    /// A field's current value, as seen by this message.
    public subscript(field: String) -> String? {
        guard let position = position(of: field) else {
            // An absent field read is pinned as absent.
            append(Entry(name: field, value: nil, loaded: nil, read: true))
            readCount += 1
            return nil
        }
        let entry = entries[position]
        if !entry.read && !entry.written {
            entries[position].read = true
            readCount += 1
        }
        return entry.value
    }

    /// A field's current value, without remembering it as read.
    func peek(_ field: String) -> String? {
        position(of: field).flatMap { entries[$0].value }
    }

    /// A field as an integer (`nil` when absent or not a decimal integer).
    public func int(_ field: String) -> Int64? {
        self[field].flatMap { Int64($0) }
    }

    /// All fields whose name starts with `prefix` (for scans such as the session's `exclusive_goal_pairs.*`).
    /// Records a read of each field found; a field added under the prefix meanwhile is not detected.
    public func fields(withPrefix prefix: String) -> [String: String] {
        var matching: [String: String] = [:]
        for position in entries.indices {
            guard let value = entries[position].value, entries[position].name.hasPrefix(prefix) else { continue }
            matching[entries[position].name] = value
            if !entries[position].read && !entries[position].written {
                entries[position].read = true
                readCount += 1
            }
        }
        return matching
    }

    /// The read set: each field read before this message wrote it, with its value then (`nil`: absent),
    /// sorted by name.
    var reads: [(String, String?)] {
        var reads: [(String, String?)] = []
        reads.reserveCapacity(readCount)
        for entry in entries where entry.read { reads.append((entry.name, entry.loaded)) }
        if reads.count > 1 { reads.sort { $0.0 < $1.0 } }
        return reads
    }

    /// Applies one of this message's writes to the local copy, so later receivers of the message see it.
    /// Writes computed from the old value (increment, max, min) depend on it, so it counts as read.
    func apply(_ write: Write) {
        switch write {
        case .hashSet(_, let field, let value):
            set(field, value)
        case .hashDelete(_, let field):
            set(field, nil)
        case .hashIncrement(_, let field, let amount):
            set(field, String((self[field].flatMap { Int64($0) } ?? 0) + amount))
        case .hashMax(_, let field, let value):
            let current = self[field].flatMap { Int64($0) }
            if current == nil || value > current! { set(field, String(value)) }
        case .hashMin(_, let field, let value):
            let current = self[field].flatMap { Int64($0) }
            if current == nil || value < current! { set(field, String(value)) }
        case .delete:
            for position in entries.indices where entries[position].value != nil {
                entries[position].written = true
                entries[position].value = nil
            }
            writtenOrder.removeAll()
            deleted = true
        default:
            break
        }
    }

    private func set(_ field: String, _ value: String?) {
        let position = position(of: field) ?? append(Entry(name: field, value: nil, loaded: nil))
        if !entries[position].written {
            entries[position].written = true
            writtenOrder.append(position)
        } else if !writtenOrder.contains(position) {
            // Written before the hash was deleted, and again after.
            writtenOrder.append(position)
        }
        entries[position].value = value
    }

    /// This message's changes to the hash as their end result, in the order the fields were first written:
    /// the fields it leaves set, with their final values, and the fields it leaves removed.
    var changes: (set: [(String, String)], removed: [String]) {
        var set: [(String, String)] = []
        var removed: [String] = []
        for position in writtenOrder {
            let entry = entries[position]
            if let value = entry.value { set.append((entry.name, value)) } else { removed.append(entry.name) }
        }
        return (set, removed)
    }

    /// Whether the field holds something other than a decimal integer, which `HINCRBY` would refuse.
    func holdsNonInteger(_ field: String) -> Bool {
        peek(field).map { Int64($0) == nil } ?? false
    }

    private func position(of field: String) -> Int? {
        if let index { return index[field] }
        return entries.firstIndex { $0.name == field }
    }

    @discardableResult
    private func append(_ entry: Entry) -> Int {
        entries.append(entry)
        let position = entries.count - 1
        if index != nil {
            index![entry.name] = position
        } else if entries.count > Self.scanLimit {
            buildIndex()
        }
        return position
    }

    private func buildIndex() {
        var index: [String: Int] = [:]
        index.reserveCapacity(entries.count)
        // The first of a name wins, as a scan finds it.
        for position in entries.indices where index[entries[position].name] == nil { index[entries[position].name] = position }
        self.index = index
    }
}
