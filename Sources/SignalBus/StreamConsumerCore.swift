import Redis

/// What every consumer of a Redis consumer group does, whoever drives it: the receiver groups' blocking
/// ``GroupConsumer`` on its own thread, and the notifier's asynchronous loop.
///
/// Sans-I/O, as ``StreamTrimmer`` is: it gives the commands to send and reads their replies, so a driver
/// only sends (`RedisLink.send` on a consumer's thread, `RedisCommandRunner.pipeline` from a task) and
/// handles the entries it is given. A driver's loop:
///
/// ```swift
/// while running {
///     do {
///         if core.needsGroups { try core.groupsCreated(send(core.createGroupCommands())) }
///         if var pass = core.recoveryPass() { drive(&pass) }   // see RecoveryPass
///         handle(try core.entries(read: send(core.readCommand, timeout: core.readTimeout)))
///         core.turnSucceeded()
///     } catch {
///         if case .retry(let delay) = core.turnFailed(error) { wait(delay) }
///     }
/// }
/// send(core.leaveCommands())
/// ```
///
/// One owner at a time: the consumer's thread, or the task that runs the notifier.
public final class StreamConsumerCore {
    /// What is consumed, as whom, and how.
    public let settings: StreamConsumerSettings
    /// This replica's heartbeat.
    public let heartbeat: ConsumerHeartbeat
    let trimmer: StreamTrimmer
    private var groupsReady = false
    private var failures = 0
    private var lastRecovery: ContinuousClock.Instant?

    /// A core for `settings`; it sends nothing itself.
    public init(settings: StreamConsumerSettings) {
        self.settings = settings
        self.heartbeat = ConsumerHeartbeat(group: settings.group, consumer: settings.consumer, life: settings.heartbeat)
        self.trimmer = StreamTrimmer(streams: settings.trimmed, keep: settings.streamKeep)
    }

    // MARK: The group

    /// Whether the group must be created (at start, and after it went missing) before anything else.
    public var needsGroups: Bool { !groupsReady }

    /// Creates the group on every stream; idempotent, and `MKSTREAM` creates a missing stream.
    public func createGroupCommands() -> [RedisCommand] {
        settings.streams.map { RedisCommand("XGROUP", "CREATE", $0, settings.group, "0", "MKSTREAM") }
    }

    /// Reads the replies of ``createGroupCommands()``: a group that already exists (`BUSYGROUP`) is fine.
    /// - Throws: ``RedisError`` for any other error reply.
    public func groupsCreated(_ replies: [RedisValue]) throws(RedisError) {
        for reply in replies {
            if let message = reply.errorMessage, !message.hasPrefix("BUSYGROUP") {
                throw RedisError(code: .server, message: message)
            }
        }
        groupsReady = true
    }

    // MARK: Reading

    /// Reads new entries from every stream, blocking up to ``StreamConsumerSettings/block``.
    public var readCommand: RedisCommand {
        var command = RedisCommand(
            "XREADGROUP", "GROUP", settings.group, settings.consumer, "COUNT", settings.batchSize,
            "BLOCK", Int(settings.block.milliseconds), "STREAMS"
        )
        for stream in settings.streams { command.append(stream) }
        for _ in settings.streams { command.append(">") }
        return command
    }

    /// The timeout to send ``readCommand`` with: its block time and a margin.
    public var readTimeout: Duration { settings.block + .seconds(5) }

    /// The entries of ``readCommand``'s reply, stream by stream, each delivered for the first time.
    /// - Throws: ``RedisError`` for an error reply (`NOGROUP` when the group went missing).
    public func entries(read reply: RedisValue) throws(RedisError) -> [DeliveredEntry] {
        var entries: [DeliveredEntry] = []
        for stream in try reply.checked().array ?? [] {
            guard let parts = stream.array, parts.count == 2, let key = parts[0].string else { continue }
            entries += (parts[1].array ?? []).compactMap { DeliveredEntry($0, stream: key, deliveries: 1) }
        }
        return entries
    }

    /// Walks ``readCommand``'s reply in place, stream by stream: `body` gets each stream's key and its
    /// entries, an array of `[id, [field, value, …]]`, each delivered for the first time.
    /// - Throws: ``RedisError`` for an error reply (`NOGROUP` when the group went missing).
    public func forEachStream(
        read reply: RedisReplyView, _ body: (_ stream: String, _ entries: RedisReplyView) throws(RedisError) -> Void
    ) throws(RedisError) {
        let reply = try reply.checked()
        for index in 0..<reply.count {
            let stream = reply[index]
            guard stream.count == 2, let key = stream[0].string else { continue }
            try body(key, stream[1])
        }
    }

    // MARK: Recovery

    /// The recovery pass, when ``StreamConsumerSettings/recoveryInterval`` has passed since the last one
    /// finished (or none has); `nil` otherwise.
    public func recoveryPass(at now: ContinuousClock.Instant = .now) -> RecoveryPass? {
        if let lastRecovery, now - lastRecovery < settings.recoveryInterval { return nil }
        return RecoveryPass(core: self)
    }

    /// A pass went through to its end.
    func recoveryFinished() {
        lastRecovery = .now
    }

    // MARK: The loop

    /// A turn of the loop went through: the next failure waits the shortest time again.
    public func turnSucceeded() {
        failures = 0
    }

    /// A turn of the loop failed with `error`: what to do before the next.
    ///
    /// A missing group (`NOGROUP`) is created again at once; any other failure waits 100 ms, doubling with
    /// every failure in a row, at most 2 s.
    public func turnFailed(_ error: any Error) -> ConsumerLoopFailure {
        if let error = error as? RedisError, error.message.hasPrefix("NOGROUP") {
            groupsReady = false
            return .groupMissing
        }
        failures += 1
        return .retry(after: .milliseconds(min(2000, 50 << min(failures, 6))))
    }

    // MARK: Stopping

    /// On a clean stop: removes this replica from the group on every stream where it holds no pending entry
    /// (those it holds stay for a live replica to take over), and ends its heartbeat. Send them once the
    /// heartbeat is no longer refreshed; error replies may be ignored.
    public func leaveCommands() -> [RedisCommand] {
        settings.streams.map {
            ConsumerGroupScripts.leave.evalSHA(keys: [$0], arguments: [settings.group, settings.consumer])
        } + [heartbeat.end]
    }

    // MARK: Dead letters

    /// Moves the pending entry `entryID` of `stream` to `dead:<stream>` with its fields, `deliveries` and its
    /// last recorded error (else `error`), and acknowledges it for the group, in one atomic script.
    public func deadLetterCommand(stream: String, entryID: String, deliveries: Int, error: String) -> RedisCommand {
        DeadLetters.moveCommand(
            stream: stream, group: settings.group, entryID: entryID, deliveries: deliveries, error: error,
            errorsKey: settings.errorsKey, cluster: settings.cluster
        )
    }

    /// Reads the reply of ``deadLetterCommand(stream:entryID:deliveries:error:)``.
    /// - Throws: ``RedisError`` for an error reply.
    public func deadLettered(_ reply: RedisValue, stream: String, entryID: String, deliveries: Int, error: String) throws(RedisError) -> DeadLettered {
        let parts = try reply.checked().array ?? []
        return DeadLettered(
            stream: stream, entryID: entryID, deliveries: deliveries,
            error: parts.first?.string ?? error,
            fields: parts.count == 2 ? parts[1].fieldMap : [:]
        )
    }

    /// Where `stream`'s dead letters go.
    public func deadLetterKey(for stream: String) -> String {
        DeadLetters.key(for: stream, cluster: settings.cluster)
    }
}
