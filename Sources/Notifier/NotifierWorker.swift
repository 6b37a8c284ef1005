import Foundation
import Logging
import Redis
import ServiceLifecycle
import SignalBus

/// The state of one running ``PusherNotifier``; lives inside its `run()` task only.
///
/// Reading, heartbeats, take-over of stopped replicas, claims, dead-lettering by delivery count, trimming and
/// leaving the group are the bus's ``StreamConsumerCore``, driven here over an asynchronous client; what is
/// the notifier's own is the sending: one entry at a time, in stream order, an entry that fails retried with
/// backoff before the next is sent, which also keeps the notifier from hammering Pusher while it is down.
final class NotifierWorker {
    let configuration: NotifierConfiguration
    let client: any RedisCommandRunner
    let http: PusherHTTPClient
    let consumerName: String
    let logger: Logger
    let metrics: NotifierMetrics
    let core: StreamConsumerCore

    init(configuration: NotifierConfiguration, client: any RedisCommandRunner, consumerName: String, logger: Logger) {
        self.configuration = configuration
        self.client = client
        self.http = PusherHTTPClient(configuration: configuration)
        self.consumerName = consumerName
        self.logger = logger
        self.metrics = NotifierMetrics(group: configuration.group, stream: configuration.stream)
        self.core = StreamConsumerCore(settings: configuration.consumerSettings(consumer: consumerName))
    }

