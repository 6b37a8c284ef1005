import Redis

/// One recovery pass of a stream consumer, as a sans-I/O state machine: refresh this replica's heartbeat;
/// per stream, take over the pending entries of replicas whose heartbeat is gone and remove them from the
/// group; per stream, claim entries pending longer than the claim idle time; dead-letter the entries of
/// either kind delivered ``StreamConsumerSettings/maxDeliveries`` times; measure the group's backlog; trim.
///
/// A driver asks for the ``next()`` step until there is none, sending what it is told to send and handling
/// what it is given:
///
/// ```swift
/// while let step = pass.next() {
///     switch step {
///     case .send(let commands): try pass.receive(send(commands))
///     case .takenOver(_, _, let entries), .claimed(let entries): handle(entries)
///     case .deadLettered(let letter): record(letter)
///     case .backlog(let stream, let lag, let pending): report(stream, lag, pending)
///     }
/// }
/// ```
///
/// A consumer idle for less than the heartbeat's life is never taken over, so a replica that has just
/// started is not mistaken for a stopped one. When the pass throws, the next one starts over.
public struct RecoveryPass {
    private indirect enum Stage {
        case beat
        case listConsumers(stream: Int)
        case checkHeartbeats(stream: Int, consumers: [String])
        case takeOver(stream: Int, stopped: [String])
        case listPending(stream: Int)
        case claim(stream: Int, deliveries: [(id: String, count: Int)])
        case deadLetter([Order], then: Stage)
        case measure(stream: Int)
        case trim
        case finished
    }

    /// An entry to move to the dead letters.
    private struct Order {
        let stream: String
        let entryID: String
        let deliveries: Int
        var error: String { "failed \(deliveries) times" }
    }

    private let core: StreamConsumerCore
    private var stage = Stage.beat
    private var ready: [RecoveryStep] = []
    private var awaitingReplies = false

    init(core: StreamConsumerCore) {
        self.core = core
    }

    private var settings: StreamConsumerSettings { core.settings }

    /// The next step; `nil` once the pass is over.
    /// - Precondition: the replies of the last ``RecoveryStep/send(_:)`` were given to ``receive(_:)``.
    public mutating func next() -> RecoveryStep? {
        if !ready.isEmpty { return ready.removeFirst() }
        precondition(!awaitingReplies, "a recovery pass was asked for its next step before the replies of the last")
        guard let commands = commands(for: stage) else {
            core.recoveryFinished()
            return nil
        }
        awaitingReplies = true
        return .send(commands)
    }

    /// Reads the replies of the last ``RecoveryStep/send(_:)``, in order.
    /// - Throws: ``RedisError`` for an error reply where the pass cannot go on (`NOGROUP` among them).
    public mutating func receive(_ replies: [RedisValue]) throws(RedisError) {
        awaitingReplies = false
        stage = try advance(from: stage, replies: replies)
    }

    private func commands(for stage: Stage) -> [RedisCommand]? {
        let (group, consumer) = (settings.group, settings.consumer)
        switch stage {
        case .beat:
            return [core.heartbeat.beat]
        case .listConsumers(let stream):
            return [RedisCommand("XINFO", "CONSUMERS", settings.streams[stream], group)]
        case .checkHeartbeats(_, let consumers):
            return consumers.map { RedisCommand("EXISTS", ConsumerHeartbeat.key(group: group, consumer: $0)) }
        case .takeOver(let stream, let stopped):
            return [ConsumerGroupScripts.takeOver.evalSHA(keys: [settings.streams[stream]], arguments: [group, stopped[0], consumer])]
        case .listPending(let stream):
            return [RedisCommand(
                "XPENDING", settings.streams[stream], group, "IDLE", Int(settings.claimIdle.milliseconds), "-", "+", settings.batchSize
            )]
        case .claim(let stream, let deliveries):
            var command = RedisCommand("XCLAIM", settings.streams[stream], group, consumer, Int(settings.claimIdle.milliseconds))
            for entry in deliveries { command.append(entry.id) }
            return [command]
        case .deadLetter(let orders, _):
            return orders.map {
                core.deadLetterCommand(stream: $0.stream, entryID: $0.entryID, deliveries: $0.deliveries, error: $0.error)
            }
        case .measure(let stream):
            return [RedisCommand("XINFO", "GROUPS", settings.streams[stream])]
        case .trim:
            return core.trimmer.commands()
        case .finished:
            return nil
        }
    }

