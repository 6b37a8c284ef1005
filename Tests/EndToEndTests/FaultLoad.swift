import Foundation

/// How many goals the fault cases drive: a short run in `make test`, hundreds more in `make faults`
/// (`FAULT_LOAD=full`), so CI stays within its budget and the full proof stays one command away.
enum FaultLoad {
    /// Whether the full fault suite was asked for.
    static let isFull = ProcessInfo.processInfo.environment["FAULT_LOAD"] == "full"

    /// `short` in the default run, `full` when `FAULT_LOAD=full`.
    static func goals(short: Int, full: Int) -> Int { isFull ? full : short }
}
