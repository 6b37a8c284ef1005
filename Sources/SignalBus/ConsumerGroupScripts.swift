import Redis

/// The atomic steps of a replica's membership in its group and of dead-lettering (`Lua/take_over.lua`,
/// `Lua/leave.lua`, `Lua/dead_letter.lua`).
enum ConsumerGroupScripts {
    /// Claims every entry pending with a stopped consumer and deletes it from the group, in one step:
    /// `KEYS` the stream; `ARGV` group, stopped consumer, this consumer. Answers the entries and their
    /// delivery counts before the claim, alternating.
    static let takeOver = BusLua.script("take_over")

    /// Deletes a consumer from the group when it holds no pending entry: `KEYS` the stream; `ARGV` group,
    /// consumer. Answers 1 when it did, 0 otherwise.
    static let leave = BusLua.script("leave")

    /// Moves a pending entry to the dead letters with its last recorded error and acknowledges it: `KEYS`
    /// stream, dead letters, errors hash; `ARGV` group, entry, deliveries, error used when none is recorded.
    /// Answers `{error, fields}`.
    static let deadLetter = BusLua.script("dead_letter")
}
