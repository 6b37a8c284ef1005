import SignalBus

/// The `karaoke` group: presence receivers that start and pause the goal timer and enqueue progress.
public enum KaraokeReceivers {
    /// The group, its receivers in the seed's order.
    public static func group() -> ReceiverGroup {
        ReceiverGroup(
            name: "karaoke", receivers: [triggerOnline, triggerUserEnter, karaokeControl], traceIndexKey: GoalTraces.indexKey,
            prefetch: GoalPrefetch.goal(on: Set(Topics.presence)), traceFlagKey: GoalTraces.flagKey
        )
    }

    /// Starts the timer of an active goal that is not running when its channel becomes occupied.
    static let triggerOnline = Receiver("trigger_online", on: Topics.presence, guard: { context in
        guard context.message.topic == Topics.channelOccupied else { return "acts on channel_occupied" }
        guard let goal = try context.goal() else { return "not a goal channel" }
        if let reason = Presence.goalUnusable(goal) { return reason }
        if Presence.isStale(context, goal) { return "stale event (older than context.last_updated)" }
        if Presence.isRunning(goal) { return "timer already running" }
        return nil
    }, effect: { context in
        // A running timer has no pause after its start; clearing the pause keeps a re-occupy in the same
        // second as the last vacate running (paused == started would read as stopped).
        let key = Keys.goal(try context.requireGoalID())
        context.write(.hashSet(key: key, field: "context.started", value: String(context.now)))
        context.write(.hashDelete(key: key, field: "context.paused"))
        context.write(.hashMax(key: key, field: "context.last_updated", value: context.now))
    })

    /// Keeps the channel's members in `presence:<channel>`, in event-time order: each member's latest event
    /// time (Unix ms) is kept in `presence:<channel>:seen`, and an older event for the member changes nothing.
    static let triggerUserEnter = Receiver("trigger_user_enter", on: Topics.presence, guard: { context in
        let topic = context.message.topic
        guard topic == Topics.memberAdded || topic == Topics.memberRemoved else { return "acts on member_added" }
        guard let goalID = context.goalID else { return "not a goal channel" }
        guard let user = context.message["user_id"], !user.isEmpty else { return "no user_id" }
        guard try context.goal()?.exists == true else { return "goal missing" }
        let channel = context.message["channel"] ?? GoalChannel.channel(of: goalID)
        let seen = try context.hash(Keys.presenceSeen(channel))
        if let last = seen.int(user), context.message.atMs < last { return "stale member event (older than the member's last)" }
        return nil
    }, effect: { context in
        let goalID = try context.requireGoalID()
        let channel = context.message["channel"] ?? GoalChannel.channel(of: goalID)
        guard let user = context.message["user_id"] else { throw ReceiverError(receiver: context.receiver, message: "no user_id") }
        context.write(.hashMax(key: Keys.presenceSeen(channel), field: user, value: context.message.atMs))
        if context.message.topic == Topics.memberAdded {
            context.write(.setAdd(key: Keys.presence(channel), member: user))
        } else {
            context.write(.setRemove(key: Keys.presence(channel), member: user))
        }
    })

    /// Pauses the timer when the channel is vacated and enqueues the elapsed seconds as progress.
    ///
    /// When the timer is not running it returns, after recording the event time in `context.last_updated`
    /// and `context.paused`, so an older channel_occupied that arrives later is recognised as stale and
    /// cannot leave the timer running.
    static let karaokeControl = Receiver("karaoke_control", on: Topics.presence, guard: { context in
        guard context.message.topic == Topics.channelVacated else { return "acts on channel_vacated" }
        guard let goal = try context.goal() else { return "not a goal channel" }
        if let reason = Presence.goalUnusable(goal) { return reason }
        if Presence.isStale(context, goal) { return "stale event (older than context.last_updated)" }
        if !Presence.isRunning(goal) { return Presence.notRunning }
        return nil
    }, effect: { context in
        let goal = try context.requireGoal()
        let started = goal.int("context.started") ?? context.now
        try Presence.advanceWatermark(context)
        context.emit(Topics.incrementGoalProgress, [("goal_id", try context.requireGoalID()), ("amount", String(context.now - started))])
    }, onReturn: { context, reason in
        // A vacate of a stopped timer is still an event the goal has seen: an older occupy arriving later
        // is recognised as stale and cannot leave the timer running.
        if reason == Presence.notRunning { try Presence.advanceWatermark(context) }
    })
}

/// Timer rules shared by the presence receivers.
enum Presence {
    /// Why a goal cannot take presence events, if it cannot.
    static func goalUnusable(_ goal: HashSnapshot) -> String? {
        guard goal.exists else { return "goal missing" }
        guard goal["active"] == "1" else { return "goal inactive" }
        return nil
    }

    /// Whether the timer runs: `context.started` is set and `context.paused` is not at or after it.
    static func isRunning(_ goal: HashSnapshot) -> Bool {
        guard let started = goal.int("context.started") else { return false }
        guard let paused = goal.int("context.paused") else { return true }
        return paused < started
    }

    /// Whether the event is older than what the goal has already seen.
    static func isStale(_ context: ReceiverContext, _ goal: HashSnapshot) -> Bool {
        guard let seen = goal.int("context.last_updated") else { return false }
        return context.now < seen
    }

    /// karaoke_control's reason to return when the timer is stopped.
    static let notRunning = "timer not running"

    /// `max context.last_updated now`, `max context.paused now`.
    static func advanceWatermark(_ context: ReceiverContext) throws {
        let key = Keys.goal(try context.requireGoalID())
        context.write(.hashMax(key: key, field: "context.last_updated", value: context.now))
        context.write(.hashMax(key: key, field: "context.paused", value: context.now))
    }
}

/// Where chains are indexed per goal, for `goalctl trace`, and which goals ask for every chain traced.
enum GoalTraces {
    /// `traces:{<goal_id>}` for messages about a goal.
    static let indexKey: @Sendable (Message) -> String? = { message in
        goalID(of: message).map(Keys.goalTraces)
    }

    /// `goal:{<goal_id>}`, whose `trace` = `1` traces every chain of the goal.
    static let flagKey: @Sendable (Message) -> String? = { message in
        goalID(of: message).map(Keys.goal)
    }

    private static func goalID(of message: Message) -> String? {
        if let id = message["goal_id"], GoalChannel.isValidGoalID(id) { return id }
        return message["channel"].flatMap(GoalChannel.goalID(of:))
    }
}
