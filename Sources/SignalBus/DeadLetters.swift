import Redis

/// Operator access to `dead:<stream>`.
public struct DeadLetters: Sendable {
    private let redis: any RedisCommandRunner

    /// Creates the accessor.
    public init(redis: any RedisCommandRunner) {
        self.redis = redis
    }

    /// Moves dead letters back onto their stream with their original envelope and `replay.group` naming the
    /// group that dead-lettered each, removing them from `dead:<stream>` in the same step (so a replay is never
    /// delivered twice): that group handles the message again, and every other group acknowledges it without
    /// running a receiver.
    /// - Parameters:
    ///   - stream: the stream key (`signal:goal.ended`, a partition's `signal:goal.ended:{p1-1}`, `outbox:pusher`);
    ///     its dead letters are in `dead:<stream>`.
    ///   - entryID: one dead-letter entry, or all when `nil`.
    /// - Returns: how many were replayed.
    public func replay(stream: String, entryID: String?) async throws -> Int {
        // A topic's messages are announced on the topic's own channel, whatever the partition.
        let channel = Topic(streamKey: stream)?.key ?? stream
        let dead = Self.key(for: stream, cluster: redis.isCluster)
        let reply = try await redis.run(Self.script, keys: [dead, stream], arguments: [entryID ?? "", channel])
        return reply.int ?? 0
    }

    /// The command that moves the pending entry `entryID` of any stream (a topic's, or a plain one such as an
    /// outbox) to `dead:<stream>` and acknowledges it for `group`, as the bus's consumers do: the entry's
    /// fields are copied with `dead.group`, `dead.entry`, `dead.deliveries` and `dead.error` added, in one
    /// atomic script. Returned as a command so that callers can pipeline it.
    ///
    /// - Parameters:
    ///   - stream: the stream key, e.g. `outbox:pusher`.
    ///   - group: the consumer group the entry is pending in.
    ///   - entryID: the stream entry id.
    ///   - deliveries: how many times it was delivered, for `dead.deliveries`.
    ///   - error: the reason, used when `errorsKey` records none for the entry.
    ///   - errorsKey: a hash of last errors, field `"<stream> <entryID>"`; its value wins over `error`, and is removed.
    ///   - cluster: whether Redis is a cluster (see ``key(for:cluster:)``).
    public static func moveCommand(
        stream: String, group: String, entryID: String, deliveries: Int, error: String, errorsKey: String, cluster: Bool = false
    ) -> RedisCommand {
        ConsumerGroupScripts.deadLetter.evalSHA(
            keys: [stream, key(for: stream, cluster: cluster), errorsKey], arguments: [group, entryID, deliveries, error]
        )
    }

    /// The dead-letter stream of `stream`: `dead:<stream>`. On a cluster, a stream without a hash tag (an
    /// outbox) keeps its dead letters at `dead:{<stream>}`, which hashes to the stream's own slot, so one
    /// script can move an entry; a partition's stream already carries its tag.
    public static func key(for stream: String, cluster: Bool) -> String {
        cluster && !stream.contains("{") ? "dead:{\(stream)}" : "dead:\(stream)"
    }

    static let script = BusLua.script("prelude", "replay")
}
