import Foundation
import GoalDomain
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("End to end: a backlog past its limit holds new work back instead of losing it")
struct BackpressureTests {
    static let fleet = GoalFleet(prefix: "bp", count: 60)

    @Test("a group lagging past bus.backlog.limit gets webhooks 503 with Retry-After; retried once it caught up, every goal ends once")
    func refusedThenRetried() async throws {
        try await Stack.with(extraEnvironment: ["BUS_BACKLOG_LIMIT": "30"]) { stack in
            let redis = stack.client()
            let t = Int64(Date().timeIntervalSince1970) - 200
            try await Self.fleet.startTimers(on: stack, at: t)
            // tracking stops: its backlog grows with every vacate and the chain it starts.
            stack.processes["tracking"]!.send(SIGTERM)
            #expect(await stack.processes["tracking"]!.wait(timeout: .seconds(15)) == 0)

            var refused: [Range<Int>] = []
            for start in stride(from: 0, to: Self.fleet.count, by: 10) {
                let goals = start..<start + 10
                let answer = try await stack.postAnswer(Self.fleet.webhook("channel_vacated", goals: goals, at: t + 400))
                if answer.status == 503 {
                    #expect(answer.retryAfter == "30")
                    #expect(answer.body.contains("tracking") && answer.body.contains("bus.backlog.limit"), "\(answer.body)")
                    refused.append(goals)
                } else {
                    #expect(answer.status == 200, "\(answer.body)")
                }
                // The monitor measures once a second.
                try await Task.sleep(for: .milliseconds(1300))
            }
            #expect(refused.count >= 2, "webhooks past the limit are refused: \(refused)")
            let (ready, readyBody) = try await stack.get("/ready")
            #expect(ready == 503)
            #expect(readyBody.contains("backlogged") && readyBody.contains("group tracking"), "\(readyBody)")
            let stored = try await integer(redis, "XLEN", "signal:channel_vacated")
            #expect(stored == Self.fleet.count - 10 * refused.count, "a refused webhook stores nothing")

            // tracking comes back and catches up; the gateway takes webhooks again, and Pusher's retries land.
            try stack.launch("tracking")
            try await stack.waitFor("the gateway to be ready again", timeout: .seconds(30)) {
                (try? await stack.get("/ready"))?.0 == 200
            }
            for goals in refused {
                try await stack.postUntilAccepted(Self.fleet.webhook("channel_vacated", goals: goals, at: t + 400))
            }
            try await eventually("every group to settle", within: .seconds(60)) {
                try await isSettled(redis, Catalogue.groups().flatMap { group in group.topics.map { ($0.key, group.name) } })
            }
            for stream in ["signal:channel_vacated", "task:increment_goal_progress", "signal:goal.ended"] {
                #expect(try await integer(redis, "XLEN", stream) == Self.fleet.count, "\(stream) holds one entry per goal")
            }
            for index in 0..<Self.fleet.count {
                let goal = try await hashFields(redis, "goal:{bp-\(index)}")
                #expect(goal["progress"] == "400" && goal["active"] == "0", "bp-\(index): \(goal)")
            }
            let counters = try await hashFields(redis, "tracking:counters")
            #expect(counters["goal.ended"] == String(Self.fleet.count), "tracking lost nothing while it was down")
        }
    }
}
