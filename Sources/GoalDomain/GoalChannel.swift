/// Goal presence channels: `presence-enc-goal@<goal_id>` with `<goal_id>` in `[A-Za-z0-9_-]{1,64}`.
public enum GoalChannel {
    /// The channel prefix.
    public static let prefix = "presence-enc-goal@"

    /// The goal id of a goal channel, or `nil` for any other channel.
    public static func goalID(of channel: String) -> String? {
        guard channel.hasPrefix(prefix) else { return nil }
        let id = channel.dropFirst(prefix.count)
        return isValidGoalID(id) ? String(id) : nil
    }

    /// The channel of a goal.
    public static func channel(of goalID: String) -> String { prefix + goalID }

    /// Whether `id` is a valid goal id.
    public static func isValidGoalID(_ id: some StringProtocol) -> Bool {
        (1...64).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}
