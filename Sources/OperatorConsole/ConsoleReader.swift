import Foundation
import Redis
import SignalBus

/// Reads a ``ConsoleSnapshot`` from Redis, cheaply enough to leave open: two pipelined round trips to the
/// streams' servers and one `INFO memory` per server.
///
/// Commands per refresh, for `S` streams, `E` goal.ended streams (one, or one per partition on a cluster),
/// `C` distinct consumers (group and name) and `N` servers (one, or each master of a cluster):
/// - `TIME`;
/// - per stream, `XINFO STREAM <key> FULL COUNT 1` (length, entries added, each group's lag, pending count,
///   entries read, oldest pending entry and consumers; `COUNT 1` bounds the entries and pending lists it
///   returns) and `XLEN dead:<key>`;
/// - per goal.ended stream, `XREVRANGE <key> + (<last seen> COUNT 200` (only the entries added since the
///   previous refresh; the newest 200 when there were more);
/// - then `EXISTS heartbeat:<group>:<consumer>` per consumer;
/// - and `INFO memory` on each server.
///
/// `TIME` and `INFO` are outside the shipped `operator` ACL user's `@read`: without them the reader uses this
/// machine's clock and shows no memory figures.
///
/// So `1 + 2S + E + C + N` commands: 36 on one server with the flow's 14 streams and one replica per group.
public struct ConsoleReader: Sendable {
    /// goal.ended entries read per stream per refresh at most.
    public static let endedPerRefresh = 200

    private let redis: any RedisCommandRunner
    private let streams: [String]
    private let endedStreams: [String]
    private let servers: [any RedisCommandRunner]
    private let cluster: Bool
    /// The newest goal.ended entry id read from each goal.ended stream.
    private var lastEnded: [String: String] = [:]

    /// Creates a reader.
    /// - Parameters:
    ///   - redis: runs the stream commands (routing each to its node on a cluster).
    ///   - streams: the streams to watch, e.g. `BusStreams.all(bus)`.
    ///   - endedStreams: the goal.ended streams whose entries give the chains' rate and latency.
    ///   - servers: where `INFO memory` goes: the server, or each master of a cluster.
    public init(redis: any RedisCommandRunner, streams: [String], endedStreams: [String], servers: [any RedisCommandRunner]) {
        self.redis = redis
        self.streams = streams
        self.endedStreams = endedStreams
        self.servers = servers
        self.cluster = redis.isCluster
    }

    /// Reads one snapshot.
    public mutating func read() async throws(RedisError) -> ConsoleSnapshot {
        var commands = [RedisCommand("TIME")]
        for stream in streams {
            commands.append(RedisCommand("XINFO", "STREAM", stream, "FULL", "COUNT", 1))
            commands.append(RedisCommand("XLEN", DeadLetters.key(for: stream, cluster: cluster)))
        }
        for stream in endedStreams {
            let start = lastEnded[stream].map { "(" + $0 } ?? "-"
            commands.append(RedisCommand("XREVRANGE", stream, "+", start, "COUNT", Self.endedPerRefresh))
        }
        let replies = try await redis.pipeline(commands)
        // A user without TIME (the shipped `operator` ACL user has only @read) gets this machine's clock.
        let time = replies[0].array ?? []
        let timeMs = time.count == 2
            ? Int64(time[0].int ?? 0) * 1000 + Int64(time[1].int ?? 0) / 1000
            : Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))

        var readings: [StreamReading] = []
        for (index, stream) in streams.enumerated() {
            if let reading = StreamReading(key: stream, full: replies[1 + 2 * index], deadLetters: replies[2 + 2 * index]) {
                readings.append(reading)
            }
        }
        var ended: [EndedChain] = []
        for (index, stream) in endedStreams.enumerated() {
            let entries = replies[1 + 2 * streams.count + index].array ?? []
            if let newest = entries.first?.array?.first?.string { lastEnded[stream] = newest }
            for entry in entries {
                guard let parts = entry.array, parts.count == 2, let id = parts[0].string,
                      let endedMs = GroupReading.milliseconds(ofEntryID: id), let eventMs = Int64(parts[1].fieldMap["at_ms"] ?? "") else { continue }
                ended.append(EndedChain(endedMs: endedMs, eventMs: eventMs))
            }
        }

        let consumers = Set(readings.flatMap { stream in stream.groups.flatMap { group in group.consumers.map { [group.name, $0] } } }).sorted { $0.lexicographicallyPrecedes($1) }
        let beats = try await redis.pipeline(consumers.map { RedisCommand("EXISTS", "heartbeat:\($0[0]):\($0[1])") })
        var alive: [String: Set<String>] = [:]
        for (consumer, beat) in zip(consumers, beats) where beat.int == 1 { alive[consumer[0], default: []].insert(consumer[1]) }

        var used: [Int] = []
        var max: [Int] = []
        for server in servers {
            // A user INFO is refused to (it is @dangerous) sees no memory figures rather than no screen.
            guard let reply = try? await server.execute("INFO", "memory").string else { continue }
            let info = Self.infoFields(reply)
            used.append(Int(info["used_memory"] ?? "") ?? 0)
            max.append(Int(info["maxmemory"] ?? "") ?? 0)
        }
        return ConsoleSnapshot(
            timeMs: timeMs, streams: readings, aliveConsumers: alive, usedMemory: used, maxMemory: max, endedChains: ended,
            commands: commands.count + consumers.count + servers.count
        )
    }

    /// The `field:value` lines of an `INFO` reply.
    static func infoFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix("#") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }
}
