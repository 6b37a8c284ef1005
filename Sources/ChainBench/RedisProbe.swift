import GoalDomain
import Redis
import SignalBus

/// What the benchmark asks Redis about the stack: command counts, memory, stream totals, whether every
/// group has caught up. On a cluster it asks every master and sums, and adds up a stream's partitions.
/// Every command it sends after the run starts is counted, so it can be taken out of the stack's own figures.
struct RedisProbe {
    let client: any RedisCommandRunner
    /// One client per master (the one server, or each master of a cluster).
    let masters: [RedisClient]
    /// How the stack's streams are partitioned.
    let bus: BusConfiguration
    /// Commands this probe sent, by the name `INFO commandstats` counts them under (`xinfo|groups`).
    private(set) var sent: [String: Int] = [:]

    init(client: any RedisCommandRunner, masters: [RedisClient], partitions: Int) {
        self.client = client
        self.masters = masters
        var bus = BusConfiguration()
        bus.partitions = partitions
        self.bus = bus
    }

    /// A cluster's nodes that are up, as `CLUSTER NODES` on `seed` lists them, masters first.
    static func clusterNodes(seed: RedisConfiguration) async throws -> (masters: [RedisConfiguration], replicas: [RedisConfiguration]) {
        let nodes = try await RedisClient(configuration: seed, name: "bench-probe").execute("CLUSTER", "NODES").string ?? ""
        func configurations(_ role: String) -> [RedisConfiguration] {
            nodes.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                guard fields.count > 2, fields[2].contains(role), !fields[2].contains("fail"),
                  let address = fields[1].split(separator: "@").first, let colon = address.lastIndex(of: ":"),
                      let port = Int(address[address.index(after: colon)...]) else { return nil }
                var configuration = seed
                configuration.host = String(address[..<colon])
                configuration.port = port
                return configuration
            }
        }
        return (configurations("master"), configurations("slave"))
    }

    /// `INFO commandstats` per command, summed over the masters: its calls, and the microseconds Redis spent
    /// in it (a script's time includes the commands it called, which are also counted under their own names).
    /// Redis counts an `INFO` after it answers, so the reply leaves out the `INFO` that asked for it but
    /// includes every earlier one.
    mutating func commandStats() async throws -> [String: CommandStat] {
        var stats: [String: CommandStat] = [:]
        for master in masters {
            sent["info", default: 0] += 1
            let text = try await master.execute("INFO", "commandstats").string ?? ""
            for line in text.split(separator: "\r\n") where line.hasPrefix("cmdstat_") {
                let parts = line.dropFirst("cmdstat_".count).split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let fields = parts[1].split(separator: ",")
                func value(_ name: String) -> Int? {
                    fields.first { $0.hasPrefix(name + "=") }.flatMap { Int($0.dropFirst(name.count + 1)) }
                }
                guard let calls = value("calls") else { continue }
                stats[String(parts[0]), default: CommandStat()].add(calls: calls, microseconds: value("usec") ?? 0)
            }
        }
        return stats
    }

    /// One field of `INFO <section>` from each master.
    mutating func info(_ section: String, _ field: String) async throws -> [String] {
        var values: [String] = []
        for master in masters {
            sent["info", default: 0] += 1
            let text = try await master.execute("INFO", section).string ?? ""
            if let line = text.split(separator: "\r\n").first(where: { $0.hasPrefix(field + ":") }) {
                values.append(String(line.dropFirst(field.count + 1)))
            }
        }
        return values
    }

    /// Redis memory in use, bytes, summed over the masters.
    mutating func usedMemory() async throws -> Double {
        try await info("memory", "used_memory").compactMap(Double.init).reduce(0, +)
    }

    /// Keys stored, summed over the masters.
    mutating func keyCount() async throws -> Double {
        var keys = 0.0
        for master in masters {
            sent["dbsize", default: 0] += 1
            keys += Double(try await master.execute("DBSIZE").int ?? 0)
        }
        return keys
    }

    /// How many entries were ever added to each stream (`entries-added`, which trimming does not lower),
    /// over all its partitions.
    mutating func entriesAdded(_ streams: [String]) async throws -> [String: Int] {
        // A topic's stream is split into partitions; other streams (the outbox) are not.
        let keys = streams.flatMap { stream in
            Topic(key: stream).map { topic in bus.streamKeys(of: topic).map { (stream, $0) } } ?? [(stream, stream)]
        }
        sent["xinfo|stream", default: 0] += keys.count
        let replies = try await client.pipeline(keys.map { RedisCommand("XINFO", "STREAM", $0.1) })
        var totals: [String: Int] = [:]
        for ((stream, _), reply) in zip(keys, replies) {
            totals[stream, default: 0] += reply.pairs["entries-added"]?.int ?? 0
        }
        return totals
    }

    /// What each process has handled so far, for ``DeliveryCount``: per receiver group the entries it has read
    /// (`entries-read`, over the streams it reads), and under `gateway` the webhook events stored.
    mutating func deliveryReading() async throws -> [String: Int] {
        let groupStreams = DeliveryCount.groupStreams(bus)
        let streams = Array(Set(groupStreams.values.joined())).sorted()
        sent["xinfo|groups", default: 0] += streams.count
        let replies = try await client.pipeline(streams.map { RedisCommand("XINFO", "GROUPS", $0) })
        var reading = DeliveryCount.reading(groupStreams: groupStreams, replies: Dictionary(uniqueKeysWithValues: zip(streams, replies)))
        reading[DeliveryCount.gateway] = try await entriesAdded(DeliveryCount.webhookStreams).values.reduce(0, +)
        return reading
    }

    /// Whether every group of the catalogue has read every entry of its streams and acknowledged it.
    mutating func settled() async throws -> Bool {
        let streams = Catalogue.topics.flatMap(bus.streamKeys(of:))
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
