import Testing

@testable import OperatorConsole

@Suite("goalctl top's figures from successive snapshots")
struct TopHistoryTests {
    static let ended = ["signal:goal.ended"]

    /// A snapshot of one goal.ended stream read by `tracking` (and `sessions`, further behind).
    static func snapshot(
        atMs: Int64, added: Int, trackingRead: Int, trackingPending: Int, sessionsLag: Int, oldestPendingMs: Int64? = nil,
        ended: [EndedChain] = [], used: Int = 1_000_000
    ) -> ConsoleSnapshot {
        ConsoleSnapshot(
            timeMs: atMs,
            streams: [
                StreamReading(key: "signal:goal.ended", length: added, entriesAdded: added, deadLetters: 2, groups: [
                    GroupReading(name: "tracking", lag: added - trackingRead, pending: trackingPending, entriesRead: trackingRead,
                                 oldestPendingMs: oldestPendingMs, consumers: ["t1", "t2"]),
                    GroupReading(name: "sessions", lag: sessionsLag, pending: 0, entriesRead: added - sessionsLag, oldestPendingMs: nil, consumers: ["s1"]),
                ]),
            ],
            aliveConsumers: ["tracking": ["t1"], "sessions": ["s1"]], usedMemory: [used], maxMemory: [0], endedChains: ended, commands: 9
        )
    }

    @Test("the first refresh has no rates; the second has entries in and acknowledged out per second")
    func rates() {
        var history = TopHistory(backlogLimit: 100, endedStreams: Self.ended)
        let first = history.add(Self.snapshot(atMs: 10_000, added: 100, trackingRead: 90, trackingPending: 5, sessionsLag: 10))
        #expect(first.intervalSeconds == nil)
        #expect(first.streams[0].inPerSecond == nil)
        #expect(first.chains.completedPerSecond == nil)
        let second = history.add(Self.snapshot(atMs: 12_000, added: 140, trackingRead: 130, trackingPending: 5, sessionsLag: 30))
        #expect(second.intervalSeconds == 2)
        #expect(second.streams[0].inPerSecond == 20)
        // tracking acknowledged 40 (125 - 85), sessions 20 (110 - 90): the stream's out is its slowest group's.
        #expect(second.streams[0].outPerSecond == 10)
        #expect(second.groups.first { $0.group == "tracking" }?.outPerSecond == 20)
        #expect(second.chains.completedPerSecond == 20)
        #expect(second.streams[0].deadLetters == 2)
        #expect(second.commands == 9)
    }

    @Test("a group's backlog is lag plus pending against bus.backlog.limit; its oldest pending age is Redis time less the entry's")
    func backlog() {
        var history = TopHistory(backlogLimit: 100, endedStreams: Self.ended)
        let figures = history.add(Self.snapshot(atMs: 20_000, added: 500, trackingRead: 450, trackingPending: 60, sessionsLag: 80, oldestPendingMs: 15_500))
        let tracking = figures.groups.first { $0.group == "tracking" }!
        #expect(tracking.lag == 50)
        #expect(tracking.pending == 60)
        #expect(tracking.backlog == 110)
        #expect(tracking.backlogRatio == 1.1)
        #expect(tracking.overLimit)
        #expect(tracking.oldestPendingSeconds == 4.5)
        #expect(tracking.consumersAlive == 1)
        #expect(tracking.consumers == 2)
        let sessions = figures.groups.first { $0.group == "sessions" }!
        #expect(!sessions.overLimit)
        #expect(sessions.oldestPendingSeconds == nil)
        #expect(figures.groupStreams.map(\.backlog) == [110, 80])
    }

    @Test("latency percentiles cover the last 60 s of goal.ended entries, nearest rank")
    func latency() {
        var history = TopHistory(backlogLimit: 100, endedStreams: Self.ended)
        let old = (0..<10).map { EndedChain(endedMs: 1_000 + Int64($0), eventMs: 0) } // 1 s latencies, soon out of the window
        _ = history.add(Self.snapshot(atMs: 2_000, added: 10, trackingRead: 10, trackingPending: 0, sessionsLag: 0, ended: old))
        let recent = (1...100).map { EndedChain(endedMs: 70_000, eventMs: 70_000 - Int64($0)) } // 1…100 ms
        let figures = history.add(Self.snapshot(atMs: 70_000, added: 110, trackingRead: 110, trackingPending: 0, sessionsLag: 0, ended: recent))
        #expect(figures.chains.samples == 100)
        #expect(figures.chains.latencyP50Ms == 50)
        #expect(figures.chains.latencyP99Ms == 99)
    }

    @Test("memory: summed over servers, its trend per minute once refreshes are two seconds apart")
    func memory() {
        var history = TopHistory(backlogLimit: 100, endedStreams: Self.ended)
        let first = history.add(Self.snapshot(atMs: 0, added: 0, trackingRead: 0, trackingPending: 0, sessionsLag: 0, used: 1_000_000))
        #expect(first.memory.trendBytesPerMinute == nil)
        let second = history.add(Self.snapshot(atMs: 30_000, added: 0, trackingRead: 0, trackingPending: 0, sessionsLag: 0, used: 1_500_000))
        #expect(second.memory.usedBytes == 1_500_000)
        #expect(second.memory.trendBytesPerMinute == 1_000_000)
        #expect(second.memory.servers == 1)
    }

    @Test("the screen shows each stream, each group and the chains' line")
    func screen() {
        var history = TopHistory(backlogLimit: 100, endedStreams: Self.ended)
        let figures = history.add(Self.snapshot(atMs: 20_000, added: 500, trackingRead: 450, trackingPending: 60, sessionsLag: 80, oldestPendingMs: 15_500))
        let text = TopScreen.lines(figures, title: "top").joined(separator: "\n")
        #expect(text.contains("signal:goal.ended"))
        #expect(text.contains("110/100 110.0% OVER LIMIT"))
        #expect(text.contains("4.5s"))
        #expect(text.contains("REDIS   memory 976.6 KiB"))
    }

    @Test("cluster masters are read from CLUSTER NODES, failing ones left out")
    func clusterNodes() {
        let nodes = """
            a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460
            b2 127.0.0.1:7002@17002,host-b master - 0 0 2 connected 5461-10922
            c3 127.0.0.1:7003@17003 master,fail - 0 0 3 connected 10923-16383
            d4 127.0.0.1:7004@17004 slave a1 0 0 1 connected
            """
        #expect(ClusterMasters.addresses(inClusterNodes: nodes).map { "\($0.host):\($0.port)" } == ["127.0.0.1:7001", "127.0.0.1:7002"])
    }
}
