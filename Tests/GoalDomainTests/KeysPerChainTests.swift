import GoalDomain
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("What a completed chain keeps in Redis")
struct KeysPerChainTests {
    @Test("untraced chains keep the goal's hashes, its presence set and watermark, and the webhooks' retry keys: nothing per delivery")
    func keysPerChain() async throws {
        try await withRedisServer { server in
            let client = server.client()
            var bus = fastConfiguration()
            bus.traceSample = 0
            let goals = 20
            for index in 0..<goals {
                var spec = referenceSpec(id: "k\(index)")
                spec.sessionID = "s\(index)"
                try await GoalStore(redis: client).create(spec)
            }
            let publisher = Publisher(redis: client, configuration: bus)
            let fixed = try await allKeys(client).filter { !$0.hasPrefix("goal:") && !$0.hasPrefix("session:") && !$0.hasPrefix("escrow:{") }
            try await withFlow(server, configuration: bus) {
                for index in 0..<goals {
                    let channel = GoalChannel.channel(of: "k\(index)")
                    _ = try await publisher.publish([
                        webhook(Topics.channelOccupied, id: "occ-\(index)", at: T, channel: channel).retried(),
                        webhook(Topics.memberAdded, id: "add-\(index)", at: T, channel: channel).retried(),
                        webhook(Topics.channelVacated, id: "vac-\(index)", at: T + 400, channel: channel).retried(),
                    ])
                }
                try await waitSettled(client)
            }
            for index in 0..<goals {
                #expect(try await client.execute("HGET", "goal:{k\(index)}", "active").string == "0", "k\(index) ended")
            }
            let keys = try await allKeys(client)
            #expect(keys.filter { $0.hasPrefix("done:") || $0.hasPrefix("trace") || $0.hasPrefix("heartbeat:") } == [])
            let perGoal = Set(keys).subtracting(fixed).filter { !$0.hasPrefix("signal:") && !$0.hasPrefix("task:") && !$0.hasPrefix("tracking:") && !$0.hasPrefix("outbox:") }
            var expected: Set<String> = []
            for index in 0..<goals {
                expected.formUnion([
                    "goal:{k\(index)}", "session:{s\(index)}", "escrow:{k\(index)}", "presence:presence-enc-goal@k\(index)",
                    "presence:presence-enc-goal@k\(index):seen",
                    "webhook:event:occ-\(index)", "webhook:event:add-\(index)", "webhook:event:vac-\(index)",
                ])
            }
            #expect(perGoal == expected, "per goal: its hashes, its presence set and watermark, one retry key per webhook event")
            #expect(perGoal.count == 8 * goals)
        }
    }
}

extension OutgoingMessage {
    /// The message with the gateway's retry key (`webhook:event:<id>`).
    func retried() -> OutgoingMessage {
        var message = self
        message.dedupKey = "webhook:event:\(id)"
        return message
    }
}
