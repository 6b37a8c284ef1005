import Foundation
import Notifier
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("The notifier on a Redis Cluster")
struct ClusterNotifierTests {
    @Test("on a 3x2 cluster an entry is delivered and acknowledged, and a 400 moves to dead:{outbox:pusher} with its error")
    func deliversAndDeadLettersOnCluster() async throws {
        try await withRedisCluster { cluster in
            try await PusherStub.with { stub in
                let redis = try cluster.clusterClient()
                stub.plan([PlannedAnswer(status: 200, body: "{}"), PlannedAnswer(status: 400, body: "channel name too long")])
                try await appendOutbox(redis, channel: "presence-enc-goal@g-1", event: "goal-ended", data: #"{"goal_id":"g-1"}"#)
                let refused = try await appendOutbox(redis, channel: "presence-enc-goal@g-2", event: "goal-ended", data: #"{"goal_id":"g-2"}"#)
                let endpoint = RedisEndpoint.cluster(seeds: cluster.seeds)
                try await withNotifier(PusherNotifier(configuration: fastConfiguration(stub), redis: endpoint, logger: testLogger)) {
                    try await eventually("both entries to be settled") {
                        // The notifier creates its group when it starts.
                        let pending = (try? await pendingCount(redis)) ?? -1
                        let dead = try await redis.execute("XLEN", "dead:{outbox:pusher}").int
                        return stub.received.count == 2 && pending == 0 && dead == 1
                    }
                }
                #expect(stub.received.map(\.status) == [200, 400])
                #expect(stub.received.compactMap(\.event?.channels.first) == ["presence-enc-goal@g-1", "presence-enc-goal@g-2"])
                let dead = try await outboxEntries(redis, "dead:{outbox:pusher}")
                #expect(dead.count == 1)
                #expect(dead.first?.fields["dead.entry"] == refused)
                #expect(dead.first?.fields["dead.group"] == "notifier")
                #expect(dead.first?.fields["dead.error"]?.contains("400") == true)
                #expect(dead.first?.fields["dead.error"]?.contains("channel name too long") == true)
                #expect(dead.first?.fields["channel"] == "presence-enc-goal@g-2")
                #expect(try await redis.execute("HLEN", "errors:notifier:{outbox:pusher}").int == 0)
                #expect(try await redis.execute("XPENDING", "outbox:pusher", "notifier").array?.first?.int == 0)
            }
        }
    }
}