    private mutating func advance(from stage: Stage, replies: [RedisValue]) throws(RedisError) -> Stage {
        switch stage {
        case .beat:
            _ = try replies[0].checked()
            return settings.streams.isEmpty ? trimOrFinish : .listConsumers(stream: 0)

        case .listConsumers(let stream):
            let heartbeat = Int(settings.heartbeat.milliseconds)
            let consumers = try replies[0].checked().array ?? []
            let silent = consumers.compactMap { info -> String? in
                let fields = info.pairs
                guard let name = fields["name"]?.string, name != settings.consumer, (fields["idle"]?.int ?? 0) > heartbeat else { return nil }
                return name
            }
            return silent.isEmpty ? afterTakeOvers(stream) : .checkHeartbeats(stream: stream, consumers: silent)

        case .checkHeartbeats(let stream, let consumers):
            let stopped = zip(consumers, replies).filter { $0.1.int == 0 }.map(\.0)
            return stopped.isEmpty ? afterTakeOvers(stream) : .takeOver(stream: stream, stopped: stopped)

        case .takeOver(let stream, let stopped):
            let key = settings.streams[stream]
            let taken = try replies[0].checked().array ?? []
            var entries: [DeliveredEntry] = []
            var orders: [Order] = []
            for index in stride(from: 0, to: taken.count - 1, by: 2) {
                let count = taken[index + 1].int ?? 1
                if count >= settings.maxDeliveries, let id = taken[index].array?.first?.string {
                    orders.append(Order(stream: key, entryID: id, deliveries: count))
                } else if let entry = DeliveredEntry(taken[index], stream: key, deliveries: count + 1) {
                    entries.append(entry)
                }
            }
            ready.append(.takenOver(stream: key, consumer: stopped[0], entries: entries))
            let next = stopped.count > 1 ? Stage.takeOver(stream: stream, stopped: Array(stopped.dropFirst())) : afterTakeOvers(stream)
            return orders.isEmpty ? next : .deadLetter(orders, then: next)

        case .listPending(let stream):
            let key = settings.streams[stream]
            var orders: [Order] = []
            var claims: [(id: String, count: Int)] = []
            for entry in try replies[0].checked().array ?? [] {
                guard let fields = entry.array, fields.count == 4, let id = fields[0].string, let count = fields[3].int else { continue }
                if count >= settings.maxDeliveries {
                    orders.append(Order(stream: key, entryID: id, deliveries: count))
                } else {
                    claims.append((id, count))
                }
            }
            let next = claims.isEmpty ? Stage.measure(stream: stream) : .claim(stream: stream, deliveries: claims)
            return orders.isEmpty ? next : .deadLetter(orders, then: next)

        case .claim(let stream, let deliveries):
            let key = settings.streams[stream]
            let counts = Dictionary(deliveries.map { ($0.id, $0.count + 1) }, uniquingKeysWith: max)
            let claimed = (try replies[0].checked().array ?? []).compactMap { reply -> DeliveredEntry? in
                guard let id = reply.array?.first?.string else { return nil }
                return DeliveredEntry(reply, stream: key, deliveries: counts[id] ?? 2)
            }
            if !claimed.isEmpty { ready.append(.claimed(claimed)) }
            return .measure(stream: stream)

        case .deadLetter(let orders, let next):
            for (order, reply) in zip(orders, replies) {
                ready.append(.deadLettered(try core.deadLettered(
                    reply, stream: order.stream, entryID: order.entryID, deliveries: order.deliveries, error: order.error
                )))
            }
            return next

        case .measure(let stream):
            let key = settings.streams[stream]
            for info in try replies[0].checked().array ?? [] {
                let fields = info.pairs
                guard fields["name"]?.string == settings.group else { continue }
                ready.append(.backlog(stream: key, lag: fields["lag"]?.int ?? 0, pending: fields["pending"]?.int ?? 0))
            }
            return stream + 1 < settings.streams.count ? .listPending(stream: stream + 1) : trimOrFinish

        case .trim:
            try core.trimmer.record(replies)
            return .finished

        case .finished:
            return .finished
        }
    }

    /// After the take-overs on `stream`: those on the next stream, or the claims on the first.
    private func afterTakeOvers(_ stream: Int) -> Stage {
        stream + 1 < settings.streams.count ? .listConsumers(stream: stream + 1) : .listPending(stream: 0)
    }

    private var trimOrFinish: Stage {
        core.trimmer.streams.isEmpty ? .finished : .trim
    }
}
