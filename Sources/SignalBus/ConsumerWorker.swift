import Logging
import Redis

/// The state of one running ``GroupConsumer``. It lives on its Redis connection's own thread for the
/// consumer's whole life: reads, receivers and commits are plain blocking calls there, with no hop to or
/// from Swift's cooperative pool per message.
final class ConsumerWorker {
    let group: ReceiverGroup
    let connection: any RedisLink
    let configuration: BusConfiguration
    let consumerName: String
    let logger: Logger
    let metrics: BusMetrics
    let topics: [Topic]
    /// The partition this worker consumes; `nil` when streams are not partitioned.
    let partition: Partition?
    let errorsKey: String
    /// The group's receivers of each topic, in declaration order.
    private let receiversByTopic: [Topic: [Receiver]]
    private let stop: StopSignal
    private var lastRecovery: ContinuousClock.Instant?
    /// Messages whose receivers have run, waiting to be committed together.
    private var waiting: [PreparedCommit] = []
    /// The keys the waiting commits write: a message about to read one sends the waiting commits first.
    private var waitingKeys: Set<String> = []
    /// Hashes loaded ahead for the batch in hand; a key is dropped once a waiting commit writes it.
    private var prefetched: [String: [String: String]] = [:]

    init(
        group: ReceiverGroup, connection: any RedisLink, partition: Partition?, configuration: BusConfiguration,
        consumerName: String, stop: StopSignal, logger: Logger
    ) {
        self.group = group
        self.connection = connection
        self.partition = partition
        self.configuration = configuration
        self.consumerName = consumerName
        self.stop = stop
        self.logger = logger
        self.metrics = BusMetrics(group: group.name)
        self.topics = group.topics
        self.errorsKey = BusConfiguration.errorsKey(group: group.name, partition: partition)
        self.receiversByTopic = Dictionary(uniqueKeysWithValues: group.topics.map { ($0, group.receivers(of: $0)) })
    }

    /// Consumes until the stop signal is raised; the batch in hand is finished first.
    func run() {
        logger.info("consumer starting", metadata: ["streams": .string(topics.map(streamKey).joined(separator: ","))])
        var groupsReady = false
        var failures = 0
        while !stop.isRaised {
            do {
                if !groupsReady {
                    try createGroups()
                    groupsReady = true
                }
                if lastRecovery.map({ .now - $0 >= configuration.recoveryInterval }) ?? true {
                    try recover()
                    lastRecovery = .now
                }
                handleBatch(try readBatch())
                failures = 0
            } catch let error as RedisError where error.message.hasPrefix("NOGROUP") {
                logger.warning("consumer group missing (Redis lost its data?); creating it again", metadata: ["error": "\(error)"])
                groupsReady = false
            } catch {
                failures += 1
                let delay = Duration.milliseconds(min(2000, 50 << min(failures, 6)))
                logger.error("consumer loop failed; retrying", metadata: ["error": "\(error)", "retry.ms": "\(delay.milliseconds)"])
                stop.wait(upTo: delay)
            }
        }
        logger.info("consumer stopped")
    }

    /// Sends one command and returns its reply, throwing an error reply.
    @discardableResult
    func execute(_ command: RedisCommand, timeout: Duration? = nil) throws(RedisError) -> RedisValue {
        try connection.send(command, timeout: timeout).checked()
    }

    /// The stream this worker reads for `topic`: the topic's, or its partition's.
    func streamKey(_ topic: Topic) -> String { topic.key(partition: partition) }

    /// Creates the group on every stream (idempotent; `MKSTREAM` creates missing streams).
    private func createGroups() throws {
        for topic in topics {
            let reply = try connection.send(RedisCommand("XGROUP", "CREATE", streamKey(topic), group.name, "0", "MKSTREAM"))
            if let message = reply.errorMessage, !message.hasPrefix("BUSYGROUP") {
                throw RedisError(code: .server, message: message)
            }
        }
    }

    /// Reads new messages from every stream of the group, sorted by event time.
    private func readBatch() throws -> [(Message, Int)] {
        var command = RedisCommand(
            "XREADGROUP", "GROUP", group.name, consumerName, "COUNT", configuration.batchSize,
            "BLOCK", Int(configuration.block.milliseconds), "STREAMS"
        )
        for topic in topics { command.append(streamKey(topic)) }
        for _ in topics { command.append(">") }
        let reply = try execute(command, timeout: configuration.block + .seconds(5))
        var messages: [(Message, Int)] = []
        for stream in reply.array ?? [] {
            guard let parts = stream.array, parts.count == 2, let key = parts[0].string,
                  let topic = Topic(streamKey: key) else { continue }
            for entry in parts[1].array ?? [] {
                if let message = try decode(entry, topic: topic) { messages.append((message, 1)) }
            }
        }
        // Streams are read together but ordered apart; apply events in event-time order.
        return messages.enumerated().sorted { lhs, rhs in
            (lhs.element.0.atMs, lhs.offset) < (rhs.element.0.atMs, rhs.offset)
        }.map(\.element)
    }