    /// Whether the service is asked to stop (graceful shutdown or cancellation).
    var isStopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }

    /// Sends until asked to stop; entries read but not sent stay pending.
    func run() async {
        logger.info("notifier starting", metadata: [
            "outbox.stream": .string(configuration.stream), "pusher.url": .string(configuration.baseURL.absoluteString),
            "pusher.app": .string(configuration.appID),
        ])
        while !isStopping {
            do {
                if core.needsGroups { try core.groupsCreated(await client.pipeline(core.createGroupCommands())) }
                if var pass = core.recoveryPass() { try await recover(&pass) }
                // A stop asked for during the pass need not wait for a blocking read.
                if isStopping { break }
                let entries = try core.entries(read: await client.pipeline([core.readCommand], timeout: core.readTimeout)[0])
                let readAt = ContinuousClock.now
                for entry in entries {
                    // Entries not sent before a stop stay pending; another consumer claims them.
                    if isStopping { break }
                    try await deliver(OutboxEntry(entry), deliveries: entry.deliveries, readAt: readAt)
                }
                core.turnSucceeded()
            } catch {
                switch core.turnFailed(error) {
                case .groupMissing:
                    logger.warning("consumer group missing (Redis lost its data?); creating it again", metadata: ["error": "\(error)"])
                case .retry(let delay):
                    logger.error("notifier loop failed; retrying", metadata: ["error": "\(error)", "retry.ms": "\(delay.milliseconds)"])
                    _ = await pause(delay)
                }
            }
        }
        await http.shutdown()
        logger.info("notifier stopped")
    }

    /// On a clean stop, once the heartbeat is no longer refreshed: leaves the group unless this replica
    /// still holds entries (a live replica takes those over), and ends the heartbeat.
    func leave() async {
        _ = try? await client.pipeline(core.leaveCommands())
    }

    /// Sends one entry of a batch read or claimed at `readAt`. An entry that waited in the batch for half
    /// the claim idle time (behind retries of the ones before it) is first taken again, so that no other
    /// replica claims it meanwhile, and skipped when another one already has.
    func deliver(_ entry: OutboxEntry, deliveries: Int, readAt: ContinuousClock.Instant) async throws {
        var deliveries = deliveries
        if ContinuousClock.now - readAt > configuration.claimIdle / 2 {
            guard let count = try await renew(entry.entryID, counting: false) else {
                entryLogger(entry).info("entry no longer pending with this consumer; leaving it")
                return
            }
            deliveries = count
        }
        try await deliver(entry, deliveries: deliveries)
    }

    /// Sends one entry until it is delivered, refused, out of attempts or the service stops.
    ///
    /// - Parameter deliveries: the entry's delivery count so far, this delivery included.
    /// - Throws: only Redis errors; the entry then stays pending.
    func deliver(_ entry: OutboxEntry, deliveries: Int) async throws {
        var logger = entryLogger(entry)
        guard let event = entry.event else {
            try await deadLetter(entry.entryID, deliveries: deliveries, error: "malformed outbox entry: channel and event are required", record: true)
            logger.error("malformed outbox entry moved to dead letters", metadata: ["dead": .string(deadLetterKey)])
            return
        }
        var deliveries = deliveries
        while true {
            logger[metadataKey: "notifier.attempt"] = "\(deliveries)"
            let outcome = await http.trigger(event, at: Int64(Date().timeIntervalSince1970))
            switch outcome {
            case .delivered(let status):
                var commands = [RedisCommand("XACK", configuration.stream, configuration.group, entry.entryID)]
                if deliveries > 1 { commands.append(RedisCommand("HDEL", configuration.errorsKey, errorField(entry.entryID))) }
                for reply in try await client.pipeline(commands) { _ = try reply.checked() }
                metrics.count(.sent)
                logger.debug("notification sent", metadata: ["http.status": "\(status)"])
                return
            case .rejected(let status, let body):
                let error = status == 0 ? body : "Pusher answered \(status): \(body)"
                try await deadLetter(entry.entryID, deliveries: deliveries, error: error, record: true)
                logger.error("notification refused; moved to dead letters", metadata: [
                    "http.status": "\(status)", "error": .string(error), "dead": .string(deadLetterKey),
                ])
                return
            case .failed(let reason):
                if Task.isCancelled { return }
                if deliveries >= configuration.maxAttempts {
                    let error = "gave up after \(deliveries) attempts: \(reason)"
                    try await deadLetter(entry.entryID, deliveries: deliveries, error: error, record: true)
                    logger.error("notification kept failing; moved to dead letters", metadata: ["error": .string(error), "dead": .string(deadLetterKey)])
                    return
                }
                try await client.execute("HSET", configuration.errorsKey, errorField(entry.entryID), reason)
                metrics.count(.retried)
                let delay = configuration.backoff(afterAttempt: deliveries)
                logger.warning("notification failed; it stays pending and will be retried", metadata: [
                    "error": .string(reason), "retry.ms": "\(delay.milliseconds)",
                ])
                guard await pause(delay) else { return }
                guard let renewed = try await renew(entry.entryID, counting: true) else {
                    logger.info("entry no longer pending with this consumer; leaving it")
                    return
                }
                deliveries = renewed
            }
        }
    }

    /// Moves an entry to `dead:<stream>` and acknowledges it (the bus's dead-letter script). With `record`,
    /// `error` is first stored as the entry's last error, so it is what `dead.error` says; without, the
    /// last error another consumer recorded wins over `error`.
    func deadLetter(_ entryID: String, deliveries: Int, error: String, record: Bool) async throws {
        var commands: [RedisCommand] = []
        if record { commands.append(RedisCommand("HSET", configuration.errorsKey, errorField(entryID), error)) }
        commands.append(core.deadLetterCommand(stream: configuration.stream, entryID: entryID, deliveries: deliveries, error: error))
        for reply in try await client.pipeline(commands) { _ = try reply.checked() }
        metrics.count(.deadLettered)
    }

    /// Sleeps for `delay` unless the service stops first; returns whether it is still running.
    func pause(_ delay: Duration) async -> Bool {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
        return !isStopping
    }

    var deadLetterKey: String { core.deadLetterKey(for: configuration.stream) }

    /// The entry's field in the errors hash: `"<stream> <entry>"`, as the bus and its dead-letter script use.
    func errorField(_ entryID: String) -> String { "\(configuration.stream) \(entryID)" }

    func entryLogger(_ entry: OutboxEntry) -> Logger {
        var logger = logger
        logger[metadataKey: "outbox.entry"] = .string(entry.entryID)
        if !entry.cause.isEmpty { logger[metadataKey: "outbox.cause"] = .string(entry.cause) }
        if let event = entry.event {
            logger[metadataKey: "pusher.channel"] = .string(event.channel)
            logger[metadataKey: "pusher.event"] = .string(event.name)
        }
        return logger
    }
}
