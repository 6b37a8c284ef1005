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
    /// The partition this worker consumes; `nil` when streams are not partitioned.
    let partition: Partition?
    let errorsKey: String
    /// Reading, recovery, dead letters and trimming, as every consumer of a group does them.
    let core: StreamConsumerCore
    /// The topic of each stream read.
    let topicsByStream: [String: Topic]
    /// The group's receivers of each topic, in declaration order.
    private let receiversByTopic: [Topic: [Receiver]]
    private let stop: StopSignal
    /// Messages whose receivers have run, waiting to be committed together.
    private var waiting: [PreparedCommit] = []
    /// The keys the waiting commits write: a message about to read one sends the waiting commits first.
    private var waitingKeys: Set<String> = []
    /// Hashes loaded ahead for the batch in hand, as `HGETALL` lists their fields; a key is dropped once a
    /// waiting commit writes it.
    private var prefetched: [String: [(String, String)]] = [:]

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
        self.errorsKey = BusConfiguration.errorsKey(group: group.name, partition: partition)
        self.core = StreamConsumerCore(settings: StreamConsumerSettings(
            group: group, partition: partition, configuration: configuration, consumer: consumerName, cluster: connection.isCluster
        ))
        self.topicsByStream = Dictionary(uniqueKeysWithValues: group.topics.map { ($0.key(partition: partition), $0) })
        self.receiversByTopic = Dictionary(uniqueKeysWithValues: group.topics.map { ($0, group.receivers(of: $0)) })
    }

    /// Consumes until the stop signal is raised; the batch in hand is finished first. Then leaves the group.
    func run() {
        logger.info("consumer starting", metadata: ["streams": .string(core.settings.streams.joined(separator: ","))])
        while !stop.isRaised {
            do {
                if core.needsGroups { try core.groupsCreated(connection.send(core.createGroupCommands())) }
                if var pass = core.recoveryPass() { try recover(&pass) }
                handleBatch(try readBatch())
                core.turnSucceeded()
            } catch {
                switch core.turnFailed(error) {
                case .groupMissing:
                    logger.warning("consumer group missing (Redis lost its data?); creating it again", metadata: ["error": "\(error)"])
                case .retry(let delay):
                    logger.error("consumer loop failed; retrying", metadata: ["error": "\(error)", "retry.ms": "\(delay.milliseconds)"])
                    stop.wait(upTo: delay)
                }
            }
        }
        leave()
        logger.info("consumer stopped")
    }

    /// Sends one command and returns its reply, throwing an error reply.
    @discardableResult
    func execute(_ command: RedisCommand, timeout: Duration? = nil) throws(RedisError) -> RedisValue {
        try connection.send(command, timeout: timeout).checked()
    }

    /// Reads new messages from every stream of the group, sorted by event time. The reply is decoded in
    /// place, each entry straight into its ``Message``; malformed entries go to the dead letters.
    private func readBatch() throws -> [(Message, Int)] {
        var malformed: [DeliveredEntry] = []
        var messages = try connection.send(core.readCommand, timeout: core.readTimeout) { reply throws(RedisError) in
            var messages: [Message] = []
            try core.forEachStream(read: reply) { stream, entries in
                guard let topic = topicsByStream[stream] else { return }
                messages.reserveCapacity(messages.count + entries.count)
                for index in 0..<entries.count {
                    let entry = entries[index]
                    guard entry.count == 2, let id = entry[0].string else { continue }
                    if let message = Message(topic: topic, entryID: id, fields: entry[1], partition: partition) {
                        messages.append(message)
                    } else {
                        malformed.append(DeliveredEntry(stream: stream, id: id, fields: entry[1].fieldMap, deliveries: 1))
                    }
                }
            }
            return messages
        }
        for entry in malformed { try deadLetterMalformed(entry) }
        // Streams are read together but ordered apart; apply events in event-time order (a stable sort, and
        // none when the batch is in order already, as one stream's is).
        if !messages.indices.dropFirst().allSatisfy({ messages[$0 - 1].atMs <= messages[$0].atMs }) {
            messages = messages.enumerated().sorted { lhs, rhs in
                (lhs.element.atMs, lhs.offset) < (rhs.element.atMs, rhs.offset)
            }.map(\.element)
        }
        return messages.map { ($0, 1) }
    }

    /// Decodes a stream entry; a malformed one goes straight to the dead letters.
    func decode(_ entry: DeliveredEntry) throws -> Message? {
        guard let topic = topicsByStream[entry.stream] else { return nil }
        if let message = Message(topic: topic, entryID: entry.id, fields: entry.fields, partition: partition) { return message }
        try deadLetterMalformed(entry)
        return nil
    }

    /// Moves a malformed entry to the dead letters.
    private func deadLetterMalformed(_ entry: DeliveredEntry) throws {
        logger.error("malformed message moved to dead letters", metadata: ["stream": .string(entry.stream), "entry": .string(entry.id)])
        try deadLetter(
            try connection.send(core.deadLetterCommand(
                stream: entry.stream, entryID: entry.id, deliveries: entry.deliveries, error: Self.malformed
            )),
            entry: entry, error: Self.malformed
        )
    }

    static let malformed = "malformed envelope: id and at_ms are required"

    /// Handles a batch: the hashes its receivers will read are loaded in one round trip, each message's
    /// receivers run in turn, and the commits go in one script call, sent early when a message is about to
    /// read a key that a waiting commit writes, so every message still sees the effects of those before it.
    func handleBatch(_ batch: [(Message, Int)]) {
        guard !batch.isEmpty else { return }
        prefetch(batch.map(\.0))
        for (message, deliveries) in batch {
            do {
                let prepared = try prepare(message, deliveries: deliveries, inBatch: true)
                waiting.append(prepared)
                for (_, write) in prepared.context.writes { waitingKeys.insert(write.key) }
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
                guard prepared.plan != nil else {
                    try execute(RedisCommand("XACK", message.streamKey, group.name, message.entryID))
                    settleReturned(prepared)
                    return
                }
                if settle(prepared, result: commit([prepared], acknowledging: []).results[0]) { return }
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
        prefetch(keys: messages.flatMap { message in
            group.prefetchNamed(message) { [prefetched] key in
                prefetched[key].map { Dictionary($0) { _, last in last } }
            }
        })
    }

    /// Loads the hashes `keys` (each once) in one pipeline into ``prefetched``.
    private func prefetch(keys: [String]) {
        var seen: Set<String> = []
        let keys = keys.filter { prefetched[$0] == nil && seen.insert($0).inserted }
        guard !keys.isEmpty, let replies = try? connection.send(keys.map { RedisCommand("HGETALL", $0) }, timeout: nil, decoding: {
            $0.kind == .error ? nil : $0.fieldPairs
        }) else { return }
        for (key, fields) in zip(keys, replies) {
            if let fields { prefetched[key] = fields }
        }
    }

    /// A hash's fields for a receiver: from the batch's prefetch unless a waiting commit writes it (then
    /// the waiting commits are sent first and the hash read fresh).
    private func load(_ key: String, inBatch: Bool) throws -> [(String, String)] {
        if inBatch && waitingKeys.contains(key) {
            flush()
        } else if inBatch, let fields = prefetched[key] {
            return fields
        }
        return try connection.send(RedisCommand("HGETALL", key)) { reply throws(RedisError) in try reply.checked().fieldPairs }
    }

    /// Sends the waiting commits in one script call, with one `XACK` per stream for the messages whose
    /// receivers all returned, and settles each; a commit that met changed state is handled again on its own.
    private func flush() {
        var batch: [PreparedCommit] = []
        var acknowledged: [PreparedCommit] = []
        for prepared in waiting {
            if prepared.plan == nil { acknowledged.append(prepared) } else { batch.append(prepared) }
        }
        waiting.removeAll(keepingCapacity: true)
        for key in waitingKeys { prefetched[key] = nil }
        waitingKeys = []
        guard !batch.isEmpty || !acknowledged.isEmpty else { return }
        var acks: [String: [String]] = [:]
        for prepared in acknowledged { acks[prepared.message.streamKey, default: []].append(prepared.message.entryID) }
        let ackCommands = acks.sorted { $0.key < $1.key }.map { stream, entries in
            var command = RedisCommand("XACK", stream, group.name)
            for entry in entries { command.append(entry) }
            return command
        }
        let acksSent: Bool
        let results: [CommitScript.Result]
        (results, acksSent) = commit(batch, acknowledging: ackCommands)
        for prepared in acknowledged {
            if acksSent {
                settleReturned(prepared)
            } else {
                fail(prepared.message, deliveries: prepared.deliveries, error: RedisError(code: .io, message: "acknowledgement not sent"))
            }
        }
        for (prepared, result) in zip(batch, results) where !settle(prepared, result: result) {
            // Handled again on its own, the message may write keys the batch prefetched.
            prefetched = [:]
            handle(prepared.message, deliveries: prepared.deliveries)
        }
    }

    /// Runs the message's receivers in declaration order and builds its commit; a message whose receivers
    /// all returned, in a chain that is not traced, gets no commit (``PreparedCommit/plan`` `nil`): a batch
    /// `XACK` finishes it.
    private func prepare(_ message: Message, deliveries: Int, inBatch: Bool) throws -> PreparedCommit {
        let started = ContinuousClock.now
        let context = ReceiverContext(message: message, group: group.name) { [unowned self] key in
            try load(key, inBatch: inBatch)
        }
        // A replayed dead letter is for the group that dead-lettered it only.
        let receivers = message.replayGroup.map { $0 == group.name } ?? true ? receiversByTopic[message.topic] ?? [] : []
        var outcomes: [PreparedCommit.Outcome] = []
        outcomes.reserveCapacity(receivers.count)
        for receiver in receivers {
            context.receiver = receiver.name
            let writesBefore = context.writes.count
            let emissionsBefore = context.emissions.count
            let reason = try receiver.guardCheck(context)
            guard context.writes.count == writesBefore && context.emissions.count == emissionsBefore else {
                throw ReceiverError(receiver: receiver.name, message: "its guard asked for a write or an emission; guards only read (use onReturn)")
            }
            if let reason {
                try receiver.onReturn?(context, reason)
            } else {
                try receiver.effect(context)
            }
            outcomes.append(PreparedCommit.Outcome(
                receiver: receiver.name, acted: reason == nil, reason: reason ?? "",
                emissions: emissionsBefore..<context.emissions.count, writes: writesBefore..<context.writes.count
            ))
        }
        let traced = !receivers.isEmpty
            && (message.traced || group.traceFlagKey(message).map { context.peek($0, field: "trace") == "1" } == true)
        let returnedOnly = context.writes.isEmpty && context.emissions.isEmpty && !traced && deliveries == 1
        // Reads of one hash came from one snapshot: nothing to check when nothing is written.
        if returnedOnly && context.readHashCount <= 1 {
            return PreparedCommit(
                message: message, deliveries: deliveries, started: started, outcomes: outcomes, context: context, plan: nil
            )
        }
        let trace = traced ? (
            key: TraceKeys.chain(message.trace, partition: partition),
            field: TraceKeys.field(group: group.name, message: message.id),
            entry: TraceEntry(
                atMs: message.atMs, topic: message.topic, message: message.id, cause: message.cause, group: group.name,
                receivers: outcomes.map { $0.traced(in: context) }
            ).json
        ) : nil
        let plan = try CommitPlan.make(
            context, deliveries: deliveries, trace: trace,
            traceIndexKey: traced && message.cause.isEmpty ? group.traceIndexKey(message) : nil, traced: traced,
            clearError: deliveries > 1 ? (errorsKey, "\(message.streamKey) \(message.entryID)") : nil,
            configuration: configuration, cluster: connection.isCluster
        )
        return PreparedCommit(
            message: message, deliveries: deliveries, started: started, outcomes: outcomes, context: context, plan: plan
        )
    }

    /// Records a message whose receivers all returned, once its batch `XACK` is in.
    private func settleReturned(_ prepared: PreparedCommit) {
        for outcome in prepared.outcomes { metrics.outcome(receiver: outcome.receiver, acted: outcome.acted, reason: outcome.reason) }
        metrics.handled(topic: prepared.message.topic, nanoseconds: Self.nanoseconds(since: prepared.started))
    }

    private static func nanoseconds(since started: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - started
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }

    /// Records a commit's outcome; returns `false` when it met changed state and must be handled again.
    private func settle(_ prepared: PreparedCommit, result: CommitScript.Result) -> Bool {
        let topic = prepared.message.topic
        switch result {
        case .committed:
            for outcome in prepared.outcomes { metrics.outcome(receiver: outcome.receiver, acted: outcome.acted, reason: outcome.reason) }
            metrics.handled(topic: topic, nanoseconds: Self.nanoseconds(since: prepared.started))
            if logger.logLevel <= .debug {
                messageLogger(prepared.message).debug("message handled", metadata: [
                    "receivers.acted": .string(prepared.outcomes.filter(\.acted).map(\.receiver).joined(separator: ",")),
                    "published": .string(prepared.context.emissions.map { "\($0.emission.topic.key)#\($0.id)" }.joined(separator: ",")),
                ])
            }
            return true
        case .acknowledged, .duplicate:
            metrics.message("acknowledged", topic: topic)
            messageLogger(prepared.message).info("entry no longer pending for the group (committed by another replica, or dead-lettered): nothing applied")
            return true
        case .conflict(let key, let field):
            metrics.message("conflict", topic: topic)
            messageLogger(prepared.message).debug("state changed while handling; handling again", metadata: [
                "key": .string(key), "field": .string(field),
            ])
            return false
        case .failed(let reason):
            let error = "Redis refused a write: \(reason)"
            if connection.isCluster, case .split = prepared.plan {
                // A part outside the stream's slot gave its marker back: the entry stays pending and is retried.
                fail(prepared.message, deliveries: prepared.deliveries, error: RedisError(code: .server, message: error), outcomes: prepared.traceOutcomes)
            } else {
                metrics.message("dead_lettered", topic: topic)
                messageLogger(prepared.message).error("a write was refused; the message moved to the dead letters", metadata: [
                    "error": .string(error), "dead": .string(DeadLetters.key(for: prepared.message.streamKey, cluster: connection.isCluster)),
                ])
                recordFailure(prepared.message, deliveries: prepared.deliveries, error: error, outcomes: prepared.traceOutcomes)
            }
            return true
        case .interrupted(let error):
            fail(prepared.message, deliveries: prepared.deliveries, error: error, outcomes: prepared.traceOutcomes)
            return true
        }
    }

    /// Counts and logs a failed message, and records its error in `errors:<group>` (for its dead letter) and
    /// in its chain's trace, unless the connection itself failed: then every message of the batch would wait
    /// on a reconnect.
    private func fail(_ message: Message, deliveries: Int, error: any Error, outcomes: [TraceEntry.Outcome] = []) {
        metrics.message("failed", topic: message.topic)
        messageLogger(message).error("message failed; it stays pending and will be retried", metadata: ["error": "\(error)", "deliveries": "\(deliveries)"])
        if let redisError = error as? RedisError, [.connect, .io, .timeout, .closed].contains(redisError.code) { return }
        guard !stop.isRaised else { return }
        _ = try? connection.send(RedisCommand("HSET", errorsKey, "\(message.streamKey) \(message.entryID)", "\(error)"))
        recordFailure(message, deliveries: deliveries, error: "\(error)", outcomes: outcomes)
    }

    /// Writes a failed delivery's trace entry, with its error, whether or not its chain is traced; a root's
    /// chain is indexed under its goal, so `goalctl trace` finds it.
    func recordFailure(_ message: Message, deliveries: Int, error: String, outcomes: [TraceEntry.Outcome] = []) {
        let key = TraceKeys.chain(message.trace, partition: partition)
        let entry = TraceEntry(
            atMs: message.atMs, topic: message.topic, message: message.id, cause: message.cause, group: group.name,
            receivers: outcomes, error: "\(error) (delivery \(deliveries))"
        )
        var commands = [
            RedisCommand("HSET", key, TraceKeys.field(group: group.name, message: message.id), entry.json),
            RedisCommand("EXPIRE", key, configuration.traceSeconds),
        ]
        if message.cause.isEmpty, let index = group.traceIndexKey(message) {
            commands += [RedisCommand("ZADD", index, "NX", Int(message.atMs), message.trace), RedisCommand("EXPIRE", index, configuration.traceSeconds)]
        }
        _ = try? connection.send(commands)
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

/// A message whose receivers have run, with the commit that finishes it. A class: it is kept, filtered and
/// handed on per message, where a struct this size would be copied each time.
final class PreparedCommit {
    /// One receiver's outcome; what it wrote and published is in the context, by position.
    struct Outcome {
        let receiver: String
        let acted: Bool
        let reason: String
        /// Its emissions among the context's.
        let emissions: Range<Int>
        /// Its writes among the context's.
        let writes: Range<Int>

        /// The outcome as a trace records it: only traced and failed deliveries need the text.
        func traced(in context: ReceiverContext) -> TraceEntry.Outcome {
            TraceEntry.Outcome(
                receiver: receiver, acted: acted, reason: reason,
                published: context.emissions[emissions].map {
                    TraceRecord.Published(signal: $0.emission.topic.name, kind: $0.emission.topic.kind.rawValue, id: $0.id)
                },
                writes: context.writes[writes].map(\.write.summary)
            )
        }
    }

    let message: Message
    let deliveries: Int
    let started: ContinuousClock.Instant
    let outcomes: [Outcome]
    /// What the receivers asked for.
    let context: ReceiverContext
    /// The commit; `nil` when every receiver returned in an untraced chain, and an `XACK` is all it takes.
    /// The keys it writes are those of the context's writes: a later message reading one waits for it.
    let plan: CommitPlan?

    init(
        message: Message, deliveries: Int, started: ContinuousClock.Instant, outcomes: [Outcome], context: ReceiverContext,
        plan: CommitPlan?
    ) {
        self.message = message
        self.deliveries = deliveries
        self.started = started
        self.outcomes = outcomes
        self.context = context
        self.plan = plan
    }

    /// The receivers' outcomes as a trace records them.
    var traceOutcomes: [TraceEntry.Outcome] { outcomes.map { $0.traced(in: context) } }
}
