import SignalBus

/// The `escrow` group: refunds, never twice, never after a transfer.
public enum EscrowReceivers {
    /// The group, its receivers in the seed's order per signal.
    public static func group() -> ReceiverGroup {
        ReceiverGroup(name: "escrow", receivers: [
            triggerExclusiveGoalEscrowRefund,
            triggerShowEscrowTransfer, triggerExclusiveEscrowTransfer,
            triggerShowEscrowRefund, handleTriggerPrivateGoalEscrow,
        ], prefetch: GoalPrefetch.goal(on: [Topics.goalProgressed], escrowOn: [Topics.goalEnded]), traceFlagKey: GoalTraces.flagKey)
    }

    /// Refunds an exclusive goal's hold when the goal ends short of its target.
    static let triggerExclusiveGoalEscrowRefund = Receiver("trigger_exclusive_goal_escrow_refund", on: [Topics.goalProgressed, Topics.goalEnded], guard: { context in
        if context.message.topic == Topics.goalProgressed {
            let active = try context.goal()?["active"]
            return active == "1" ? "goal still active" : "acts on goal.ended"
        }
        guard context.message["_cls"] == GoalClass.exclusive else { return "_cls is not ExclusiveGoal" }
        let progress = Int64(context.message["progress"] ?? "") ?? 0
        if let target = Int64(context.message["levels.0.target"] ?? ""), progress >= target { return "progress ≥ target" }
        return try Escrow.refusal(context)
    }, effect: { context in
        try Escrow.move(context, to: "refunded")
    })

    /// Completion moves no money in this flow: a show goal's hold is settled by the payout system.
    static let triggerShowEscrowTransfer = Receiver("trigger_show_escrow_transfer", on: [Topics.goalCompleted], guard: { context in
        context.message["_cls"] == GoalClass.show ? Escrow.settledOutside : "_cls is not ShowGoal"
    })

    /// As the seed states: returns when the completed goal's level is above 0; completion moves no money here.
    static let triggerExclusiveEscrowTransfer = Receiver("trigger_exclusive_escrow_transfer", on: [Topics.goalCompleted], guard: { context in
        (Int(context.message["level"] ?? "") ?? 0) > 0 ? "level > 0" : Escrow.settledOutside
    })

    /// Show goals' holds are settled by the payout system, not by this flow.
    static let triggerShowEscrowRefund = Receiver("trigger_show_escrow_refund", on: [Topics.goalEnded], guard: { context in
        context.message["_cls"] == GoalClass.show ? Escrow.settledOutside : "_cls is not ShowGoal"
    })

    /// Private and trigger goals' holds are settled by the payout system, not by this flow.
    static let handleTriggerPrivateGoalEscrow = Receiver("handle_trigger_private_goal_escrow", on: [Topics.goalEnded], guard: { context in
        let cls = context.message["_cls"]
        return cls == GoalClass.trigger || cls == GoalClass.privateTrigger ? Escrow.settledOutside : "_cls is not a private/trigger goal"
    })
}

/// Escrow state transitions: `held` → `refunded` or `transferred`; both are final.
enum Escrow {
    /// Why a receiver that would move another goal class's money returns: only the exclusive refund moves
    /// money in this flow.
    static let settledOutside = "settled by the payout system, not this flow"

    /// Why the goal's escrow cannot move, if it cannot.
    static func refusal(_ context: ReceiverContext) throws -> String? {
        guard let id = context.goalID else { return "no goal_id" }
        let escrow = try context.hash(Keys.escrow(id))
        guard escrow.exists else { return "no escrow" }
        let state = escrow["state"] ?? ""
        return state == "held" ? nil : "escrow already \(state.isEmpty ? "settled" : state)"
    }

    /// Moves the escrow from `held` to `state`, with a ledger entry.
    static func move(_ context: ReceiverContext, to state: String) throws {
        let id = try context.requireGoalID()
        let escrow = try context.hash(Keys.escrow(id))
        context.write(.hashSet(key: escrow.key, field: "state", value: state))
        context.write(.streamAppend(key: Keys.escrowLedger, fields: [
            "goal_id", id, "from", "held", "to", state, "amount", escrow["amount"] ?? "", "payer", escrow["payer"] ?? "",
            "payee", escrow["payee"] ?? "", "at", String(context.now), "cause", context.message.id,
        ]))
    }
}
