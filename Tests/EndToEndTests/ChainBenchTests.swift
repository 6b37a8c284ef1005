import Foundation
import Redis
import RedisTestSupport
import Testing

@Suite("End to end: the load generator")
struct ChainBenchEndToEndTests {
    @Test("goalctl bench chains drives goals through the real stack, checks every one and reports the run as JSON")
    func benchAgainstTheStack() async throws {
        try await Stack.with { stack in
            let report = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).json").path
            defer { try? FileManager.default.removeItem(atPath: report) }
            let (status, output) = try await stack.goalctl([
                "bench", "chains", "--goals", "60", "--concurrency", "16", "--connections", "2",
                "--events-per-webhook", "3", "--report", report,
            ])
            #expect(status == 0, "goalctl bench chains failed:\n\(output)")
            #expect(output.contains("verified: every goal ended once"))
            let data = try Data(contentsOf: URL(fileURLWithPath: report))
            let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(json["verified"] as? Bool == true)
            #expect(json["goals"] as? Int == 60)
            #expect((json["chainsPerSecond"] as? Double ?? 0) > 0)
            #expect((json["webhooksPerSecond"] as? Double ?? 0) > 0)
            #expect((json["redisCommandsPerChain"] as? Double ?? 0) > 10)
            let cpu = json["cpuMsPerChain"] as? [String: Double] ?? [:]
            for service in ["gateway", "karaoke", "goals", "sessions", "escrow", "tracking", "redis-server", "total"] {
                #expect(cpu[service] != nil, "CPU of \(service) reported")
            }
            // 17 deliveries per chain: karaoke 1, goals 5, sessions 4, escrow 3, tracking 4; one event stored per goal.
            let deliveries = json["deliveries"] as? [String: Int] ?? [:]
            #expect(deliveries == ["gateway": 60, "karaoke": 60, "goals": 300, "sessions": 240, "escrow": 180, "tracking": 240])
            let perDelivery = json["cpuMicrosecondsPerDelivery"] as? [String: Double] ?? [:]
            #expect(Set(perDelivery.keys) == Set(deliveries.keys))
            let latency = json["latencyMs"] as? [String: Double] ?? [:]
            #expect(Set(latency.keys) == ["p50", "p90", "p99", "p99.9", "max"])
            #expect((latency["p50"] ?? 0) <= (latency["max"] ?? 0))
            // 60 goals vacated 3 to a webhook: 20 webhooks.
            let redis = stack.client()
            #expect(try await redis.execute("XLEN", "signal:goal.ended").int == 60)
            #expect(try await redis.execute("HGET", "tracking:counters", "channel_vacated").string == "60")
        }
    }
}