    /// Decodes a stream entry; a malformed one goes straight to the dead letters.
    func decode(_ entry: RedisValue, topic: Topic) throws -> Message? {
        guard let parts = entry.array, parts.count == 2, let entryID = parts[0].string else { return nil }
        if let message = Message(topic: topic, entryID: entryID, fields: parts[1].fieldMap, partition: partition) { return message }
        logger.error("malformed message moved to dead letters", metadata: ["stream": .string(streamKey(topic)), "entry": .string(entryID)])
        try deadLetter(topic: topic, entryID: entryID, deliveries: 1, error: "malformed envelope: id and at_ms are required")
        return nil
    }

    /// Handles a batch: the hashes its receivers will read are loaded in one round trip, each message's
    /// receivers run in turn, and the commits go in one script call, sent early when a message is about to
    /// read a key that a waiting commit writes, so every message still sees the effects of those before it.
    func handleBatch(_ batch: [(Message, Int)]) {
        guard !batch.isEmpty else { return }
        prefetch(batch.map(\.0))
        for (message, deliveries) in batch {
            do {
                waiting.append(try prepare(message, deliveries: deliveries, inBatch: true))
                waitingKeys.formUnion(waiting[waiting.count - 1].writtenKeys)
            } catch {
                fail(message, deliveries: deliveries, error: error)
            }
        }
        flush()
        prefetched = [:]
    }

    /// Handles one message on its own, again while the state it read keeps changing underneath; on
    /// failure leaves it pending for a retry.
    func handle(_ message: Message, deliveries: Int) {
        do {
            for _ in 1...configuration.conflictRetries {
                let prepared = try prepare(message, deliveries: deliveries, inBatch: false)
                if settle(prepared, result: commit([prepared])[0]) { return }
            }
            throw RedisError(code: .server, message: "gave up after \(configuration.conflictRetries) conflicting attempts")
        } catch {
            fail(message, deliveries: deliveries, error: error)
        }
    }

    /// Loads the hashes the group declares it will read for these messages: one pipeline for those the
    /// messages name, then one for those the loaded hashes name.
    private func prefetch(_ messages: [Message]) {
        prefetch(keys: messages.flatMap(group.prefetch))
        prefetch(keys: messages.flatMap { group.prefetchNamed($0) { [prefetched] key in prefetched[key] } })
    }

    /// Loads the hashes `keys` (each once) in one pipeline into ``prefetched``.
    private func prefetch(keys: [String]) {
        var seen: Set<String> = []
        let keys = keys.filter { prefetched[$0] == nil && seen.insert($0).inserted }
        guard !keys.isEmpty, let replies = try? connection.send(keys.map { RedisCommand("HGETALL", $0) }) else { return }
        for (key, reply) in zip(keys, replies) where reply.errorMessage == nil {
            prefetched[key] = reply.fieldMap
        }
    }

    /// A hash's fields for a receiver: from the batch's prefetch unless a waiting commit writes it (then
    /// the waiting commits are sent first and the hash read fresh).
    private func load(_ key: String, inBatch: Bool) throws -> [String: String] {
        if inBatch && waitingKeys.contains(key) {
            flush()
        } else if inBatch, let fields = prefetched[key] {
            return fields
        }
        return try execute(RedisCommand("HGETALL", key)).fieldMap
    }

    /// Sends the waiting commits in one script call and settles each; a commit that met changed state is
    /// handled again on its own.
    private func flush() {
        let batch = waiting
        waiting = []
        for key in waitingKeys { prefetched[key] = nil }
        waitingKeys = []
        guard !batch.isEmpty else { return }
        for (prepared, result) in zip(batch, commit(batch)) where !settle(prepared, result: result) {
            // Handled again on its own, the message may write keys the batch prefetched.
            prefetched = [:]
            handle(prepared.message, deliveries: prepared.deliveries)
        }
    }

