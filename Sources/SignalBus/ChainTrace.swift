import Foundation
import Redis

/// Reads a chain's trace back: the entries of its trace hash (``TraceKeys``), one per delivery recorded,
/// ordered from the root through what each receiver published.
public enum ChainTrace {
    /// The records of the chain whose root message is `trace`: the root first, then each level of what it
    /// caused; within a message, by group in `groups` order, then receiver declaration order. Entries the
    /// walk from the root does not reach (a failed delivery of a chain that is not traced) come last.
    /// - Parameters:
    ///   - trace: the root message's id (the envelope's `trace`).
    ///   - groups: the groups, in the order to list them.
    ///   - partition: the chain's partition (its goal's), when streams are partitioned.
    ///   - redis: where to read them.
    public static func records(trace: String, groups: [String], partition: Partition? = nil, redis: any RedisCommandRunner) async throws -> [TraceRecord] {
        let reply = try await redis.execute("HGETALL", TraceKeys.chain(trace, partition: partition))
        var entries: [String: [(group: String, stored: StoredEntry)]] = [:]
        var atMs: Int64 = 0
        for (field, value) in reply.fieldMap {
            let parts = field.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, let stored = StoredEntry.decode(Array(value.utf8)) else { continue }
            if let root = stored.atMs { atMs = root }
            entries[parts[1], default: []].append((parts[0], stored))
        }
        func order(_ group: String) -> Int { groups.firstIndex(of: group) ?? groups.count }

        var records: [TraceRecord] = []
        var seen: Set<String> = []
        func take(_ id: String) -> [String] {
            guard seen.insert(id).inserted, let found = entries[id] else { return [] }
            var next: [String] = []
            for (group, stored) in found.sorted(by: { (order($0.group), $0.group) < (order($1.group), $1.group) }) {
                guard let topic = Topic(key: stored.topic) else { continue }
                let entry = TraceEntry(
                    atMs: atMs, topic: topic, message: id, cause: stored.cause ?? "", group: group,
                    receivers: stored.receivers.map(\.outcome), error: stored.error
                )
                records += entry.records
                next += entry.receivers.flatMap { $0.published.map(\.id) }
            }
            return next
        }
        var level = [trace]
        while !level.isEmpty { level = level.flatMap(take) }
        for id in entries.keys.sorted() where !seen.contains(id) { _ = take(id) }
        return records
    }

    /// A ``TraceEntry`` as stored.
    private struct StoredEntry: Decodable {
        private static let decoder = JSONDecoder()

        /// Reads a stored entry; `nil` for anything else.
        static func decode(_ bytes: [UInt8]) -> StoredEntry? {
            try? decoder.decode(StoredEntry.self, from: Data(bytes))
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
        /// The causing message, on every entry but a root's.
        var cause: String?
        var error: String?
        var receivers: [Receiver]

        enum CodingKeys: String, CodingKey {
            case topic, atMs = "at_ms", cause, error, receivers
        }
    }
}
