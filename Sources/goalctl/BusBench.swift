import ArgumentParser
import Foundation
import Logging
import Redis
import ServiceLifecycle
import SignalBus

/// Publish → consume → acknowledge through one group, beside a raw XADD / XREADGROUP / XACK loop.
struct BusBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bus",
        abstract: "Messages per second through the signal bus (one group, one consumer) beside a raw stream loop, same server."
    )

    @Option(help: "Messages per run.") var messages = 20_000
    @Option(help: "Runs; the median is reported.") var runs = 3
    @Flag(help: "Print a JSON object: server, messages, runs, bus_messages_per_second, raw_messages_per_second, ratio.") var json = false

    /// What `goalctl bench bus --json` prints.
    struct Output: Encodable {
        let server: String
        let messages: Int
        let runs: Int
        let busMessagesPerSecond: Double
        let rawMessagesPerSecond: Double
        let ratio: Double

        enum CodingKeys: String, CodingKey {
            case server, messages, runs, busMessagesPerSecond = "bus_messages_per_second", rawMessagesPerSecond = "raw_messages_per_second", ratio
        }
    }

    func run() async throws {
        let environment = try await Environment.load()
        let redis = RedisClient(configuration: try environment.server(for: "bench bus"), name: "bench")
        var bus: [Double] = []
        var raw: [Double] = []
        let progress = ProgressLine("runs")
        for run in 0..<runs {
            raw.append(try await rawLoop(redis, stream: "bench:raw:\(run)"))
            bus.append(try await busLoop(redis, topic: .signal("bench.bus.\(run)")))
            progress.update(run + 1, of: runs)
        }
        progress.finish()
        let busRate = bus.sorted()[runs / 2]
        let rawRate = raw.sorted()[runs / 2]
        if json {
            return try JSONOutput.print(Output(
                server: redis.configuration.address, messages: messages, runs: runs, busMessagesPerSecond: busRate, rawMessagesPerSecond: rawRate,
                ratio: busRate / rawRate
            ))
        }
        print("Redis at \(redis.configuration.address); \(messages) messages; median of \(runs) runs")
        print("signal bus (publish + consume + commit)  \(Int(busRate)) msg/s")
        print("raw XADD / XREADGROUP / XACK             \(Int(rawRate)) msg/s")
        print(String(format: "ratio bus / raw                          %.2f", busRate / rawRate))
    }

    /// Publishes in batches of 64, then reads with XREADGROUP COUNT 64 and acknowledges each batch.
    private func rawLoop(_ redis: RedisClient, stream: String) async throws -> Double {
        let count = messages
        let rate = try await redis.withConnection { connection in
            _ = try connection.send(RedisCommand("XGROUP", "CREATE", stream, "bench", "0", "MKSTREAM"))
            let start = ContinuousClock.now
            var published = 0
            while published < count {
                let batch = (0..<min(64, count - published)).map { index in
                    RedisCommand("XADD", stream, "*", "id", "m\(published + index)", "signal", "bench", "at_ms", "0", "cause", "", "trace", "t")
                }
                _ = try connection.send(batch)
                published += batch.count
            }
            var consumed = 0
            while consumed < count {
                let reply = try connection.send(RedisCommand("XREADGROUP", "GROUP", "bench", "c", "COUNT", 64, "STREAMS", stream, ">"))
                let entries = reply.array?.first?.array?[1].array ?? []
                var ack = RedisCommand("XACK", stream, "bench")
                for entry in entries { if let id = entry.array?[0].string { ack.append(id) } }
                _ = try connection.send(ack)
                consumed += entries.count
            }
            return Self.rate(count, since: start)
        }
        try await redis.execute("DEL", stream)
        return rate
    }

    /// Publishes through ``Publisher`` and consumes with a ``GroupConsumer`` whose one receiver acts with no writes.
    private func busLoop(_ redis: RedisClient, topic: Topic) async throws -> Double {
        let count = messages
        let group = ReceiverGroup(name: "bench", receivers: [Receiver("bench_receiver", on: [topic], guard: { _ in nil })])
        var bus = BusConfiguration()
        bus.block = .milliseconds(50)
        let consumer = GroupConsumer(group: group, redis: .server(redis.configuration), configuration: bus, logger: Logger(label: "bench"))
        let publisher = Publisher(redis: redis)
        let start = ContinuousClock.now
        var published = 0
        while published < count {
            let batch = (0..<min(64, count - published)).map { index in
                OutgoingMessage(topic: topic, id: "\(topic.name)-\(published + index)", atMs: 0, payload: [("goal_id", "bench")])
            }
            _ = try await publisher.publish(batch)
            published += batch.count
        }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await consumer.run() }
            // The consumer creates its group on start; until then XPENDING answers NOGROUP.
            while true {
                let pending = (try? await redis.execute("XPENDING", topic.key, "bench"))?.array?.first?.int ?? 1
                let info = (try? await redis.execute("XINFO", "GROUPS", topic.key))?.array?.first?.array ?? []
                let lag = info.firstIndex(of: .bulk(Array("lag".utf8))).map { info[$0 + 1].int ?? 1 } ?? 1
                if pending == 0 && lag == 0 { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            tasks.cancelAll()
        }
        let rate = Self.rate(count, since: start)
        try await redis.execute("DEL", topic.key)
        return rate
    }

    private static func rate(_ count: Int, since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
