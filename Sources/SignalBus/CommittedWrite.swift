/// A write as the commit script applies it: a receiver's ``Write`` as asked, or the end result of a
/// message's writes to one hash it loaded (see ``ReceiverContext/committedWrites``).
enum CommittedWrite {
    /// A receiver's write, applied as asked.
    case asked(Write)
    /// `HSET key field value …`: the fields a message leaves set in a hash, with their final values.
    case hashSet(key: String, fields: [(String, String)])
    /// `HDEL key field …`: the fields a message leaves removed from a hash.
    case hashDelete(key: String, fields: [String])

    /// The key written.
    var key: String {
        switch self {
        case .asked(let write): write.key
        case .hashSet(let key, _), .hashDelete(let key, _): key
        }
    }
}

extension CommittedWrite: Equatable {
    static func == (lhs: CommittedWrite, rhs: CommittedWrite) -> Bool {
        switch (lhs, rhs) {
        case (.asked(let left), .asked(let right)): left == right
        case (.hashSet(let leftKey, let left), .hashSet(let rightKey, let right)):
            leftKey == rightKey && left.elementsEqual(right) { $0 == $1 }
        case (.hashDelete(let leftKey, let left), .hashDelete(let rightKey, let right)): leftKey == rightKey && left == right
        default: false
        }
    }
}
