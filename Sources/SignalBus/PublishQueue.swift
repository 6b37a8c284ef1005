import Dispatch
import Metrics
import Redis
import ServiceLifecycle
import Synchronization

/// Publishes for many concurrent callers through one connection, storing together what arrives while a
/// store is in flight (a group commit).
///
/// A caller's messages are queued under a lock and the caller waits, with no hop through an actor. One
/// thread of the queue's own takes everything queued, builds one publish script call per partition for all
/// of it (as ``Publisher`` does for one caller, at most ``maximumMessages`` messages per call, the rest in
/// the next call), sends the calls in one pipeline, and resumes each caller with its own messages' flags
/// once the script that stored them has answered. So a burst of webhooks costs one round trip, not one
/// each, and a retry racing its original in the same round trip is still recognised: the script's dedup
/// key stores the first and reports the second as a retry.
///
/// The queue is a `Service`: its thread runs while ``run()`` runs. A connection failure fails every caller
/// of that round trip, and the next round trip connects again. On graceful shutdown (or cancellation) the
/// round trip in flight finishes, and callers still queued, or arriving later, get ``RedisError/Code/stopped``.
public final class PublishQueue: Service, Sendable {
    /// The most messages one script call carries unless told otherwise.
    public static let defaultMaximumMessages = 256

    /// The most messages one script call carries; one caller's share of a partition is never split, so a
    /// caller with more goes alone in a call of its own.
    public let maximumMessages: Int

    private let target: Target
    private let configuration: BusConfiguration
    private let dedupSeconds: Int
    private let threadName: String
    private let batchMessages: Recorder?
    private let state = Mutex(State())
    /// Wakes the thread when it sleeps on an empty queue (signalled only when ``State/idle``).
    private let wake = DispatchSemaphore(value: 0)
    private let sentRoundTrips = Atomic(0)
    private let sentScriptCalls = Atomic(0)
    private let sentMessages = Atomic(0)

    /// Creates a queue; nothing is sent until ``run()`` starts its thread (callers queued before wait for it).
    /// - Parameters:
    ///   - redis: where to publish: one server, through one connection; or a cluster, through one
    ///     connection per master.
    ///   - dedupSeconds: how long a message's dedup key marks it as published.
    ///   - maximumMessages: the most messages in one script call.
    ///   - name: the name of the queue's thread.
    ///   - batchMessages: records the number of messages of each script call.
    /// - Throws: ``RedisError`` when a cluster client cannot be made of the seeds.
    public init(
        redis: RedisEndpoint, configuration: BusConfiguration = BusConfiguration(), dedupSeconds: Int = 900,
        maximumMessages: Int = PublishQueue.defaultMaximumMessages, name: String = "publish-queue", batchMessages: Recorder? = nil
    ) throws(RedisError) {
        precondition(maximumMessages > 0, "a script call needs room for at least one message")
        switch redis {
        case .server(let server): target = .server(server)
        case .cluster(let seeds): target = .cluster(try RedisClusterClient(seeds: seeds, name: name))
        }
        self.configuration = configuration
        self.dedupSeconds = dedupSeconds
        self.maximumMessages = maximumMessages
        self.threadName = name
        self.batchMessages = batchMessages
    }

