/// What `goalctl top` read from Redis in one refresh: the raw counters, before any rate is worked out.
public struct ConsoleSnapshot: Sendable, Equatable {
    /// Redis's clock when the refresh started (`TIME`), Unix milliseconds: ages and windows use it, never
    /// the clock of the machine `goalctl` runs on.
    public var timeMs: Int64
    /// Every stream that exists, in the order asked for.
    public var streams: [StreamReading]
    /// For each group, its consumers whose `heartbeat:<group>:<consumer>` key exists.
    public var aliveConsumers: [String: Set<String>]
    /// `used_memory` of each Redis server that answered `INFO memory` (one, or each master of a cluster), bytes.
    public var usedMemory: [Int]
    /// `maxmemory` of each server, bytes (0: no limit).
    public var maxMemory: [Int]
    /// The goal.ended entries added since the previous refresh (the newest ones when there were more than
    /// the reader reads per refresh).
    public var endedChains: [EndedChain]
    /// The commands the refresh sent to Redis.
    public var commands: Int

    /// Creates a snapshot.
    public init(
        timeMs: Int64, streams: [StreamReading], aliveConsumers: [String: Set<String>], usedMemory: [Int], maxMemory: [Int],
        endedChains: [EndedChain], commands: Int
    ) {
        self.timeMs = timeMs
        self.streams = streams
        self.aliveConsumers = aliveConsumers
        self.usedMemory = usedMemory
        self.maxMemory = maxMemory
        self.endedChains = endedChains
        self.commands = commands
    }
}

/// One stream's counters, from `XINFO STREAM <key> FULL COUNT 1` and `XLEN dead:<key>`.
public struct StreamReading: Sendable, Equatable {
    /// The stream key.
    public var key: String
    /// Entries it holds now.
    public var length: Int
    /// Entries ever added (`entries-added`): its difference between two refreshes is the rate in.
    public var entriesAdded: Int
    /// Entries in its dead-letter stream.
    public var deadLetters: Int
    /// Its consumer groups.
    public var groups: [GroupReading]

    /// Creates a reading.
    public init(key: String, length: Int, entriesAdded: Int, deadLetters: Int, groups: [GroupReading]) {
        self.key = key
        self.length = length
        self.entriesAdded = entriesAdded
        self.deadLetters = deadLetters
        self.groups = groups
    }
}

/// One consumer group on one stream.
public struct GroupReading: Sendable, Equatable {
    /// The group's name.
    public var name: String
    /// Entries not yet delivered to the group (`lag`); `nil` when Redis cannot tell.
    public var lag: Int?
    /// Entries delivered and not acknowledged (`pel-count`).
    public var pending: Int
    /// Entries delivered to the group so far (`entries-read`); `nil` when Redis cannot tell.
    public var entriesRead: Int?
    /// The entry id's time of the oldest pending entry, Unix milliseconds.
    public var oldestPendingMs: Int64?
    /// Its consumers' names.
    public var consumers: [String]

    /// Creates a reading.
    public init(name: String, lag: Int?, pending: Int, entriesRead: Int?, oldestPendingMs: Int64?, consumers: [String]) {
        self.name = name
        self.lag = lag
        self.pending = pending
        self.entriesRead = entriesRead
        self.oldestPendingMs = oldestPendingMs
        self.consumers = consumers
    }

    /// Lag plus pending, as the backlog monitor counts it; a lag Redis cannot tell counts as none.
    public var backlog: Int { (lag ?? 0) + pending }

    /// Entries the group has acknowledged so far (entries read less those pending), when Redis tells.
    public var acknowledged: Int? { entriesRead.map { $0 - pending } }
}

/// One goal.ended entry: when the chain's webhook event happened and when goal.ended was written.
public struct EndedChain: Sendable, Equatable {
    /// The stream entry id's time: when goal.ended was added to its stream, Unix milliseconds.
    public var endedMs: Int64
    /// The entry's `at_ms`: the event time of the webhook at the chain's root (or when an expiry or an
    /// operator started it), Unix milliseconds.
    public var eventMs: Int64

    /// Creates one.
    public init(endedMs: Int64, eventMs: Int64) {
        self.endedMs = endedMs
        self.eventMs = eventMs
    }

    /// From the webhook's event time to goal.ended on its stream.
    public var latencyMs: Int64 { endedMs - eventMs }
}
