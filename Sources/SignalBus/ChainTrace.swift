import Foundation
import Redis

/// Reads a chain's trace back: every message's ``TraceEntry`` is the value of its done marker
/// `done:<group>:<message id>` (on a partitioned cluster, `done:{<partition tag>}:<group>:<message id>` in its
/// partition), so the chain is walked from its root through what each receiver published.
public enum ChainTrace {
    /// The records of the chain whose root message is `trace`, root first, then each level of what it
    /// caused; within a message, by group in `groups` order, then receiver declaration order.
    /// - Parameters:
    ///   - trace: the root message's id (the envelope's `trace`).
    ///   - groups: the groups whose markers to read.
    ///   - partition: the chain's partition (its goal's), when streams are partitioned.
    ///   - redis: where to read them.
    public static func records(trace: String, groups: [String], partition: Partition? = nil, redis: any RedisCommandRunner) async throws -> [TraceRecord] {
        var records: [TraceRecord] = []
        var atMs: Int64 = 0
        var seen: Set<String> = [trace]
        // The messages of the next level: each id with its cause and topic, as the level before published it.
        var level: [(id: String, cause: String, topic: Topic?)] = [(trace, "", nil)]
        while !level.isEmpty {
            let tag = partition?.tag
            let keys = level.flatMap { message in groups.map { CommitScript.doneKey(group: $0, id: message.id, tag: tag) } }
            let replies = try await redis.pipeline(keys.map { RedisCommand("GET", $0) })
            var next: [(id: String, cause: String, topic: Topic?)] = []
            for (index, reply) in replies.enumerated() {
                let message = level[index / groups.count]
                guard let bytes = reply.bytes, let stored = StoredEntry.decode(bytes),
                      let topic = Topic(key: stored.topic) ?? message.topic else { continue }
                if message.cause.isEmpty, let root = stored.atMs { atMs = root }
                let entry = TraceEntry(
                    atMs: atMs, topic: topic, message: message.id, cause: message.cause, group: groups[index % groups.count],
                    receivers: stored.receivers.map(\.outcome)
                )
                records += entry.records
                for outcome in entry.receivers {
                    for published in outcome.published where seen.insert(published.id).inserted {
                        next.append((published.id, message.id, Topic(key: published.topicKey)))
                    }
                }
            }
            level = next
        }
        return records
    }

    /// A ``TraceEntry`` as stored.
    private struct StoredEntry: Decodable {
        private static let decoder = JSONDecoder()

        /// Reads a marker's value: the compact entry, or the longer one of versions before it (every field of
        /// ``TraceRecord`` but `receiver`), which a stack in the middle of an upgrade still holds. `nil` for
        /// anything else (a marker of `1`, with tracing off).
        static func decode(_ bytes: [UInt8]) -> StoredEntry? {
            let data = Data(bytes)
            if let entry = try? decoder.decode(StoredEntry.self, from: data) { return entry }
            guard let legacy = try? decoder.decode(LegacyEntry.self, from: data) else { return nil }
            return StoredEntry(
                topic: "\(legacy.kind):\(legacy.signal)", atMs: legacy.atMs,
                receivers: legacy.receivers.map {
                    Receiver(
                        receiver: $0.receiver, reason: $0.acted ? nil : $0.reason,
                        published: $0.published.map(\.stored), writes: $0.writes
                    )
                }
            )
        }

        struct Receiver: Decodable {
            var receiver: String
            var reason: String?
            var published: [String]?
            var writes: [String]?

            var outcome: TraceEntry.Outcome {
                TraceEntry.Outcome(
                    receiver: receiver, acted: reason == nil, reason: reason ?? "",
                    published: (published ?? []).compactMap(TraceRecord.Published.init(stored:)),
                    writes: writes ?? []
                )
            }
        }

        var topic: String
        /// The chain's event time, on a root's entries only.
        var atMs: Int64?
        var receivers: [Receiver]

        enum CodingKeys: String, CodingKey {
            case topic, atMs = "at_ms", receivers
        }
    }

    /// An entry as versions before the compact one stored it.
    private struct LegacyEntry: Decodable {
        struct Receiver: Decodable {
            var receiver: String
            var acted: Bool
            var reason: String
            var published: [TraceRecord.Published]
            var writes: [String]
        }

        var atMs: Int64
        var signal: String
        var kind: String
        var receivers: [Receiver]

        enum CodingKeys: String, CodingKey {
            case atMs = "at_ms", signal, kind, receivers
        }
    }
}
