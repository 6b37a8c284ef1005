import Foundation
import Redis
import RedisTestSupport
import Testing

@Suite("End to end: goalctl trace, sampled and on demand")
struct TraceCommandTests {
    @Test("a goal outside the sample is explained with what the streams hold; traced on demand, its next chain is drawn whole")
    func untracedThenOnDemand() async throws {
        try await Stack.with(extraEnvironment: ["TRACE_SAMPLE": "0"]) { stack in
            let redis = stack.client()
            let created = try await stack.goalctl(["goal", "create", "tr-1", "--target", "1000"])
            #expect(created.status == 0, "\(created.output)")
            let t = Int64(Date().timeIntervalSince1970) - 100
            #expect(try await stack.post(Stack.body("channel_occupied", goal: "tr-1", atSeconds: t)).0 == 200)
            #expect(try await stack.post(Stack.body("channel_vacated", goal: "tr-1", atSeconds: t + 10)).0 == 200)
            try await stack.waitFor("the progress") { try await redis.execute("HGET", "goal:{tr-1}", "progress").string == "10" }
            try await stack.waitFor("every group to settle") {
                try await isSettled(redis, [("signal:goal.progressed", "tracking"), ("signal:goal.progressed", "escrow"), ("signal:goal.progressed", "sessions")])
            }
            #expect(try await redis.execute("KEYS", "trace:*").array?.isEmpty == true, "an unsampled chain writes no trace")

            let untraced = try await stack.goalctl(["trace", "tr-1"])
            #expect(untraced.status == 0)
            #expect(untraced.output.contains("no traced chain of goal tr-1"), "\(untraced.output)")
            for stream in ["signal:channel_occupied", "signal:channel_vacated", "task:increment_goal_progress", "signal:goal.progressed"] {
                #expect(untraced.output.contains(stream), "the streams' entries are listed: \(stream)\n\(untraced.output)")
            }
            #expect(untraced.output.contains("goalctl goal trace tr-1 on"))

            let on = try await stack.goalctl(["goal", "trace", "tr-1", "on"])
            #expect(on.status == 0, "\(on.output)")
            #expect(try await redis.execute("HGET", "goal:{tr-1}", "trace").string == "1")
            #expect(try await stack.post(Stack.body("channel_occupied", goal: "tr-1", atSeconds: t + 20)).0 == 200)
            #expect(try await stack.post(Stack.body("channel_vacated", goal: "tr-1", atSeconds: t + 30)).0 == 200)
            try await stack.waitFor("the second progress") { try await redis.execute("HGET", "goal:{tr-1}", "progress").string == "20" }
            try await stack.waitFor("the chain's trace") {
                let output = try await stack.goalctl(["trace", "tr-1"]).output
                return output.contains("track_goals [tracking]") && output.contains("invalidate_cached_pusher_channel_data [sessions]")
            }
            let traced = try await stack.goalctl(["trace", "tr-1"])
            for step in ["Signal `channel_vacated`", "karaoke_control [karaoke]", "track_channel_presence [tracking]", "Task `increment_goal_progress`",
                         "Signal `goal.progressed`", "HINCRBY goal:{tr-1} progress 10"] {
                #expect(traced.output.contains(step), "goalctl trace shows \(step):\n\(traced.output)")
            }
            let off = try await stack.goalctl(["goal", "trace", "tr-1", "off"])
            #expect(off.status == 0)
            #expect(try await redis.execute("HEXISTS", "goal:{tr-1}", "trace").int == 0)
            let missing = try await stack.goalctl(["goal", "trace", "nope", "on"])
            #expect(missing.status != 0 && missing.output.contains("no goal nope"), "\(missing.output)")
        }
    }
}
