import SignalBus

extension ReceiverContext {
    /// The goal the message is about: its `goal_id`, or the goal of its goal channel.
    var goalID: String? { message.goalID }

    /// The goal id, for an effect whose guard made sure there is one.
    /// - Throws: ``ReceiverError`` when the message is about no goal after all.
    func requireGoalID() throws -> String {
        guard let id = goalID else { throw ReceiverError(receiver: receiver, message: "the message names no goal") }
        return id
    }

    /// The goal's hash, for an effect whose guard made sure the message is about a goal.
    /// - Throws: ``ReceiverError`` when the message is about no goal after all.
    func requireGoal() throws -> HashSnapshot {
        try hash(Keys.goal(try requireGoalID()))
    }

    /// The goal's hash as this message sees it (`nil` without a goal id).
    func goal() throws -> HashSnapshot? {
        guard let id = goalID else { return nil }
        return try hash(Keys.goal(id))
    }

    /// The message's `_cls`, or the goal's when the message has none.
    func goalClass() throws -> String? {
        if let cls = message["_cls"] { return cls }
        return try goal()?["_cls"]
    }

    /// The goal's session hash, when the goal names a session that exists.
    func session() throws -> HashSnapshot? {
        guard let id = try goal()?["session_id"], !id.isEmpty else { return nil }
        let session = try hash(Keys.session(id))
        return session.exists ? session : nil
    }

    /// Appends a client notification for Pusher to `outbox:pusher`.
    func notify(channel: String, event: String, data: [(String, String)]) {
        let json = JSONText.object(data.map { ($0.0, JSONText.quoted($0.1)) })
        write(.streamAppend(key: Keys.pusherOutbox, fields: ["channel", channel, "event", event, "data", json, "cause", message.id]))
    }
}
