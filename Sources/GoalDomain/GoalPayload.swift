import SignalBus

/// The payloads of the goal signals, built from the goal hash as the seed lists their arguments.
enum GoalPayload {
    /// The context fields carried by goal signals.
    static let contextFields = ["context.started", "context.paused", "context.last_updated"]

    /// `levels.N.target` fields of the goal, in level order.
    static func levelFields(_ goal: HashSnapshot) -> [(String, String)] {
        var result: [(String, String)] = []
        var level = 0
        while let target = goal["levels.\(level).target"] {
            result.append(("levels.\(level).target", target))
            level += 1
        }
        return result
    }

    /// The number of levels whose target is ≤ `progress`.
    static func level(of goal: HashSnapshot, progress: Int64) -> Int {
        levelFields(goal).count { Int64($0.1).map { $0 <= progress } ?? false }
    }

    /// Fields copied from the goal hash as they are (absent ones as empty strings, the seed's `None`).
    static func copy(_ fields: [String], from goal: HashSnapshot) -> [(String, String)] {
        fields.map { ($0, goal[$0] ?? "") }
    }

    /// goal.progressed: `goal_id, _cls, amount, conditions, context, progress, breakdown_id, levels, metadata, exp, level, old_level`.
    static func progressed(goalID: String, goal: HashSnapshot, amount: Int64, progress: Int64, level: Int, oldLevel: Int) -> [(String, String)] {
        [("goal_id", goalID), ("_cls", goal["_cls"] ?? ""), ("amount", String(amount))]
            + copy(["conditions"] + contextFields, from: goal)
            + [("progress", String(progress))]
            + copy(["breakdown_id"], from: goal)
            + levelFields(goal)
            + copy(["metadata", "exp"], from: goal)
            + [("level", String(level)), ("old_level", String(oldLevel))]
    }

    /// goal.completed: `goal_id, _cls, conditions, context, progress, level, levels, metadata`.
    static func completed(from message: Message) -> [(String, String)] {
        var payload: [(String, String)] = [("goal_id", message["goal_id"] ?? ""), ("_cls", message["_cls"] ?? "")]
        payload += (["conditions"] + contextFields + ["progress", "level"]).map { ($0, message[$0] ?? "") }
        payload += levelFields(message)
        payload.append(("metadata", message["metadata"] ?? ""))
        return payload
    }

    /// goal.ended: `goal_id, _cls, active, progress, levels, conditions, context, exp, triggerer, metadata`.
    static func ended(goalID: String, goal: HashSnapshot, exp: Int64, triggerer: String) -> [(String, String)] {
        [("goal_id", goalID), ("_cls", goal["_cls"] ?? ""), ("active", "0"), ("progress", goal["progress"] ?? "0")]
            + levelFields(goal)
            + copy(["conditions"] + contextFields, from: goal)
            + [("exp", String(exp)), ("triggerer", triggerer)]
            + copy(["metadata"], from: goal)
    }

    private static func levelFields(_ message: Message) -> [(String, String)] {
        var result: [(String, String)] = []
        var level = 0
        while let target = message["levels.\(level).target"] {
            result.append(("levels.\(level).target", target))
            level += 1
        }
        return result
    }
}
