import Logging
import Metrics
import Redis
import ServiceLifecycle

/// Measures every consumer group's backlog on the bus's streams each `interval` and publishes what it finds
/// to a ``Backpressure``: a group whose unacknowledged entries (lag plus pending, from `XINFO GROUPS`) on a
/// stream pass ``BusConfiguration/backlogLimit`` makes new work wait until it catches up. Each crossing of the
/// limit, either way, is one log line naming the group and the stream; the gauges `bus_backlog` and
/// `bus_backlog_over_limit` show it to Prometheus.
///
/// It also trims the streams it is given to trim (``StreamTrimmer``): the gateway's, which only it writes.
public struct BacklogMonitor: Service {
    private let redis: RedisEndpoint
    private let streams: [String]
    private let trimmed: [String]
    private let configuration: BusConfiguration
    private let backpressure: Backpressure
    private let interval: Duration
    private let logger: Logger

    /// Creates the monitor.
    /// - Parameters:
    ///   - streams: the streams whose groups it measures.
    ///   - trimmed: the streams it trims on each pass.
    ///   - backpressure: where it publishes what it measured.
    public init(
        redis: RedisEndpoint, streams: [String], trimmed: [String] = [], configuration: BusConfiguration, backpressure: Backpressure,
        interval: Duration = .seconds(1), logger: Logger
    ) {
        self.redis = redis
        self.streams = streams
        self.trimmed = trimmed
        self.configuration = configuration
        self.backpressure = backpressure
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let runner = try redis.makeRunner(name: "backlog-monitor")
        let trimmer = StreamTrimmer(streams: trimmed, keep: configuration.streamKeep)
        var over: Set<[String]> = []
        // The gauges of each (group, stream), made once.
        var gauges: [[String]: (backlog: Gauge, overLimit: Gauge)] = [:]
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // The measurement and the trims go in one pipeline.
                let replies = try await runner.pipeline(streams.map(Self.measureCommand) + trimmer.commands())
                let measured = Self.backlogs(streams: streams, replies: replies.prefix(streams.count))
                try trimmer.record(Array(replies.dropFirst(streams.count)))
                let overflows = measured.compactMap { entry -> Backpressure.Overflow? in
                    let key = [entry.group, entry.stream]
                    let gauge = gauges[key] ?? {
                        let dimensions = [("group", entry.group), ("stream", entry.stream)]
                        let made = (Gauge(label: "bus_backlog", dimensions: dimensions), Gauge(label: "bus_backlog_over_limit", dimensions: dimensions))
                        gauges[key] = made
                        return made
                    }()
                    let past = entry.backlog > configuration.backlogLimit
                    gauge.backlog.record(entry.backlog)
                    gauge.overLimit.record(past ? 1 : 0)
                    return past ? Backpressure.Overflow(group: entry.group, stream: entry.stream, backlog: entry.backlog, limit: configuration.backlogLimit) : nil
                }
                backpressure.update(overflows)
                let now = Set(overflows.map { [$0.group, $0.stream] })
                for overflow in overflows where !over.contains([overflow.group, overflow.stream]) {
                    logger.warning("backlog past its limit: new work waits until the group catches up", metadata: [
                        "group": .string(overflow.group), "stream": .string(overflow.stream), "backlog": "\(overflow.backlog)",
                        "limit": "\(overflow.limit)",
                    ])
                }
                for key in over.subtracting(now) {
                    logger.info("backlog back under its limit: work resumes", metadata: ["group": .string(key[0]), "stream": .string(key[1])])
                }
                over = now
            } catch {
                logger.warning("backlog measurement failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// Every group's backlog on each of `streams` (lag plus pending); a stream that does not exist has none.
    public static func measure(streams: [String], redis: any RedisCommandRunner) async throws(RedisError) -> [(group: String, stream: String, backlog: Int)] {
        backlogs(streams: streams, replies: try await redis.pipeline(streams.map(measureCommand))[...])
    }

    /// What measures one stream's groups.
    static func measureCommand(_ stream: String) -> RedisCommand {
        RedisCommand("XINFO", "GROUPS", stream)
    }

    /// Reads the replies of ``measureCommand(_:)`` for `streams`, in order.
    static func backlogs(streams: [String], replies: ArraySlice<RedisValue>) -> [(group: String, stream: String, backlog: Int)] {
        var result: [(group: String, stream: String, backlog: Int)] = []
        for (stream, reply) in zip(streams, replies) {
            // A stream not created yet answers an error: nothing waits on it.
            for info in reply.array ?? [] {
                let fields = info.pairs
                guard let name = fields["name"]?.string else { continue }
                result.append((name, stream, (fields["lag"]?.int ?? 0) + (fields["pending"]?.int ?? 0)))
            }
        }
        return result
    }
}
