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
        let decoder = JSONDecoder()
        var records: [TraceRecord] = []
        var seen: Set<String> = [trace]
        var level = [trace]
        while !level.isEmpty {
            let tag = partition?.tag
            let keys = level.flatMap { id in groups.map { CommitScript.doneKey(group: $0, id: id, tag: tag) } }
            let replies = try await redis.pipeline(keys.map { RedisCommand("GET", $0) })
            var next: [String] = []
            for reply in replies {
                guard let bytes = reply.bytes, let entry = try? decoder.decode(TraceEntry.self, from: Data(bytes)) else { continue }
                records += entry.records
                for outcome in entry.receivers {
                    for published in outcome.published where seen.insert(published.id).inserted { next.append(published.id) }
                }
            }
            level = next
        }
        return records
    }
}
