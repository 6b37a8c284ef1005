import GoalDomain
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("The expiry sweep waits while a group's backlog is past its limit")
struct SweepBackpressureTests {
    @Test("an expired goal is not enqueued while some group lags past bus.backlog.limit, and is once it caught up")
    func sweepWaits() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let bus = {
                var bus = fastConfiguration()
                bus.backlogLimit = 3
                return bus
            }()
            // A group nobody runs, with five entries it has not read: past the limit of 3.
            try await client.execute("XGROUP", "CREATE", "task:deactivate_goal", "laggard", "0", "MKSTREAM")
            for index in 0..<5 { try await client.execute("XADD", "task:deactivate_goal", "*", "filler", String(index)) }
            try await GoalStore(redis: client).create(referenceSpec(exp: T))
            let backpressure = Backpressure(measuredFirst: true)
            let services: [@Sendable () async throws -> Void] = [
                { try await BacklogMonitor(redis: .server(server.configuration), streams: BusStreams.all(bus), configuration: bus,
                                           backpressure: backpressure, interval: .milliseconds(100), logger: testLogger).run() },
                { try await ExpirySweep(redis: .server(server.configuration), period: .milliseconds(100), bus: bus, backpressure: backpressure,
                                        logger: testLogger).run() },
            ]
            try await withServices(services) {
                try await eventually("the monitor to see the laggard") { !backpressure.current.isEmpty }
                #expect(backpressure.current.map(\.group) == ["laggard"])
                #expect(backpressure.current.first?.stream == "task:deactivate_goal")
                #expect(backpressure.current.first?.backlog == 5)
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await integer(client, "XLEN", "task:deactivate_goal") == 5, "the sweep waited")
                #expect(try await integer(client, "ZCARD", "goals:expiring") == 1)

                // The laggard catches up: the sweep goes on by itself.
                _ = try await client.execute("XREADGROUP", "GROUP", "laggard", "c", "STREAMS", "task:deactivate_goal", ">")
                let ids = try await client.execute("XRANGE", "task:deactivate_goal", "-", "+").array?.compactMap { $0.array?.first?.string } ?? []
                try await client.execute(RedisCommand("XACK", arguments: ["task:deactivate_goal", "laggard"] + ids))
                try await eventually("the sweep to enqueue the goal") {
                    try await integer(client, "XLEN", "task:deactivate_goal") == 6
                }
            }
            #expect(backpressure.refusal == nil)
            let task = try #require(try await streamEntries(client, "task:deactivate_goal").last)
            #expect(task["goal_id"] == "g1" && task["triggerer"] == "expiry")
        }
    }
}

@Suite("The expiry sweep's life")
struct SweepLifeTests {
    @Test("a graceful shutdown stops the sweep at once, not at the end of its period")
    func stopsAtOnce() async throws {
        try await withRedisServer { server in
            let sweep = ExpirySweep(redis: .server(server.configuration), period: .seconds(60), bus: fastConfiguration(), logger: testLogger)
            let stopping = try await withGracefulService(sweep, logger: testLogger) {
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(stopping < .seconds(3), "the sweep's period is 60 s")
        }
    }
}
