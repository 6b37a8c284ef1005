import SignalBus

/// The signals and tasks of the flow.
public enum Topics {
    public static let channelOccupied = Topic.signal("channel_occupied")
    public static let channelVacated = Topic.signal("channel_vacated")
    public static let memberAdded = Topic.signal("member_added")
    public static let memberRemoved = Topic.signal("member_removed")
    public static let clientEvent = Topic.signal("client_event")
    public static let cacheMiss = Topic.signal("cache_miss")
    public static let subscriptionCount = Topic.signal("subscription_count")
    public static let goalProgressed = Topic.signal("goal.progressed")
    public static let goalCompleted = Topic.signal("goal.completed")
    public static let goalEnded = Topic.signal("goal.ended")
    public static let incrementGoalProgress = Topic.task("increment_goal_progress")
    public static let deactivateGoal = Topic.task("deactivate_goal")
    public static let startSnapshot = Topic.task("StartSnapshot")

    /// The presence signals the karaoke and tracking groups receive.
    public static let presence = [channelOccupied, channelVacated, memberAdded, memberRemoved]

    /// The topics of Pusher's seven webhook events.
    public static let webhookTopics = [channelOccupied, channelVacated, memberAdded, memberRemoved, clientEvent, cacheMiss, subscriptionCount]

    /// The topic of each Pusher webhook event name.
    public static func webhook(_ name: String) -> Topic? {
        switch name {
        case "channel_occupied", "channel_vacated", "member_added", "member_removed",
             "client_event", "cache_miss", "subscription_count":
            .signal(name)
        default:
            nil
        }
    }
}
