import SignalBus

/// The `tracking` group: analytics for presence and goal events.
public enum TrackingReceivers {
    /// The group.
    public static func group() -> ReceiverGroup {
        ReceiverGroup(name: "tracking", receivers: [trackChannelPresence, trackGoals], traceFlagKey: GoalTraces.flagKey, sinks: [Keys.trackingEvents])
    }

    static let trackChannelPresence = Receiver("track_channel_presence", on: Topics.presence, guard: { _ in nil }, effect: { context in
        record(context, fields: ["channel", context.message["channel"] ?? "", "user_id", context.message["user_id"] ?? ""])
    })

    static let trackGoals = Receiver("track_goals", on: [Topics.goalProgressed, Topics.goalCompleted, Topics.goalEnded], guard: { _ in nil }, effect: { context in
        record(context, fields: ["progress", context.message["progress"] ?? "", "level", context.message["level"] ?? ""])
    })

    private static func record(_ context: ReceiverContext, fields: [String]) {
        let event = context.message.topic.name
        context.write(.streamAppend(key: Keys.trackingEvents, fields: [
            "event", event, "goal_id", context.goalID ?? "", "at_ms", String(context.message.atMs), "message", context.message.id,
        ] + fields))
        context.write(.hashIncrement(key: Keys.trackingCounters, field: event, amount: 1))
    }
}