    /// Publishes the messages together with those of other callers waiting at the same time, atomically per
    /// partition; returns once the script calls that stored them have answered.
    /// - Returns: for each message, `true` when it was stored, `false` when its dedup key showed it was
    ///   published before (a retry), also by another caller of the same round trip.
    /// - Throws: ``RedisError``: a connection failure or error reply of the round trip that carried them
    ///   (whether they were stored is then unknown), or ``RedisError/Code/stopped`` once the queue stopped.
    public func publish(_ messages: [OutgoingMessage]) async throws(RedisError) -> [Bool] {
        guard !messages.isEmpty else { return [] }
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[Bool], RedisError>, Never>) in
            let wakeThread = state.withLock { state -> Bool? in
                guard !state.stopped else { return nil }
                state.waiting.append(Waiter(messages: messages, continuation: continuation))
                defer { state.idle = false }
                return state.idle
            }
            switch wakeThread {
            case nil: continuation.resume(returning: .failure(Self.stoppedError))
            case true?: wake.signal()
            case false?: break
            }
        }
        return try outcome.get()
    }

    /// Runs the queue's thread until graceful shutdown or cancellation, then fails the callers still queued.
    public func run() async {
        let target = target
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await DedicatedThread(name: threadName).run {
                    let link: any RedisLink = switch target {
                    case .server(let server): RedisConnection(configuration: server)
                    case .cluster(let client): ClusterLink(client: client)
                    }
                    drain(through: link)
                }
            } onCancel: {
                self.stop()
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// What the queue has sent so far.
    public var statistics: Statistics {
        Statistics(
            roundTrips: sentRoundTrips.load(ordering: .relaxed), scriptCalls: sentScriptCalls.load(ordering: .relaxed),
            messages: sentMessages.load(ordering: .relaxed), waiting: state.withLock { $0.waiting.count }
        )
    }

    /// Whether the queue has stopped taking callers.
    var isStopped: Bool { state.withLock { $0.stopped } }

    /// Counts of what a ``PublishQueue`` sent.
    public struct Statistics: Sendable, Hashable {
        /// Pipelines sent, answered or not.
        public var roundTrips: Int
        /// Publish script calls sent.
        public var scriptCalls: Int
        /// Messages sent in those calls.
        public var messages: Int
        /// Callers queued and not yet taken by the queue's thread.
        public var waiting: Int
    }

    // MARK: - The queue's thread

    /// Takes what is queued and stores it, round trip after round trip, until stopped.
    private func drain(through link: any RedisLink) {
        var taken: [Waiter] = []
        while true {
            let stopping = state.withLock { state -> Bool? in
                if state.waiting.isEmpty && !state.stopped {
                    state.idle = true
                    return nil
                }
                swap(&taken, &state.waiting)
                return state.stopped
            }
            switch stopping {
            case nil:
                wake.wait()
            case true?:
                for waiter in taken { waiter.continuation.resume(returning: .failure(Self.stoppedError)) }
                return
            case false?:
                store(taken, through: link)
            }
            taken.removeAll(keepingCapacity: true)
        }
    }

    /// Sends the waiters' messages in one pipeline and resumes each waiter with its flags or an error.
    private func store(_ waiters: [Waiter], through link: any RedisLink) {
        let batch = PublishBatch(waiters.map(\.messages), configuration: configuration, limit: maximumMessages)
        let commands = batch.calls.map { call in
            Publisher.command(
                for: call.messages, partition: call.partition, traceSample: configuration.traceSample, dedupSeconds: dedupSeconds,
                readsFlags: !link.isCluster
            )
        }
        sentRoundTrips.add(1, ordering: .relaxed)
        sentScriptCalls.add(commands.count, ordering: .relaxed)
        sentMessages.add(batch.calls.reduce(0) { $0 + $1.messages.count }, ordering: .relaxed)
        if let batchMessages {
            for call in batch.calls { batchMessages.record(call.messages.count) }
        }
        let replies: [RedisValue]
        do {
            replies = try link.send(commands, timeout: nil)
        } catch {
            for waiter in waiters { waiter.continuation.resume(returning: .failure(error)) }
            return
        }
        var flags = waiters.map { [Bool](repeating: false, count: $0.messages.count) }
        var failures: [Int: RedisError] = [:]
        for (call, reply) in zip(batch.calls, replies) {
            do {
                for (slot, stored) in zip(call.slots, try Self.flags(of: reply, count: call.slots.count)) {
                    flags[slot.request][slot.message] = stored
                }
            } catch {
                for slot in call.slots { failures[slot.request] = error }
            }
        }
        for (index, waiter) in waiters.enumerated() {
            waiter.continuation.resume(returning: failures[index].map { .failure($0) } ?? .success(flags[index]))
        }
    }

    /// The flags of a publish script's reply: one per message, `true` when stored.
    private static func flags(of reply: RedisValue, count: Int) throws(RedisError) -> [Bool] {
        guard let flags = try reply.checked().array?.compactMap(\.int), flags.count == count else {
            throw RedisError(code: .protocolError, message: "unexpected publish reply \(reply)")
        }
        return flags.map { $0 == 1 }
    }

    /// Stops taking callers and wakes the thread, which finishes its round trip, fails the callers still
    /// queued and returns.
    private func stop() {
        let wakeThread = state.withLock { state in
            state.stopped = true
            defer { state.idle = false }
            return state.idle
        }
        if wakeThread { wake.signal() }
    }

    private static let stoppedError = RedisError(code: .stopped, message: "the publish queue has stopped (shutting down): nothing stored")

    /// Where the queue sends its script calls, kept until its thread makes its link.
    private enum Target: Sendable {
        case server(RedisConfiguration)
        case cluster(RedisClusterClient)
    }

    /// A caller waiting for its messages to be stored.
    private struct Waiter: Sendable {
        let messages: [OutgoingMessage]
        let continuation: CheckedContinuation<Result<[Bool], RedisError>, Never>
    }

    /// What callers and the thread share, always under the lock.
    private struct State: ~Copyable {
        var waiting: [Waiter] = []
        /// Whether the thread sleeps on ``PublishQueue/wake`` (or is about to): whoever clears it signals once.
        var idle = false
        var stopped = false
    }
}
