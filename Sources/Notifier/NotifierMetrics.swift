import Metrics

/// `notifier_requests_total{outcome}`: one increment per request to Pusher, by what came of it, and one per
/// entry dead-lettered without a request (malformed, or out of attempts when claimed).
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

    /// Counts one outcome.
    func count(_ outcome: Outcome) {
        switch outcome {
        case .sent: sent.increment()
        case .retried: retried.increment()
        case .deadLettered: deadLettered.increment()
        }
    }
}
