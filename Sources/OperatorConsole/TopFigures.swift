/// What `goalctl top` shows after one refresh; `goalctl top --json` prints it with these keys.
///
/// Rates are per second over the interval since the previous refresh, and `nil` (JSON `null`) on the
/// first one.
public struct TopFigures: Codable, Sendable, Equatable {
    /// Redis's time of the refresh, Unix milliseconds.
    public var timeMs: Int64
    /// Seconds since the previous refresh; `nil` on the first.
    public var intervalSeconds: Double?
    /// `bus.backlog.limit`.
    public var backlogLimit: Int
    /// Every stream that exists.
    public var streams: [StreamFigures]
    /// Every group, over all its streams.
    public var groups: [GroupFigures]
    /// Every group on every stream, as `goalctl lag` lists them.
    public var groupStreams: [GroupStreamFigures]
    /// Chains that ended and their latency.
    public var chains: ChainFigures
    /// Redis memory.
    public var memory: MemoryFigures
    /// The commands this refresh sent to Redis.
    public var commands: Int

    enum CodingKeys: String, CodingKey {
        case timeMs = "time_ms", intervalSeconds = "interval_seconds", backlogLimit = "backlog_limit", streams, groups
        case groupStreams = "group_streams", chains, memory, commands
    }

    /// Encodes every key, `null` for what is not known, so the keys are the same in every refresh.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(timeMs, forKey: .timeMs)
        try container.encode(intervalSeconds, forKey: .intervalSeconds)
        try container.encode(backlogLimit, forKey: .backlogLimit)
        try container.encode(streams, forKey: .streams)
        try container.encode(groups, forKey: .groups)
        try container.encode(groupStreams, forKey: .groupStreams)
        try container.encode(chains, forKey: .chains)
        try container.encode(memory, forKey: .memory)
        try container.encode(commands, forKey: .commands)
    }
}

/// One stream's figures.
public struct StreamFigures: Codable, Sendable, Equatable {
    /// The stream key.
    public var stream: String
    /// Entries it holds.
    public var length: Int
    /// Entries added per second.
    public var inPerSecond: Double?
    /// Entries acknowledged per second by its slowest group (`nil` without groups).
    public var outPerSecond: Double?
    /// Entries in `dead:<stream>`.
    public var deadLetters: Int

    enum CodingKeys: String, CodingKey {
        case stream, length, inPerSecond = "in_per_second", outPerSecond = "out_per_second", deadLetters = "dead_letters"
    }

    /// Encodes every key, `null` for what is not known, so the keys are the same in every refresh.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(stream, forKey: .stream)
        try container.encode(length, forKey: .length)
        try container.encode(inPerSecond, forKey: .inPerSecond)
        try container.encode(outPerSecond, forKey: .outPerSecond)
        try container.encode(deadLetters, forKey: .deadLetters)
    }
}

/// One group's figures over all the streams it reads.
public struct GroupFigures: Codable, Sendable, Equatable {
    /// The group's name.
    public var group: String
    /// Entries not yet delivered, summed over its streams.
    public var lag: Int
    /// Entries delivered and not acknowledged, summed over its streams.
    public var pending: Int
    /// Age of its oldest pending entry (since the entry was added), seconds; `nil` when none is pending.
    public var oldestPendingSeconds: Double?
    /// Consumers whose heartbeat is alive.
    public var consumersAlive: Int
    /// Consumers registered in the group on any of its streams.
    public var consumers: Int
    /// Entries acknowledged per second, summed over its streams.
    public var outPerSecond: Double?
    /// Its largest backlog (lag + pending) on one stream: what `bus.backlog.limit` is compared with.
    public var backlog: Int
    /// The stream of that backlog.
    public var backlogStream: String
    /// `backlog` / `bus.backlog.limit`.
    public var backlogRatio: Double
    /// Whether a backlog is past the limit (the gateway answers 503).
    public var overLimit: Bool

