import GoalDomain
import Redis
import SignalBus

/// What the benchmark asks Redis about the stack: command counts, memory, stream totals, whether every
/// group has caught up. Every command it sends after the run starts is counted, so it can be taken out of
/// the stack's own figures.
struct RedisProbe {
    let client: RedisClient
    /// Commands this probe sent, by the name `INFO commandstats` counts them under (`xinfo|groups`).
    private(set) var sent: [String: Int] = [:]

    init(client: RedisClient) {
        self.client = client
    }

    /// `INFO commandstats` as calls per command. Redis counts an `INFO` after it answers, so the reply
    /// leaves out the `INFO` that asked for it but includes every earlier one.
    mutating func commandCalls() async throws -> [String: Int] {
        sent["info", default: 0] += 1
        let text = try await client.execute("INFO", "commandstats").string ?? ""
        var calls: [String: Int] = [:]
        for line in text.split(separator: "\r\n") where line.hasPrefix("cmdstat_") {
            let parts = line.dropFirst("cmdstat_".count).split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let field = parts[1].split(separator: ",").first(where: { $0.hasPrefix("calls=") }),
                  let count = Int(field.dropFirst("calls=".count)) else { continue }
            calls[String(parts[0])] = count
        }
        return calls
    }

    /// One field of `INFO <section>`.
    mutating func info(_ section: String, _ field: String) async throws -> String? {
        sent["info", default: 0] += 1
        let text = try await client.execute("INFO", section).string ?? ""
        return text.split(separator: "\r\n").first { $0.hasPrefix(field + ":") }.map { String($0.dropFirst(field.count + 1)) }
    }

    /// How many entries were ever added to each stream (`entries-added`, which trimming does not lower).
    mutating func entriesAdded(_ streams: [String]) async throws -> [String: Int] {
        sent["xinfo|stream", default: 0] += streams.count
        let replies = try await client.pipeline(streams.map { RedisCommand("XINFO", "STREAM", $0) })
        var totals: [String: Int] = [:]
        for (stream, reply) in zip(streams, replies) {
            totals[stream] = reply.pairs["entries-added"]?.int ?? 0
        }
        return totals
    }

    /// Whether every group of the catalogue has read every entry of its streams and acknowledged it.
    mutating func settled() async throws -> Bool {
        let streams = Catalogue.topics.map(\.key)
        sent["xinfo|groups", default: 0] += streams.count
        let replies = try await client.pipeline(streams.map { RedisCommand("XINFO", "GROUPS", $0) })
        for reply in replies {
            for group in reply.array ?? [] {
                let fields = group.pairs
                // `lag` is nil when Redis cannot tell (after trimming): then the pending count alone decides.
                if fields["pending"]?.int != 0 || (fields["lag"]?.int ?? 0) != 0 { return false }
            }
        }
        return true
    }
}
