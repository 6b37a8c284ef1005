import GoalDomain
import SignalBus

// The worked example of Docs/extending.md, step by step: the guide quotes this file between its markers,
// and Tests/DocsTests checks that the quote and this file agree.

// guide:receiver
/// `track_goal_ended_short` (tracking, on goal.ended): counts the goals that ended short of their first
/// level's target, the ones an expiry or an operator ended, in `tracking:counters` field `goal.ended.short`.
let trackGoalEndedShort = Receiver(
    "track_goal_ended_short", on: [Topics.goalEnded],
    guard: { context in
        guard let target = Int64(context.message["levels.0.target"] ?? "") else { return "no target" }
        let progress = Int64(context.message["progress"] ?? "") ?? 0
        return progress >= target ? "reached its target" : nil
    },
    effect: { context in
        context.write(.hashIncrement(key: Keys.trackingCounters, field: "goal.ended.short", amount: 1))
    }
)
// guide:end

// guide:group
extension ReceiverGroup {
    /// The same group with `receiver` added after its own receivers.
    func adding(_ receiver: Receiver) -> ReceiverGroup {
        ReceiverGroup(
            name: name, receivers: receivers + [receiver], traceIndexKey: traceIndexKey, prefetch: prefetch,
            prefetchNamed: prefetchNamed, traceFlagKey: traceFlagKey, sinks: sinks
        )
    }
}

/// The flow's groups with the example in `tracking`, as `TrackingReceivers.group()` would declare it.
let extendedGroups: [ReceiverGroup] = flowGroups.map { $0.name == "tracking" ? $0.adding(trackGoalEndedShort) : $0 }
// guide:end
