import Metrics

/// `notifier_requests_total{outcome}`: one increment per request to Pusher, by what came of it, and one per
/// entry dead-lettered without a request (malformed, or out of attempts when claimed); and the group's
/// backlog on the outbox, `group_lag` and `group_pending`, as the receiver groups report theirs.
struct NotifierMetrics: Sendable {
    /// The `outcome` label's values.
    enum Outcome: String {
        /// Pusher accepted the event; the entry is acknowledged.
        case sent
        /// The request failed in a way worth retrying; the entry stays pending.
        case retried
        /// The entry moved to the dead letters.
        case deadLettered = "dead_lettered"
    }

    private let sent = Counter(label: "notifier_requests_total", dimensions: [("outcome", Outcome.sent.rawValue)])
    private let retried = Counter(label: "notifier_requests_total", dimensions: [("outcome", Outcome.retried.rawValue)])
    private let deadLettered = Counter(label: "notifier_requests_total", dimensions: [("outcome", Outcome.deadLettered.rawValue)])
    private let lag: Gauge
    private let pending: Gauge

    /// Metrics of the notifier group on `stream`.
    init(group: String = "notifier", stream: String) {
        lag = Gauge(label: "group_lag", dimensions: [("group", group), ("stream", stream)])
        pending = Gauge(label: "group_pending", dimensions: [("group", group), ("stream", stream)])
    }

    /// Counts one outcome.
    func count(_ outcome: Outcome) {
        switch outcome {
        case .sent: sent.increment()
        case .retried: retried.increment()
        case .deadLettered: deadLettered.increment()
        }
    }

    /// The group's entries not yet read and read but not acknowledged.
    func backlog(lag: Int, pending: Int) {
        self.lag.record(lag)
        self.pending.record(pending)
    }
}
