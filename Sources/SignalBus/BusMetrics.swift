import Metrics

/// The metrics one group's consumer reports through swift-metrics, cached per label set.
final class BusMetrics {
    private let group: String
    private var counters: [[String]: Counter] = [:]
    /// Outcome counters, looked up per receiver per message: one hashed key of the receiver, whether it
    /// acted and its reason.
    private var outcomes: [OutcomeKey: Counter] = [:]
    private var gauges: [[String]: Gauge] = [:]
    private var timers: [String: Timer] = [:]

    init(group: String) {
        self.group = group
    }

    /// A receiver acted, or returned for `reason`.
    func outcome(receiver: String, acted: Bool, reason: String) {
        let key = OutcomeKey(receiver: receiver, acted: acted, reason: reason)
        if let counter = outcomes[key] {
            counter.increment()
            return
        }
        let counter = Counter(
            label: "receiver_outcomes_total",
            dimensions: [("group", group), ("receiver", receiver), ("outcome", acted ? "acted" : "returned"), ("reason", reason)]
        )
        outcomes[key] = counter
        counter.increment()
    }

    private struct OutcomeKey: Hashable {
        let receiver: String
        let acted: Bool
        let reason: String
    }

    /// A message of `topic` failed, was dead-lettered, was found acknowledged already, or met a conflict.
    func message(_ event: String, topic: Topic) {
        counter("bus_messages_total", [("group", group), ("stream", topic.key), ("event", event)]).increment()
    }

    /// How long handling a message of `topic` took, commit included.
    func handled(topic: Topic, nanoseconds: Int64) {
        let timer = timers[topic.key] ?? {
            let timer = Timer(label: "handler_duration_seconds", dimensions: [("group", group), ("stream", topic.key)], preferredDisplayUnit: .seconds)
            timers[topic.key] = timer
            return timer
        }()
        timer.recordNanoseconds(nanoseconds)
    }

    /// Entries taken over from a stopped replica.
    func takenOver(stream: String, count: Int) {
        counter("bus_taken_over_total", [("group", group), ("stream", stream)]).increment(by: count)
    }

    /// The group's lag and pending count on a stream.
    func backlog(stream: String, lag: Int, pending: Int) {
        gauge("group_lag", stream).record(lag)
        gauge("group_pending", stream).record(pending)
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = [label] + dimensions.map(\.1)
        if let counter = counters[key] { return counter }
        let counter = Counter(label: label, dimensions: dimensions)
        counters[key] = counter
        return counter
    }

    private func gauge(_ label: String, _ stream: String) -> Gauge {
        let key = [label, stream]
        if let gauge = gauges[key] { return gauge }
        let gauge = Gauge(label: label, dimensions: [("group", group), ("stream", stream)])
        gauges[key] = gauge
        return gauge
    }
}
