/// What one commit script call does for one message: all of it on one server; in a Redis Cluster, where a
/// script's keys must share a hash slot, the share of the message that lies in one slot.
///
/// A class: a part is planned once and then handed from plan to pipeline to script call, where a struct of
/// this size would be copied at every step.
final class CommitPart {
    /// What a commit must find unchanged in one hash: whether it existed (when that was read) and the fields
    /// read with their values (`nil`: absent).
    typealias ReadCheck = (key: String, existed: Bool?, fields: [(String, String?)])

    /// How a part knows it has not been applied before.
    enum Guard {
        /// The part that finishes the message: it acknowledges the entry for the group first and applies
        /// nothing when the entry is no longer pending (another replica committed it, or it was
        /// dead-lettered). A write Redis refuses moves the entry to `dead` with the error.
        case acknowledges(dead: String, deliveries: Int)
        /// A cluster part outside the stream's slot: it claims a marker, kept for the redelivery horizon only;
        /// the marker's value is `record` (for a first part, the rest of the commit).
        case marker(key: String, record: [UInt8])
    }

    let message: Message
    let guarding: Guard
    let clearError: (key: String, field: String)?
    let reads: [ReadCheck]
    let writes: [CommittedWrite]
    let emissions: [(emission: Emission, id: String)]
    /// The chain's trace hash, the field and the entry this part records, when the delivery is traced.
    let trace: (key: String, field: String, entry: [UInt8])?
    /// The sorted set indexing the chain's root under its goal, when this part writes it.
    let traceIndexKey: String?
    /// Whether the emissions carry `traced` = `1`, so downstream groups trace the chain too.
    let traced: Bool

    init(
        message: Message, guarding: Guard, clearError: (key: String, field: String)?, reads: [ReadCheck], writes: [CommittedWrite],
        emissions: [(emission: Emission, id: String)], trace: (key: String, field: String, entry: [UInt8])?,
        traceIndexKey: String?, traced: Bool
    ) {
        self.message = message
        self.guarding = guarding
        self.clearError = clearError
        self.reads = reads
        self.writes = writes
        self.emissions = emissions
        self.trace = trace
        self.traceIndexKey = traceIndexKey
        self.traced = traced
    }

    /// A key in the part's hash slot: its stream's, or its marker's.
    var slotKey: String {
        switch guarding {
        case .acknowledges: message.streamKey
        case .marker(let key, _): key
        }
    }

    /// Whether the part is the one that acknowledges its message.
    var acknowledges: Bool {
        if case .acknowledges = guarding { return true }
        return false
    }
}
