import Foundation

/// How many goals the fault cases drive: a short run in `make test`, hundreds more in `make faults`
/// (`FAULT_LOAD=full`), so CI stays within its budget and the full proof stays one command away.
enum FaultLoad {
    /// Whether the full fault suite was asked for.
    static let isFull = ProcessInfo.processInfo.environment["FAULT_LOAD"] == "full"

    /// `short` in the default run, `full` when `FAULT_LOAD=full`; the size is printed, so a run's output
    /// says what it proved.
    static func goals(short: Int, full: Int, suite: String) -> Int {
        let goals = isFull ? full : short
        print("fault load: \(suite) drives \(goals) goals (\(isFull ? "full" : "short") run)")
        return goals
    }
}
