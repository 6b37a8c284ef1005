import Redis

/// What a ``RecoveryPass`` asks its driver to do next.
public enum RecoveryStep: Sendable {
    /// Send these commands in one pipeline and give their replies, error replies as values, to
    /// ``RecoveryPass/receive(_:)``.
    case send([RedisCommand])
    /// `consumer` stopped without leaving (its heartbeat is gone): its pending entries are now this
    /// replica's and it is no longer in the group. Handle `entries`, in order; those delivered too often
    /// were dead-lettered instead (``deadLettered(_:)``).
    case takenOver(stream: String, consumer: String, entries: [DeliveredEntry])
    /// Entries pending longer than the claim idle time (their replica alive but stuck, or their handling
    /// failed), claimed by this replica: handle them, in order.
    case claimed([DeliveredEntry])
    /// An entry delivered ``StreamConsumerSettings/maxDeliveries`` times was moved to the dead letters: record it.
    case deadLettered(DeadLettered)
    /// The group's backlog on a stream: entries not yet read (`lag`) and read but not acknowledged (`pending`).
    case backlog(stream: String, lag: Int, pending: Int)
}
