import GoalDomain
import Logging
import PusherWebhook
import Redis
import SignalBus

/// Turns one Pusher webhook into signals: checks the signature over the raw bytes, parses and validates
/// the body, and stores each known event on its stream with the retries of earlier deliveries recognised,
/// all in one atomic step per partition, through the ``PublishQueue`` that stores concurrent webhooks
/// together. Answers 2xx only once the script that stored the events has answered.
public struct WebhookHandler: Sendable {
    private let settings: GatewaySettings
    private let parser: WebhookParser
    private let signature: WebhookSignature?
    /// Stores the events, together with those of the webhooks handled at the same time.
    private let queue: PublishQueue
    private let bus: BusConfiguration
    private let backpressure: Backpressure
    private let metrics: WebhookMetrics

    /// How long a webhook refused for a backlog asks Pusher to wait (`Retry-After`); Pusher retries with
    /// backoff for 5 minutes whatever it says.
    static let retryAfterSeconds = 30

    /// Creates the handler.
    /// - Parameters:
    ///   - queue: stores the events; it must run (as a service) for webhooks to be answered.
    ///   - backpressure: refuses new events with 503 while some group's backlog is past its limit.
    public init(settings: GatewaySettings, queue: PublishQueue, bus: BusConfiguration, backpressure: Backpressure = Backpressure()) {
        self.init(settings: settings, queue: queue, bus: bus, backpressure: backpressure, metrics: WebhookMetrics())
    }

    init(settings: GatewaySettings, queue: PublishQueue, bus: BusConfiguration, backpressure: Backpressure, metrics: WebhookMetrics) {
        self.metrics = metrics
        self.backpressure = backpressure
        self.settings = settings
        self.parser = WebhookParser(timeWindow: settings.timeWindow)
        self.signature = settings.appSecret.map { WebhookSignature(appKey: settings.appKey ?? "", appSecret: $0) }
        self.queue = queue
        self.bus = bus
    }

    /// Handles a webhook's raw body and headers.
    public func handle(body: [UInt8], key: String?, signature signatureHeader: String?, receivedAtMs: Int64, logger: Logger) async -> WebhookResult {
        if let signature, !(settings.allowUnsigned && signatureHeader == nil && key == nil) {
            let check = signature.verify(body: body, key: key, signature: signatureHeader)
            guard check.isOK else {
                logger.warning("webhook refused: \(check)")
                return .error(401, "\(check)")
            }
        }
        let webhook: Webhook
        do {
            webhook = try parser.parse(body, receivedAtMs: receivedAtMs)
        } catch {
            logger.info("webhook refused", metadata: ["field": .string(error.field), "error": .string(error.message)])
            return .error(400, error.message, field: error.field)
        }
        if let reason = backpressure.refusal, !webhook.events.isEmpty {
            logger.warning("webhook refused: backlog past its limit", metadata: ["reason": .string(reason)])
            return .backlogged(reason, retryAfter: Self.retryAfterSeconds)
        }
        let messages = webhook.events.map { Self.message(for: $0, timeMs: webhook.timeMs) }
        let stored: [Bool]
        do {
            stored = try await queue.publish(messages)
        } catch {
            logger.error("webhook not stored: Redis unavailable", metadata: ["error": "\(error)"])
            return .error(503, "events could not be stored: \(error)")
        }
        let accepted = stored.count { $0 }
        for (message, fresh) in zip(messages, stored) {
            metrics.event(message.topic.name, fresh: fresh)
            logger.debug(fresh ? "event stored" : "retried event recognised", metadata: [
                "signal.id": .string(message.id), "stream": .string(message.topic.key(partition: bus.partition(of: message.routingKey ?? message.id))),
                "channel": .string(message.payload.first { $0.0 == "channel" }?.1 ?? ""),
            ])
        }
        if webhook.ignored > 0 {
            metrics.ignored(webhook.ignored)
        }
        return .accepted(accepted, ignored: webhook.ignored + stored.count - accepted)
    }

    /// The stored message of an event: a deterministic id (so a retry is the same message), the event
    /// time, and the payload.
    static func message(for event: WebhookEvent, timeMs: Int64) -> OutgoingMessage {
        var payload: [(String, String)] = [("channel", event.channel)]
        if let goalID = GoalChannel.goalID(of: event.channel) { payload.append(("goal_id", goalID)) }
        if let user = event.userID { payload.append(("user_id", user)) }
        if let name = event.event { payload.append(("event", name)) }
        if let data = event.data { payload.append(("data", data)) }
        if let socket = event.socketID { payload.append(("socket_id", socket)) }
        if let count = event.subscriptionCount { payload.append(("subscription_count", String(count))) }
        let identity = ["\(timeMs)", event.name] + payload.map { "\($0.0)=\($0.1)" }
        let id = MessageID.digest(identity.joined(separator: "\u{1F}"))
        // A goal's events share its partition (its chain stays in order); an event about no goal, its channel's.
        return OutgoingMessage(
            topic: .signal(event.name), id: id, atMs: timeMs, payload: payload, dedupKey: "webhook:event:\(id)",
            routingKey: GoalChannel.goalID(of: event.channel) ?? event.channel, traceFlagKey: GoalChannel.goalID(of: event.channel).map(Keys.goal)
        )
    }
}
