/// One command's line of `INFO commandstats`: how often Redis ran it and the time it spent in it.
struct CommandStat: Sendable {
    /// Calls.
    var calls = 0
    /// Microseconds Redis spent in those calls.
    var microseconds = 0

    /// Adds another master's figures.
    mutating func add(calls: Int, microseconds: Int) {
        self.calls += calls
        self.microseconds += microseconds
    }
}
