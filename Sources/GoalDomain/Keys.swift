/// The Redis key names of the product contract. Names are fixed: operators and tests rely on them.
public enum Keys {
    /// `goal:{<goal_id>}`: the goal hash.
    public static func goal(_ id: String) -> String { "goal:{\(id)}" }
    /// `session:{<session_id>}`: the session hash.
    public static func session(_ id: String) -> String { "session:{\(id)}" }
    /// `escrow:{<goal_id>}`: the goal's escrow hash.
    public static func escrow(_ goalID: String) -> String { "escrow:{\(goalID)}" }
    /// Every escrow transition, appended.
    public static let escrowLedger = "escrow:ledger"
    /// The session token view cache.
    public static func sessionTokenViewCache(_ sessionID: String) -> String { "cache:session_token_view:\(sessionID)" }
    /// The Pusher channel data cache.
    public static func pusherChannelDataCache(_ channel: String) -> String { "cache:pusher_channel_data:\(channel)" }
    /// The members present on a channel.
    public static func presence(_ channel: String) -> String { "presence:\(channel)" }
    /// Each member's latest presence event time on a channel (Unix ms), for event-time order.
    public static func presenceSeen(_ channel: String) -> String { "presence:\(channel):seen" }
    /// Analytics events.
    public static let trackingEvents = "tracking:events"
    /// Analytics counters.
    public static let trackingCounters = "tracking:counters"
    /// Outbound client notifications for Pusher.
    public static let pusherOutbox = "outbox:pusher"
    /// Snapshot requests for the RTC recorder.
    public static let rtcOutbox = "outbox:rtc"
    /// Goals with an `exp`, scored by it.
    public static let expiringGoals = "goals:expiring"
    /// The chains (trace ids, scored by event time) that touched a goal.
    public static func goalTraces(_ goalID: String) -> String { "traces:{\(goalID)}" }
}
