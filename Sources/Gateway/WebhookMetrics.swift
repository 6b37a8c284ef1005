import GoalDomain
import Metrics
import SignalBus
import Synchronization

/// The gateway's metrics, made once: `webhook_events_total` per event name and outcome,
/// `gateway_requests_total` per status, rather than a handle looked up anew for every event and request, and
/// `gateway_publish_batch_messages`, the messages of each publish script call.
final class WebhookMetrics: Sendable {
    /// Messages per publish script call: how many events concurrent webhooks store together.
    let batchMessages = Recorder(label: WebhookMetrics.batchMessagesLabel, aggregate: true)
    static let batchMessagesLabel = "gateway_publish_batch_messages"
    /// The buckets of `gateway_publish_batch_messages`: from one message to a full call.
    static let valueBuckets: [String: [Double]] = [batchMessagesLabel: [1, 2, 4, 8, 16, 32, 64, 128, 256]]
    private let accepted: [String: Counter]
    private let retried: [String: Counter]
    private let ignored = Counter(label: "webhook_events_total", dimensions: [("name", "other"), ("outcome", "ignored")])
    private let statuses = Mutex<[Int: Counter]>([:])

    init() {
        let names = Topics.webhookTopics.map(\.name)
        accepted = Dictionary(uniqueKeysWithValues: names.map {
            ($0, Counter(label: "webhook_events_total", dimensions: [("name", $0), ("outcome", "accepted")]))
        })
        retried = Dictionary(uniqueKeysWithValues: names.map {
            ($0, Counter(label: "webhook_events_total", dimensions: [("name", $0), ("outcome", "retry")]))
        })
    }

    /// An event of `name` stored (`fresh`) or recognised as a retry.
    func event(_ name: String, fresh: Bool) {
        (fresh ? accepted : retried)[name]?.increment()
    }

    /// Events not stored: unknown names, invalid channels.
    func ignored(_ count: Int) {
        ignored.increment(by: count)
    }

    /// One HTTP answer with `status`.
    func request(status: Int) {
        statuses.withLock { counters in
            if let counter = counters[status] { return counter }
            let counter = Counter(label: "gateway_requests_total", dimensions: [("status", String(status))])
            counters[status] = counter
            return counter
        }.increment()
    }
}