    enum CodingKeys: String, CodingKey {
        case group, lag, pending, oldestPendingSeconds = "oldest_pending_seconds", consumersAlive = "consumers_alive", consumers
        case outPerSecond = "out_per_second", backlog, backlogStream = "backlog_stream", backlogRatio = "backlog_ratio", overLimit = "over_limit"
    }

    /// Encodes every key, `null` for what is not known, so the keys are the same in every refresh.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(group, forKey: .group)
        try container.encode(lag, forKey: .lag)
        try container.encode(pending, forKey: .pending)
        try container.encode(oldestPendingSeconds, forKey: .oldestPendingSeconds)
        try container.encode(consumersAlive, forKey: .consumersAlive)
        try container.encode(consumers, forKey: .consumers)
        try container.encode(outPerSecond, forKey: .outPerSecond)
        try container.encode(backlog, forKey: .backlog)
        try container.encode(backlogStream, forKey: .backlogStream)
        try container.encode(backlogRatio, forKey: .backlogRatio)
        try container.encode(overLimit, forKey: .overLimit)
    }
}

/// One group on one stream.
public struct GroupStreamFigures: Codable, Sendable, Equatable {
    /// The group's name.
    public var group: String
    /// The stream key.
    public var stream: String
    /// `lag` from Redis; `nil` when it cannot tell.
    public var lag: Int?
    /// Pending entries.
    public var pending: Int
    /// Lag plus pending.
    public var backlog: Int

    enum CodingKeys: String, CodingKey {
        case group, stream, lag, pending, backlog
    }

    /// Encodes every key, `null` for what is not known, so the keys are the same in every refresh.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(group, forKey: .group)
        try container.encode(stream, forKey: .stream)
        try container.encode(lag, forKey: .lag)
        try container.encode(pending, forKey: .pending)
        try container.encode(backlog, forKey: .backlog)
    }
}

/// Chains ended, from the goal.ended streams.
public struct ChainFigures: Codable, Sendable, Equatable {
    /// goal.ended entries added per second.
    public var completedPerSecond: Double?
    /// The window of the percentiles, seconds.
    public var windowSeconds: Int
    /// goal.ended entries read in the window.
    public var samples: Int
    /// Median of webhook event time (`at_ms`) to goal.ended (its entry id's time), milliseconds.
    public var latencyP50Ms: Int64?
    /// 99th percentile of the same.
    public var latencyP99Ms: Int64?

    enum CodingKeys: String, CodingKey {
        case completedPerSecond = "completed_per_second", windowSeconds = "window_seconds", samples
        case latencyP50Ms = "latency_p50_ms", latencyP99Ms = "latency_p99_ms"
    }

    /// Encodes every key, `null` for what is not known, so the keys are the same in every refresh.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(completedPerSecond, forKey: .completedPerSecond)
        try container.encode(windowSeconds, forKey: .windowSeconds)
        try container.encode(samples, forKey: .samples)
        try container.encode(latencyP50Ms, forKey: .latencyP50Ms)
        try container.encode(latencyP99Ms, forKey: .latencyP99Ms)
    }
}

/// Redis memory, summed over the servers (the masters of a cluster).
public struct MemoryFigures: Codable, Sendable, Equatable {
    /// `used_memory`, bytes.
    public var usedBytes: Int
    /// `maxmemory`, bytes; 0 when unlimited.
    public var maxBytes: Int
    /// Change of `used_memory` per minute over the window, bytes; `nil` until two refreshes are seconds apart.
    public var trendBytesPerMinute: Double?
    /// Servers asked.
    public var servers: Int

    enum CodingKeys: String, CodingKey {
        case usedBytes = "used_bytes", maxBytes = "max_bytes", trendBytesPerMinute = "trend_bytes_per_minute", servers
    }

    /// Encodes every key, `null` for what is not known, so the keys are the same in every refresh.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(usedBytes, forKey: .usedBytes)
        try container.encode(maxBytes, forKey: .maxBytes)
        try container.encode(trendBytesPerMinute, forKey: .trendBytesPerMinute)
        try container.encode(servers, forKey: .servers)
    }
}
