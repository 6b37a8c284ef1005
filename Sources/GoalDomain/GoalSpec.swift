/// Everything needed to create an exclusive goal with its session pair and escrow hold.
public struct GoalSpec: Sendable, Hashable {
    /// The goal id (`[A-Za-z0-9_-]{1,64}`).
    public var id: String
    /// `_cls`.
    public var goalClass: String = GoalClass.exclusive
    /// Level targets in seconds; `levels.0.target` first.
    public var targets: [Int64] = [360]
    /// The session the goal belongs to; no session hash is written when `nil`.
    public var sessionID: String?
    /// The viewer the goal is exclusive to.
    public var viewer: String?
    /// Escrow amount held from the viewer; no escrow is written when `nil`.
    public var amount: Int64?
    /// Who pays (defaults to the viewer).
    public var payer: String?
    /// Who is paid.
    public var payee: String?
    /// Expiry, Unix seconds; the goal never expires when `nil`.
    public var exp: Int64?
    /// When the goal's timer started (`context.started` and `context.last_updated`), Unix seconds; the timer
    /// waits for the channel's first channel_occupied when `nil`.
    public var started: Int64?
    /// `breakdown_id`.
    public var breakdownID: String = ""
    /// `conditions` (JSON).
    public var conditions: String = "{}"
    /// `metadata` (JSON).
    public var metadata: String = "{}"
    /// `trace` = `1`: every chain of the goal is traced, whatever `trace.sample`.
    public var traced = false

    /// Creates a spec with the reference flow's defaults.
    public init(id: String) {
        self.id = id
    }
}
