import Synchronization

/// What the bus's backlog allows right now, shared between a ``BacklogMonitor`` that measures it and the
/// parts that must hold back new work while some group lags too far: the gateway (503 with `Retry-After`),
/// the expiry sweep (waits) and `/ready` (says why).
public final class Backpressure: Sendable {
    /// One group's backlog on one stream past ``BusConfiguration/backlogLimit``.
    public struct Overflow: Sendable, Hashable {
        /// The consumer group.
        public let group: String
        /// The stream.
        public let stream: String
        /// Entries the group has not acknowledged: its lag plus its pending entries.
        public let backlog: Int
        /// The limit it passed.
        public let limit: Int

        /// One line for a log, a 503 body or `/ready`.
        public var description: String {
            "group \(group) has \(backlog) entries of \(stream) not acknowledged, past bus.backlog.limit \(limit)"
        }
    }

    /// The overflows measured last, worst first; `nil` before the first measurement.
    private let overflows: Mutex<[Overflow]?>

    /// Creates the state.
    /// - Parameter measuredFirst: whether work waits for a first measurement (the expiry sweep, which would
    ///   otherwise sweep once at start whatever the backlog); when `false`, work flows until one says otherwise.
    public init(measuredFirst: Bool = false) {
        overflows = Mutex(measuredFirst ? nil : [])
    }

    /// The overflows measured last, worst first; empty when work may flow.
    public var current: [Overflow] { overflows.withLock { $0 ?? [] } }

    /// Why new work is refused now, or `nil` when it is not.
    public var refusal: String? {
        overflows.withLock { measured in
            guard let measured else { return "the backlog has not been measured yet" }
            return measured.first?.description
        }
    }

    /// Replaces the measured overflows.
    func update(_ measured: [Overflow]) {
        overflows.withLock { $0 = measured.sorted { $0.backlog > $1.backlog } }
    }
}
