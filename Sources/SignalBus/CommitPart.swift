/// What one commit script call does for one message: all of it on one server; in a Redis Cluster, where a
/// script's keys must share a hash slot, the share of the message that lies in one slot.
struct CommitPart {
    /// What a commit must find unchanged in one hash: whether it existed (when that was read) and the fields
    /// read with their values (`nil`: absent).
    typealias ReadCheck = (key: String, existed: Bool?, fields: [(String, String?)])

    let message: Message
    /// The done marker claimed by this part.
    let marker: String
    /// The marker's value: the message's trace entry, `1`, or (a cluster's first part) the rest of the commit.
    let record: [UInt8]
    /// Whether this part acknowledges the message: the one part that finishes it.
    let acknowledges: Bool
    let clearError: (key: String, field: String)?
    let reads: [ReadCheck]
    let writes: [Write]
    let emissions: [(emission: Emission, id: String)]
    /// The sorted set indexing the chain's root under its goal, when this part writes it.
    let traceIndexKey: String?
}
