import Foundation
import Redis
import RedisTestSupport
import Testing

@Suite("End to end: goalctl top on a Redis Cluster")
struct TopClusterTests {
    @Test("top reads every partition's streams through the cluster client and every master's memory")
    func topOnCluster() async throws {
        try await withRedisCluster { cluster in
            try await Stack.with(extraEnvironment: ["BUS_PARTITIONS": "4"], cluster: cluster) { stack in
                let redis = try stack.runner()
                let created = try await stack.goalctl(["goal", "create", "tc-1", "--target", "5"])
                #expect(created.status == 0, "\(created.output)")
                let t = Int64(Date().timeIntervalSince1970) - 12
                try await stack.postUntilAccepted(Stack.body("channel_occupied", goal: "tc-1", atSeconds: t))
                try await stack.postUntilAccepted(Stack.body("channel_vacated", goal: "tc-1", atSeconds: t + 10))
                try await stack.waitFor("tc-1 to end") { try await redis.execute("HGET", "goal:{tc-1}", "active").string == "0" }

                let top = try #require(try await stack.goalctlJSON(["top", "--interval", "0.5"]) as? [String: Any])
                let streams = (top["streams"] as? [[String: Any]] ?? []).compactMap { $0["stream"] as? String }
                #expect(streams.filter { $0.hasPrefix("signal:goal.ended:{") }.count == 4, "goal.ended in each of 4 partitions: \(streams)")
                let ended = (top["streams"] as? [[String: Any]] ?? []).filter { ($0["stream"] as? String ?? "").hasPrefix("signal:goal.ended:{") }
                #expect(ended.compactMap { $0["length"] as? Int }.reduce(0, +) == 1)
                #expect((top["chains"] as? [String: Any])?["samples"] as? Int == 1)
                let memory = top["memory"] as? [String: Any] ?? [:]
                #expect(memory["servers"] as? Int == 3, "INFO memory of each of the 3 masters")
                #expect((memory["used_bytes"] as? Int ?? 0) > 0)
                let groups = top["groups"] as? [[String: Any]] ?? []
                #expect(groups.map { $0["group"] as? String } == ["escrow", "goals", "karaoke", "sessions", "tracking"])
                #expect(groups.allSatisfy { ($0["consumers_alive"] as? Int ?? 0) >= 1 })
            }
        }
    }
}
