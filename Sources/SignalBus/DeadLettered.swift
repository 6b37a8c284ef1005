/// An entry moved to `dead:<stream>` and acknowledged for its group, as the dead-letter script reported it.
public struct DeadLettered: Sendable, Hashable {
    /// The stream it was on.
    public let stream: String
    /// Its entry id there.
    public let entryID: String
    /// How many times it had been delivered.
    public let deliveries: Int
    /// The error it carries in `dead.error`: the last one recorded for it, else the reason given.
    public let error: String
    /// Its fields as they were on the stream; empty when it was no longer there.
    public let fields: [String: String]
}
