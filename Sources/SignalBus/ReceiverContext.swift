import Redis

/// What a receiver sees and does while handling one message: the message, the state it reads (loaded on
/// first use and remembered for the commit's consistency check), and the writes and emissions it asks for.
///
/// One context serves all receivers of a group for one message, in declaration order, so a receiver sees
/// the writes of the receivers before it. Nothing reaches Redis until the bus commits them together.
public final class ReceiverContext {
    /// The message being handled.
    public let message: Message
    /// The receiver group handling it.
    public let group: String
    private let load: (String) throws -> [(String, String)]
    /// The hashes loaded, in the order first read: a message reads one or two.
    private var hashes: [HashSnapshot] = []
    private(set) var writes: [(receiver: String, write: Write)] = []
    private(set) var emissions: [(receiver: String, emission: Emission, id: String)] = []
    /// The receiver currently running, for deriving ids, tracing and errors.
    public internal(set) var receiver = ""
    /// Keys whose writes are committed as asked, one by one: written before the message loaded them, or with a
    /// write whose end result the local view cannot know (an increment of a field that is not an integer).
    private var writtenAsAsked: Set<String> = []

    /// A context whose hashes are read through `load` (which returns a hash's fields and values as `HGETALL`
    /// lists them, none when it does not exist).
    init(message: Message, group: String, load: @escaping (String) throws -> [(String, String)]) {
        self.message = message
        self.group = group
        self.load = load
    }

    /// The chain's now in whole seconds: the root event's time, never the wall clock.
    public var now: Int64 { message.now }

    /// A hash's fields as this message sees them, loaded from Redis on first use.
    public func hash(_ key: String) throws -> HashSnapshot {
        if let loaded = loaded(key) { return loaded }
        let snapshot = HashSnapshot(key: key, fields: try load(key))
        hashes.append(snapshot)
        return snapshot
    }

    private func loaded(_ key: String) -> HashSnapshot? {
        hashes.first { $0.key == key }
    }

    /// A field of a hash this message has loaded, read without making it part of the read set (the bus's own
    /// look at a flag); `nil` when the hash was not loaded or has no such field.
    func peek(_ key: String, field: String) -> String? {
        loaded(key)?.peek(field)
    }

    /// Asks for a write, applied at commit; the local view of the hash reflects it at once.
    public func write(_ write: Write) {
        writes.append((receiver, write))
        guard let snapshot = loaded(write.key) else {
            writtenAsAsked.insert(write.key)
            return
        }
        switch write {
        case .hashIncrement(_, let field, _) where snapshot.holdsNonInteger(field):
            writtenAsAsked.insert(write.key)
        case .hashSet, .hashDelete, .hashIncrement, .hashMax, .hashMin, .delete:
            break
        default:
            writtenAsAsked.insert(write.key)
        }
        snapshot.apply(write)
    }

    /// The writes as the commit applies them. A hash this message loaded before writing it gets its end
    /// result: one `HSET` of the fields it leaves set (increments, maxima and minima already worked out from
    /// values the read set pins, so the commit finds them unchanged or applies nothing) and one `HDEL` of
    /// those it leaves removed, after a `DEL` when the message deleted the hash. Every other key's writes go
    /// as asked, in order.
    var committedWrites: [CommittedWrite] {
        var result: [CommittedWrite] = []
        var resolved: Set<String> = []
        for (_, write) in writes {
            let key = write.key
            guard !writtenAsAsked.contains(key), let snapshot = loaded(key) else {
                result.append(.asked(write))
                continue
            }
            guard resolved.insert(key).inserted else { continue }
            if snapshot.deleted { result.append(.asked(.delete(key: key))) }
            let changes = snapshot.changes
            if !changes.set.isEmpty { result.append(.hashSet(key: key, fields: changes.set)) }
            if !changes.removed.isEmpty && !snapshot.deleted { result.append(.hashDelete(key: key, fields: changes.removed)) }
        }
        return result
    }

    /// Publishes a signal or enqueues a task at commit, with an envelope derived from this message.
    /// - Returns: the new message's id.
    @discardableResult
    public func emit(_ topic: Topic, _ payload: [(String, String)]) -> String {
        // Its position among the receiver's emissions for this message (a handful at most).
        var index = 0
        for emission in emissions where emission.receiver == receiver { index += 1 }
        let id = MessageID.derived(cause: message.id, group: group, receiver: receiver, topic: topic, index: index)
        emissions.append((receiver, Emission(topic, payload), id))
        return id
    }

    /// What the commit must find unchanged, per hash: whether it existed (when that was read) and the
    /// fields read with their values (`nil`: absent).
    var readSet: [(key: String, existed: Bool?, fields: [(String, String?)])] {
        func check(_ snapshot: HashSnapshot) -> (key: String, existed: Bool?, fields: [(String, String?)])? {
            guard snapshot.existenceRead || snapshot.readCount > 0 else { return nil }
            return (snapshot.key, snapshot.existenceRead ? snapshot.existedWhenLoaded : nil, snapshot.reads)
        }
        // Most messages read one hash: nothing to sort then.
        if hashes.count == 1 { return check(hashes[0]).map { [$0] } ?? [] }
        return hashes.sorted { $0.key < $1.key }.compactMap(check)
    }

    /// How many hashes ``readSet`` has a check for, without building it.
    var readHashCount: Int {
        var count = 0
        for snapshot in hashes where snapshot.existenceRead || snapshot.readCount > 0 { count += 1 }
        return count
    }
}