    /// Runs the message's receivers in declaration order and builds its commit.
    private func prepare(_ message: Message, deliveries: Int, inBatch: Bool) throws -> PreparedCommit {
        let started = ContinuousClock.now
        let context = ReceiverContext(message: message, group: group.name) { [unowned self] key in
            try load(key, inBatch: inBatch)
        }
        var outcomes: [TraceEntry.Outcome] = []
        for receiver in receiversByTopic[message.topic] ?? [] {
            context.receiver = receiver.name
            let writesBefore = context.writes.count
            let emissionsBefore = context.emissions.count
            let reason = try receiver.guardCheck(context)
            if reason == nil { try receiver.effect(context) }
            outcomes.append(TraceEntry.Outcome(
                receiver: receiver.name, acted: reason == nil, reason: reason ?? "",
                published: context.emissions[emissionsBefore...].map {
                    TraceRecord.Published(signal: $0.emission.topic.name, kind: $0.emission.topic.kind.rawValue, id: $0.id)
                },
                writes: context.writes[writesBefore...].map(\.write.summary)
            ))
        }
        let entry = TraceEntry(
            atMs: message.atMs, topic: message.topic, message: message.id, cause: message.cause, group: group.name, receivers: outcomes
        )
        // Tracing off (`traceSeconds` 0) keeps no trace and no index; a chain is indexed under its goal by
        // the groups handling its root, for `goalctl trace <goal>`.
        let tracing = configuration.traceSeconds > 0
        let plan = try CommitPlan.make(
            context, record: tracing ? entry.json : Array("1".utf8),
            traceIndexKey: tracing && message.cause.isEmpty ? group.traceIndexKey(message) : nil,
            clearError: deliveries > 1 ? (errorsKey, "\(message.streamKey) \(message.entryID)") : nil,
            configuration: configuration, cluster: connection.isCluster
        )
        return PreparedCommit(
            message: message, deliveries: deliveries, started: started, outcomes: outcomes, context: context, plan: plan,
            writtenKeys: Set(context.writes.map(\.write.key))
        )
    }

    /// Records a commit's outcome; returns `false` when it met changed state and must be handled again.
    private func settle(_ prepared: PreparedCommit, result: CommitScript.Result) -> Bool {
        let topic = prepared.message.topic
        switch result {
        case .committed:
            for outcome in prepared.outcomes { metrics.outcome(receiver: outcome.receiver, acted: outcome.acted, reason: outcome.reason) }
            let elapsed = ContinuousClock.now - prepared.started
            metrics.handled(topic: topic, nanoseconds: elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
            if logger.logLevel <= .debug {
                messageLogger(prepared.message).debug("message handled", metadata: [
                    "receivers.acted": .string(prepared.outcomes.filter(\.acted).map(\.receiver).joined(separator: ",")),
                    "published": .string(prepared.context.emissions.map { "\($0.emission.topic.key)#\($0.id)" }.joined(separator: ",")),
                ])
            }
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
        case .failed(let reason):
            fail(prepared.message, deliveries: prepared.deliveries, error: RedisError(code: .server, message: "Redis refused a write: \(reason)"))
            return true
        case .interrupted(let error):
            fail(prepared.message, deliveries: prepared.deliveries, error: error)
            return true
        }
    }

    /// Counts and logs a failed message, and records its error in `errors:<group>` (for its dead letter)
    /// unless the connection itself failed: then every message of the batch would wait on a reconnect.
    private func fail(_ message: Message, deliveries: Int, error: any Error) {
        metrics.message("failed", topic: message.topic)
        messageLogger(message).error("message failed; it stays pending and will be retried", metadata: ["error": "\(error)", "deliveries": "\(deliveries)"])
        if let redisError = error as? RedisError, [.connect, .io, .timeout, .closed].contains(redisError.code) { return }
        guard !stop.isRaised else { return }
        _ = try? connection.send(RedisCommand("HSET", errorsKey, "\(message.streamKey) \(message.entryID)", "\(error)"))
    }

    private func messageLogger(_ message: Message) -> Logger {
        var logger = logger
        logger[metadataKey: "signal.id"] = .string(message.id)
        logger[metadataKey: "trace.id"] = .string(message.trace)
        logger[metadataKey: "stream"] = .string(message.streamKey)
        if let goal = message["goal_id"] { logger[metadataKey: "goal.id"] = .string(goal) }
        return logger
    }
}

/// A message whose receivers have run, with the commit that finishes it.
struct PreparedCommit {
    let message: Message
    let deliveries: Int
    let started: ContinuousClock.Instant
    let outcomes: [TraceEntry.Outcome]
    /// What the receivers asked for.
    let context: ReceiverContext
    let plan: CommitPlan
    /// The keys the commit writes; a later message reading one of them waits for this commit.
    let writtenKeys: Set<String>
}
