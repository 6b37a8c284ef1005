import Logging
import Redis
import ServiceLifecycle

/// The state of one running ``GroupConsumer``; lives inside its `run()` task only.
final class ConsumerWorker {
    let group: ReceiverGroup
    let client: RedisClient
    let configuration: BusConfiguration
    let consumerName: String
    let logger: Logger
    let metrics: BusMetrics
    let topics: [Topic]
    let errorsKey: String
    private var lastRecovery: ContinuousClock.Instant?
    private var waiting: [PreparedCommit] = []
    private var waitingKeys: Set<String> = []

    init(group: ReceiverGroup, client: RedisClient, configuration: BusConfiguration, consumerName: String, logger: Logger) {
        self.group = group
        self.client = client
        self.configuration = configuration
        self.consumerName = consumerName
        self.logger = logger
        self.metrics = BusMetrics(group: group.name)
        self.topics = group.topics
        self.errorsKey = "errors:\(group.name)"
    }

    func run() async throws {
        logger.info("consumer starting", metadata: ["streams": .string(topics.map(\.key).joined(separator: ","))])
        var groupsReady = false
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if !groupsReady {
                    try await createGroups()
                    groupsReady = true
                }
                if lastRecovery.map({ .now - $0 >= configuration.recoveryInterval }) ?? true {
                    try await recover()
                    lastRecovery = .now
                }
                await handleBatch(try await readBatch())
                failures = 0
            } catch let error as RedisError where error.message.hasPrefix("NOGROUP") {
                logger.warning("consumer group missing (Redis lost its data?); creating it again", metadata: ["error": "\(error)"])
                groupsReady = false
            } catch {
                failures += 1
                let delay = Duration.milliseconds(min(2000, 50 << min(failures, 6)))
                logger.error("consumer loop failed; retrying", metadata: ["error": "\(error)", "retry.ms": "\(delay.milliseconds)"])
                try? await Task.sleep(for: delay)
            }
        }
        logger.info("consumer stopped")
    }

    /// Creates the group on every stream (idempotent; `MKSTREAM` creates missing streams).
    private func createGroups() async throws {
        for topic in topics {
            let replies = try await client.pipeline([RedisCommand("XGROUP", "CREATE", topic.key, group.name, "0", "MKSTREAM")])
            if let message = replies[0].errorMessage, !message.hasPrefix("BUSYGROUP") {
                throw RedisError(code: .server, message: message)
            }
        }
    }

    /// Reads new messages from every stream of the group, sorted by event time.
    private func readBatch() async throws -> [(Message, Int)] {
        var command = RedisCommand(
            "XREADGROUP", "GROUP", group.name, consumerName, "COUNT", configuration.batchSize,
            "BLOCK", Int(configuration.block.milliseconds), "STREAMS"
        )
        for topic in topics { command.append(topic.key) }
        for _ in topics { command.append(">") }
        let reply = try await client.execute(command, timeout: configuration.block + .seconds(5))
        var messages: [(Message, Int)] = []
        for stream in reply.array ?? [] {
            guard let parts = stream.array, parts.count == 2, let key = parts[0].string, let topic = Topic(key: key) else { continue }
            for entry in parts[1].array ?? [] {
                if let message = try await decode(entry, topic: topic) { messages.append((message, 1)) }
            }
        }
        // Streams are read together but ordered apart; apply events in event-time order.
        return messages.enumerated().sorted { lhs, rhs in
            (lhs.element.0.atMs, lhs.offset) < (rhs.element.0.atMs, rhs.offset)
        }.map(\.element)
    }

    /// Decodes a stream entry; a malformed one goes straight to the dead letters.
    func decode(_ entry: RedisValue, topic: Topic) async throws -> Message? {
        guard let parts = entry.array, parts.count == 2, let entryID = parts[0].string else { return nil }
        if let message = Message(topic: topic, entryID: entryID, fields: parts[1].fieldMap) { return message }
        logger.error("malformed message moved to dead letters", metadata: ["stream": .string(topic.key), "entry": .string(entryID)])
        try await deadLetter(topic: topic, entryID: entryID, deliveries: 1, error: "malformed envelope: id and at_ms are required")
        return nil
    }

    /// Handles one message on its own: runs the receivers and commits, again while the state it read keeps
    /// changing underneath; on failure leaves it pending for a retry.
    func handle(_ message: Message, deliveries: Int) async {
        let started = ContinuousClock.now
        do {
            for _ in 1...configuration.conflictRetries {
                let prepared = try await prepare(message, deliveries: deliveries, beforeLoad: nil)
                let reply = try await client.pipeline([prepared.command])[0]
                if try settle(prepared, reply: reply, started: started) { return }
            }
            throw RedisError(code: .server, message: "gave up after \(configuration.conflictRetries) conflicting attempts")
        } catch {
            await fail(message, deliveries: deliveries, error: error)
        }
    }

    /// Handles a batch with one pipelined round trip of commits: each message's receivers run in turn and
    /// its commit waits in the pipeline, which is sent early when a message is about to read a key that a
    /// waiting commit writes, so every message still sees the effects of those before it.
    func handleBatch(_ batch: [(Message, Int)]) async {
        for (message, deliveries) in batch {
            do {
                let prepared = try await prepare(message, deliveries: deliveries) { [self] key in
                    if waitingKeys.contains(key) { await flush() }
                }
                waiting.append(prepared)
                waitingKeys.formUnion(prepared.writtenKeys)
            } catch {
                await fail(message, deliveries: deliveries, error: error)
            }
        }
        await flush()
    }

    /// Sends the waiting commits in one pipeline and settles each; a commit that met changed state is
    /// handled again on its own.
    private func flush() async {
        let batch = waiting
        waiting = []
        waitingKeys = []
        guard !batch.isEmpty else { return }
        do {
            let replies = try await client.pipeline(batch.map(\.command))
            for (prepared, reply) in zip(batch, replies) {
                do {
                    if try !settle(prepared, reply: reply, started: prepared.started) {
                        await handle(prepared.message, deliveries: prepared.deliveries)
                    }
                } catch {
                    await fail(prepared.message, deliveries: prepared.deliveries, error: error)
                }
            }
        } catch {
            for prepared in batch {
                await fail(prepared.message, deliveries: prepared.deliveries, error: error)
            }
        }
    }

    /// Runs the message's receivers in declaration order and builds its commit.
    private func prepare(
        _ message: Message, deliveries: Int, beforeLoad: ((String) async -> Void)?
    ) async throws -> PreparedCommit {
        let started = ContinuousClock.now
        let context = ReceiverContext(message: message, group: group.name, client: client)
        context.beforeLoad = beforeLoad
        var records: [TraceRecord] = []
        for receiver in group.receivers(of: message.topic) {
            context.receiver = receiver.name
            let writesBefore = context.writes.count
            let emissionsBefore = context.emissions.count
            let reason = try await receiver.guardCheck(context)
            if reason == nil { try await receiver.effect(context) }
            records.append(TraceRecord(
                atMs: message.atMs, signal: message.topic.name, kind: message.topic.kind.rawValue,
                message: message.id, cause: message.cause, group: group.name, receiver: receiver.name,
                acted: reason == nil, reason: reason ?? "",
                published: context.emissions[emissionsBefore...].map {
                    TraceRecord.Published(signal: $0.emission.topic.name, kind: $0.emission.topic.kind.rawValue, id: $0.id)
                },
                writes: context.writes[writesBefore...].map(\.write.summary)
            ))
        }
        let command = CommitScript.command(
            context: context, configuration: configuration, envelopes: context.emissionFields,
            traceRecords: records.map(\.json), traceIndexKey: group.traceIndexKey(message),
            clearError: deliveries > 1 ? (errorsKey, "\(message.topic.key) \(message.entryID)") : nil
        )
        return PreparedCommit(
            message: message, deliveries: deliveries, started: started, records: records, command: command,
            writtenKeys: Set(context.writes.map(\.write.key)),
            published: context.emissions.map { "\($0.emission.topic.key)#\($0.id)" }
        )
    }

    /// Records a commit's outcome; returns `false` when it met changed state and must be handled again.
    private func settle(_ prepared: PreparedCommit, reply: RedisValue, started: ContinuousClock.Instant) throws -> Bool {
        let topic = prepared.message.topic
        switch try CommitScript.result(reply) {
        case .committed:
            for record in prepared.records { metrics.outcome(receiver: record.receiver, acted: record.acted, reason: record.reason) }
            let elapsed = ContinuousClock.now - started
            metrics.handled(topic: topic, nanoseconds: elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
            messageLogger(prepared.message).debug("message handled", metadata: [
                "receivers.acted": .string(prepared.records.filter(\.acted).map(\.receiver).joined(separator: ",")),
                "published": .string(prepared.published.joined(separator: ",")),
            ])
            return true
        case .duplicate:
            metrics.message("duplicate", topic: topic)
            messageLogger(prepared.message).info("duplicate message acknowledged without effect")
            return true
        case .conflict(let key, let field):
            metrics.message("conflict", topic: topic)
            messageLogger(prepared.message).debug("state changed while handling; handling again", metadata: [
                "key": .string(key), "field": .string(field),
            ])
            return false
        }
    }

    private func fail(_ message: Message, deliveries: Int, error: any Error) async {
        metrics.message("failed", topic: message.topic)
        messageLogger(message).error("message failed; it stays pending and will be retried", metadata: ["error": "\(error)", "deliveries": "\(deliveries)"])
        _ = try? await client.execute("HSET", errorsKey, "\(message.topic.key) \(message.entryID)", "\(error)")
    }

    private func messageLogger(_ message: Message) -> Logger {
        var logger = logger
        logger[metadataKey: "signal.id"] = .string(message.id)
        logger[metadataKey: "trace.id"] = .string(message.trace)
        logger[metadataKey: "stream"] = .string(message.topic.key)
        if let goal = message["goal_id"] { logger[metadataKey: "goal.id"] = .string(goal) }
        return logger
    }
}

/// A message whose receivers have run, with the commit that finishes it.
struct PreparedCommit {
    let message: Message
    let deliveries: Int
    let started: ContinuousClock.Instant
    let records: [TraceRecord]
    let command: RedisCommand
    /// The keys the commit writes; a later message reading one of them waits for this commit.
    let writtenKeys: Set<String>
    /// `stream#id` of each emission, for the log.
    let published: [String]
}
