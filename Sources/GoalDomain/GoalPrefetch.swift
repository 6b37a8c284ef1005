import SignalBus

/// The hashes each group's receivers read, declared so the bus loads them for a whole batch in one round
/// trip (``ReceiverGroup/prefetch``); a hash not declared is still loaded when first read.
enum GoalPrefetch {
    /// The message's goal hash for messages of `topics`, and its escrow hash for messages of `escrowTopics`.
    static func goal(on topics: Set<Topic>, escrowOn escrowTopics: Set<Topic> = []) -> @Sendable (Message) -> [String] {
        { message in
            guard let id = message.goalID else { return [] }
            var keys: [String] = []
            if topics.contains(message.topic) { keys.append(Keys.goal(id)) }
            if escrowTopics.contains(message.topic) { keys.append(Keys.escrow(id)) }
            return keys
        }
    }

    /// For messages of `topics`, the session its prefetched goal hash names (`session_id`).
    static func session(on topics: Set<Topic>) -> @Sendable (Message, (String) -> [String: String]?) -> [String] {
        { message, prefetched in
            guard topics.contains(message.topic), let id = message.goalID,
                  let session = prefetched(Keys.goal(id))?["session_id"], !session.isEmpty else { return [] }
            return [Keys.session(session)]
        }
    }
}

extension Message {
    /// The goal the message is about: its `goal_id`, or the goal of its goal channel.
    var goalID: String? {
        if let id = self["goal_id"], GoalChannel.isValidGoalID(id) { return id }
        return self["channel"].flatMap(GoalChannel.goalID(of:))
    }
}
