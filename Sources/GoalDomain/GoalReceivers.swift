import SignalBus

/// The `goals` group: progress, completion, deactivation and goal notifications.
public enum GoalReceivers {
    /// The group, its receivers in the seed's order per signal.
    public static func group() -> ReceiverGroup {
        ReceiverGroup(name: "goals", receivers: [
            incrementGoalProgress,
            notifyGoalProgressUpdated, triggerGoalComplete,
            notifyLivestreamMVPs, deactivateGoal,
            deactivateGoalTask,
            notifyStreamAuthorizedForAgreedTriggerGoal, notifyGoalEnded,
        ], traceIndexKey: GoalTraces.indexKey, prefetch: GoalPrefetch.goal(on: [Topics.incrementGoalProgress, Topics.goalCompleted, Topics.deactivateGoal]),
        traceFlagKey: GoalTraces.flagKey, sinks: [Keys.pusherOutbox])
    }

    /// task increment_goal_progress: adds the amount, recomputes the level, publishes goal.progressed.
    static let incrementGoalProgress = Receiver("increment_goal_progress", on: [Topics.incrementGoalProgress], guard: { context in
        guard let amount = context.message["amount"].flatMap({ Int64($0) }), amount > 0 else { return "amount ≤ 0" }
        guard let goal = try context.goal(), goal.exists else { return "goal missing" }
        guard goal["active"] == "1" else { return "goal inactive" }
        return nil
    }, effect: { context in
        let id = try context.requireGoalID()
        let goal = try context.requireGoal()
        let amount = Int64(context.message["amount"]!)!
        let oldLevel = Int(goal.int("level") ?? 0)
        context.write(.hashIncrement(key: Keys.goal(id), field: "progress", amount: amount))
        let progress = goal.int("progress") ?? amount
        let level = GoalPayload.level(of: goal, progress: progress)
        if level != oldLevel || goal["level"] == nil {
            context.write(.hashSet(key: Keys.goal(id), field: "level", value: String(level)))
        }
        context.emit(Topics.goalProgressed, GoalPayload.progressed(goalID: id, goal: goal, amount: amount, progress: progress, level: level, oldLevel: oldLevel))
    })

    static let notifyGoalProgressUpdated = Receiver("notify_goal_progress_updated", on: [Topics.goalProgressed], guard: { context in
        context.message["_cls"] == GoalClass.exclusive ? "_cls is ExclusiveGoal" : nil
    }, effect: { context in
        context.notify(channel: GoalChannel.channel(of: context.goalID ?? ""), event: "goal-progress-updated", data: [
            ("goal_id", context.goalID ?? ""), ("progress", context.message["progress"] ?? ""), ("level", context.message["level"] ?? ""),
        ])
    })

    /// Publishes goal.completed when the level went up.
    static let triggerGoalComplete = Receiver("trigger_goal_complete", on: [Topics.goalProgressed], guard: { context in
        let level = Int(context.message["level"] ?? "") ?? 0
        let oldLevel = Int(context.message["old_level"] ?? "") ?? 0
        return level <= oldLevel ? "level ≤ old_level" : nil
    }, effect: { context in
        context.emit(Topics.goalCompleted, GoalPayload.completed(from: context.message))
    })

    static let notifyLivestreamMVPs = Receiver("notify_livestream_mvps", on: [Topics.goalCompleted], guard: { context in
        context.message["_cls"] == GoalClass.livestream ? nil : "not a livestream goal"
    }, effect: { context in
        context.notify(channel: GoalChannel.channel(of: context.goalID ?? ""), event: "livestream-mvps", data: [("goal_id", context.goalID ?? "")])
    })

    /// Enqueues task deactivate_goal for a completed goal that is still active.
    static let deactivateGoal = Receiver("deactivate_goal", on: [Topics.goalCompleted], guard: { context in
        guard let goal = try context.goal(), goal.exists else { return "goal missing" }
        return goal["active"] == "1" ? nil : "goal already inactive"
    }, effect: { context in
        context.emit(Topics.deactivateGoal, [("goal_id", try context.requireGoalID()), ("triggerer", "")])
    })

    /// deactivate_goal's reason to return for an expiry task whose goal's `exp` was moved later.
    static let notExpiredYet = "not expired yet"

    /// task deactivate_goal: `active = 0`, min `exp` to now, publishes goal.ended.
    static let deactivateGoalTask = Receiver("deactivate_goal", on: [Topics.deactivateGoal], guard: { context in
        guard let goal = try context.goal(), goal.exists else { return "goal missing" }
        guard goal["active"] == "1" else { return "goal already inactive" }
        if context.message["triggerer"] == "expiry" {
            guard let exp = goal.int("exp") else { return "goal has no exp" }
            if exp > context.now { return notExpiredYet }
        }
        return nil
    }, effect: { context in
        let id = try context.requireGoalID()
        let goal = try context.requireGoal()
        let key = Keys.goal(id)
        context.write(.hashSet(key: key, field: "active", value: "0"))
        context.write(.hashMin(key: key, field: "exp", value: context.now))
        context.write(.sortedSetRemove(key: Keys.expiringGoals, member: id))
        let exp = goal.int("exp") ?? context.now
        context.emit(Topics.goalEnded, GoalPayload.ended(goalID: id, goal: goal, exp: exp, triggerer: context.message["triggerer"] ?? ""))
    }, onReturn: { context, reason in
        // The exp was moved later after the goal was indexed: index it again at its new exp.
        if reason == notExpiredYet, let exp = try context.requireGoal().int("exp") {
            context.write(.sortedSetAdd(key: Keys.expiringGoals, score: exp, member: try context.requireGoalID()))
        }
    })

    static let notifyStreamAuthorizedForAgreedTriggerGoal = Receiver("notify_stream_authorized_for_agreed_trigger_goal", on: [Topics.goalEnded], guard: { context in
        context.message["_cls"] == GoalClass.trigger ? nil : "_cls is not a trigger goal"
    }, effect: { context in
        context.notify(channel: GoalChannel.channel(of: context.goalID ?? ""), event: "stream-authorized", data: [("goal_id", context.goalID ?? "")])
    })

    /// Tells the goal's channel that the goal ended.
    static let notifyGoalEnded = Receiver("notify_goal_ended", on: [Topics.goalEnded], guard: { _ in nil }, effect: { context in
        let id = context.goalID ?? ""
        context.notify(channel: GoalChannel.channel(of: id), event: "goal-ended", data: [
            ("goal_id", id), ("progress", context.message["progress"] ?? ""), ("exp", context.message["exp"] ?? ""),
            ("triggerer", context.message["triggerer"] ?? ""),
        ])
    })
}
