/// Turns successive snapshots into ``TopFigures``: rates from the previous snapshot, chain latency and the
/// memory trend over the last ``window`` of Redis time. Pure: tests feed it snapshots.
public struct TopHistory: Sendable {
    /// The window of the latency percentiles and the memory trend.
    public static let windowMs: Int64 = 60_000

    private let backlogLimit: Int
    private let endedStreams: Set<String>
    private var previous: ConsoleSnapshot?
    /// goal.ended entries of the window, oldest first.
    private var ended: [EndedChain] = []
    /// `(time, used memory)` of the window's refreshes.
    private var memory: [(timeMs: Int64, used: Int)] = []

    /// Creates an empty history.
    /// - Parameters:
    ///   - backlogLimit: `bus.backlog.limit`.
    ///   - endedStreams: the goal.ended streams, whose entries added are the chains completed.
    public init(backlogLimit: Int, endedStreams: [String]) {
        self.backlogLimit = backlogLimit
        self.endedStreams = Set(endedStreams)
    }

    /// Adds a snapshot and returns the figures it gives.
    public mutating func add(_ snapshot: ConsoleSnapshot) -> TopFigures {
        let since = snapshot.timeMs - Self.windowMs
        ended = (ended + snapshot.endedChains.sorted { $0.endedMs < $1.endedMs }).filter { $0.endedMs > since }
        let used = snapshot.usedMemory.reduce(0, +)
        memory = (memory + [(snapshot.timeMs, used)]).filter { $0.timeMs >= since }
        defer { previous = snapshot }

        let seconds = previous.flatMap { $0.timeMs < snapshot.timeMs ? Double(snapshot.timeMs - $0.timeMs) / 1000 : nil }
        let before = Dictionary((previous?.streams ?? []).map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        func rate(_ now: Int?, _ then: Int?) -> Double? {
            guard let seconds, let now, let then, now >= then else { return nil }
            return Double(now - then) / seconds
        }

        var streams: [StreamFigures] = []
        var pairs: [GroupStreamFigures] = []
        var groupOut: [String: Double] = [:]
        var groupOutKnown: [String: Bool] = [:]
        for stream in snapshot.streams {
            let old = before[stream.key]
            var slowest: Double?
            for group in stream.groups {
                pairs.append(GroupStreamFigures(group: group.name, stream: stream.key, lag: group.lag, pending: group.pending, backlog: group.backlog))
                let out = rate(group.acknowledged, old?.groups.first { $0.name == group.name }?.acknowledged)
                slowest = out.map { min($0, slowest ?? $0) } ?? slowest
                groupOut[group.name, default: 0] += out ?? 0
                groupOutKnown[group.name] = (groupOutKnown[group.name] ?? false) || out != nil
            }
            streams.append(StreamFigures(
                stream: stream.key, length: stream.length, inPerSecond: rate(stream.entriesAdded, old?.entriesAdded),
                outPerSecond: slowest, deadLetters: stream.deadLetters
            ))
        }

        let latencies = ended.map(\.latencyMs).sorted()
        let endedKeys = endedStreams
        let endedAdded = { (snapshot: ConsoleSnapshot?) in snapshot?.streams.filter { endedKeys.contains($0.key) }.map(\.entriesAdded).reduce(0, +) }
        let memoryTrend: Double? = memory.count > 1 && memory[memory.count - 1].timeMs - memory[0].timeMs >= 2_000
            ? Double(memory[memory.count - 1].used - memory[0].used) * 60_000 / Double(memory[memory.count - 1].timeMs - memory[0].timeMs)
            : nil

        return TopFigures(
            timeMs: snapshot.timeMs, intervalSeconds: seconds, backlogLimit: backlogLimit, streams: streams,
            groups: groups(snapshot, out: groupOut, outKnown: groupOutKnown), groupStreams: pairs,
            chains: ChainFigures(
                completedPerSecond: rate(endedAdded(snapshot), endedAdded(previous)), windowSeconds: Int(Self.windowMs / 1000),
                samples: latencies.count, latencyP50Ms: Self.percentile(0.50, of: latencies), latencyP99Ms: Self.percentile(0.99, of: latencies)
            ),
            memory: MemoryFigures(usedBytes: used, maxBytes: snapshot.maxMemory.reduce(0, +), trendBytesPerMinute: memoryTrend, servers: snapshot.usedMemory.count),
            commands: snapshot.commands
        )
    }

    /// Each group's figures over its streams, by name.
    private func groups(_ snapshot: ConsoleSnapshot, out: [String: Double], outKnown: [String: Bool]) -> [GroupFigures] {
        let readings = snapshot.streams.flatMap { stream in stream.groups.map { (stream: stream.key, group: $0) } }
        return Dictionary(grouping: readings, by: \.group.name).sorted { $0.key < $1.key }.map { name, readings in
            let worst = readings.max { ($0.group.backlog, $1.stream) < ($1.group.backlog, $0.stream) }!
            let oldest = readings.compactMap(\.group.oldestPendingMs).min()
            return GroupFigures(
                group: name, lag: readings.map { $0.group.lag ?? 0 }.reduce(0, +), pending: readings.map(\.group.pending).reduce(0, +),
                oldestPendingSeconds: oldest.map { Double(max(0, snapshot.timeMs - $0)) / 1000 },
                consumersAlive: snapshot.aliveConsumers[name]?.count ?? 0,
                consumers: Set(readings.flatMap(\.group.consumers)).count,
                outPerSecond: outKnown[name] == true ? out[name] : nil,
                backlog: worst.group.backlog, backlogStream: worst.stream,
                backlogRatio: backlogLimit > 0 ? Double(worst.group.backlog) / Double(backlogLimit) : 0,
                overLimit: worst.group.backlog > backlogLimit
            )
        }
    }

    /// The nearest-rank percentile `p` (0…1) of sorted `values`; `nil` when there are none.
    static func percentile(_ p: Double, of values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        let rank = Int((p * Double(values.count)).rounded(.up))
        return values[min(values.count, max(1, rank)) - 1]
    }
}
