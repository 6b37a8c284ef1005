import Foundation
import GoalDomain
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("End to end: Redis restarted or stalled mid-run", .serialized)
struct RedisFaultTests {
    static let fleet = GoalFleet(prefix: "fault", count: goals)
    static let goals = FaultLoad.goals(short: 80, full: 400, suite: "RedisFaultTests")


    /// Creates the goals, occupies them, then vacates them in batches, calling `fault` right after the batch
    /// halfway (while the groups work on it); checks that every goal ends exactly once with exact progress
    /// and that nothing is left pending.
    private func run(_ stack: Stack, fault: () async throws -> Void) async throws {
        let t = Int64(Date().timeIntervalSince1970) - 200
        try await Self.fleet.create(stack.client())
        for start in stride(from: 0, to: Self.goals, by: 20) {
            try await stack.postUntilAccepted(Self.fleet.webhook("channel_occupied", goals: start..<start + 20, at: t))
        }
        try await eventually("every timer to start") { try await isSettled(stack.client(), [("signal:channel_occupied", "karaoke")]) }
        for start in stride(from: 0, to: Self.goals, by: 10) {
            try await stack.postUntilAccepted(Self.fleet.webhook("channel_vacated", goals: start..<start + 10, at: t + 400))
            if start == Self.goals / 2 { try await fault() }
        }
        let redis = stack.client()
        try await eventually("every group to settle after the fault", within: .seconds(FaultLoad.isFull ? 300 : 120)) {
            (try? await isSettled(redis, Catalogue.groups().flatMap { group in group.topics.map { ($0.key, group.name) } })) ?? false
        }
        for stream in ["task:increment_goal_progress", "signal:goal.progressed", "signal:goal.completed", "task:deactivate_goal", "signal:goal.ended"] {
            #expect(try await integer(redis, "XLEN", stream) == Self.goals, "\(stream) holds one entry per goal")
        }
        for index in 0..<Self.goals {
            let goal = try await hashFields(redis, "goal:{fault-\(index)}")
            #expect(goal["progress"] == "400" && goal["level"] == "1" && goal["active"] == "0", "fault-\(index): \(goal)")
        }
        #expect(try await hashFields(redis, "tracking:counters")["goal.ended"] == String(Self.goals))
    }

    /// With `everysec` a killed redis-server loses nothing either (its writes are in the page cache); only a
    /// crash of the machine can lose the last second (Docs/reliability.md).
    @Test("redis-server killed and restarted with AOF: nothing lost, nothing doubled", arguments: ["always", "everysec"])
    func restartWithAOF(fsync: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aof-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await Stack.with(
            extraEnvironment: ["BUS_CLAIM_IDLE_MS": "1500"],
            redisArguments: ["--appendonly", "yes", "--appendfsync", fsync, "--dir", directory]
        ) { stack in
            try await run(stack) {
                try await stack.restartRedis()
            }
        }
    }

    @Test("redis-server stalled (SIGSTOP) for 5 s, then resumed: nothing lost, nothing doubled")
    func stalledRedis() async throws {
        try await Stack.with(extraEnvironment: ["BUS_CLAIM_IDLE_MS": "1500"]) { stack in
            try await run(stack) {
                stack.redis.setPaused(true)
                // Pusher keeps sending while Redis is stalled: the gateway must not answer 2xx before storing.
                async let sentDuringStall = stack.postUntilAccepted(Self.fleet.webhook("channel_occupied", goals: 0..<1, at: Int64(Date().timeIntervalSince1970)))
                try await Task.sleep(for: .seconds(5))
                stack.redis.setPaused(false)
                _ = try await sentDuringStall
            }
        }
    }
}
