import Redis

/// Publishes messages from outside a receiver: each is one `XADD` to its stream and one `PUBLISH` of the
/// same message as JSON on the channel of that name. A call's messages go in one atomic script, or, when
/// streams are partitioned, one atomic script per partition, all in one pipeline.
///
/// Each message starts a chain, and this is where the chain's tracing is decided: a root in the sample
/// (``BusConfiguration/traceSample``, from its trace id) or whose ``OutgoingMessage/traceFlagKey`` hash has
/// `trace` = `1` carries the envelope field `traced` = `1`.
public struct Publisher: Sendable {
    private let redis: any RedisCommandRunner
    private let configuration: BusConfiguration
    /// How long a dedup key is kept, in seconds.
    private let dedupSeconds: Int

    /// Creates a publisher writing through `redis`.
    /// - Parameter dedupSeconds: how long a message's dedup key marks it as published.
    public init(redis: any RedisCommandRunner, configuration: BusConfiguration = BusConfiguration(), dedupSeconds: Int = 900) {
        self.redis = redis
        self.configuration = configuration
        self.dedupSeconds = dedupSeconds
    }

    /// Publishes the messages, atomically per partition.
    /// - Returns: for each message, `true` when it was stored, `false` when its dedup key showed it was
    ///   published before (a retry).
    public func publish(_ messages: [OutgoingMessage]) async throws(RedisError) -> [Bool] {
        guard !messages.isEmpty else { return [] }
        var order: [Partition?] = []
        var shares: [Partition?: [Int]] = [:]
        for (index, message) in messages.enumerated() {
            let partition = configuration.partition(of: message.routingKey ?? message.id)
            if shares[partition] == nil { order.append(partition) }
            shares[partition, default: []].append(index)
        }
        let commands = order.map { partition in
            Self.command(
                for: shares[partition]!.map { messages[$0] }, partition: partition, traceSample: configuration.traceSample,
                dedupSeconds: dedupSeconds, readsFlags: !redis.isCluster
            )
        }
        let replies = try await redis.pipeline(commands)
        var stored = [Bool](repeating: false, count: messages.count)
        for (partition, reply) in zip(order, replies) {
            let indices = shares[partition]!
            guard let flags = try reply.checked().array?.compactMap(\.int), flags.count == indices.count else {
                throw RedisError(code: .protocolError, message: "unexpected publish reply \(reply)")
            }
            for (index, flag) in zip(indices, flags) { stored[index] = flag == 1 }
        }
        return stored
    }

    /// The script call publishing `messages` in `partition`.
    /// - Parameter readsFlags: whether the script reads each message's trace flag hash (one server: it may
    ///   touch any key; a cluster's script only its partition's slot).
    static func command(
        for messages: [OutgoingMessage], partition: Partition?, traceSample: Double, dedupSeconds: Int, readsFlags: Bool
    ) -> RedisCommand {
        var keys = KeyTable()
        var arguments = RedisArguments(reservingBytes: 512 * messages.count)
        arguments.append(dedupSeconds)
        arguments.append(messages.count)
        for message in messages {
            if let dedupKey = message.dedupKey {
                // A partition's dedup keys carry its tag, so the script's keys share one cluster slot.
                let key = partition.map { "\(dedupKey):{\($0.tag)}" } ?? dedupKey
                arguments.append("1")
                arguments.append(keys.index(of: key))
            } else {
                arguments.append("0")
            }
            let sampled = TraceKeys.sampled(message.trace, ratio: traceSample)
            if !sampled, readsFlags, let flag = message.traceFlagKey {
                // Passed as an argument, not in KEYS: the script only reads it, so a publisher needs no write
                // permission on it (Redis's ACL asks read and write of every declared key).
                arguments.append("1")
                arguments.append(flag)
            } else {
                arguments.append("0")
            }
            arguments.append(keys.index(of: message.topic.key(partition: partition)))
            arguments.append(message.topic.key)
            BusLua.appendMessage(sampled ? message.tracedFields : message.fields, to: &arguments)
        }
        return script.evalSHA(keys: keys.keys, arguments: arguments)
    }

    static let script = BusLua.script("prelude", "publish")
}
