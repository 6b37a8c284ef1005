@testable import ChainBench
import GoalDomain
import Redis
import RedisTestSupport
import SignalBus
import Testing

/// CPU per delivery is only as right as the count it divides by: each group's deliveries are read from
/// `XINFO GROUPS` on every stream it reads, and a count Redis cannot tell must give no figure, not a wrong one.
@Suite("Bench: deliveries per group and CPU per delivery")
struct DeliveryCountTests {
    /// Adds `count` entries to `stream`.
    private func add(_ client: RedisClient, _ stream: String, _ count: Int) async throws {
        let replies = try await client.pipeline((0..<count).map { RedisCommand("XADD", stream, "*", "n", $0) })
        #expect(replies.allSatisfy { $0.errorMessage == nil })
    }

    /// Reads up to `count` new entries of `stream` as `group`.
    private func read(_ client: RedisClient, _ stream: String, as group: String, _ count: Int) async throws {
        _ = try await client.execute("XREADGROUP", "GROUP", group, "c", "COUNT", count, "STREAMS", stream, ">").checked()
    }

    @Test("entries-read is taken per group from a real XINFO GROUPS reply: 0 before the first read, an unknown count left out")
    func parsesEntriesRead() async throws {
        try await withRedisServer { server in
            let client = server.client()
            for group in ["a", "b", "c", "d"] {
                _ = try await client.execute("XGROUP", "CREATE", "s", group, "0", "MKSTREAM").checked()
            }
            try await add(client, "s", 5)
            try await read(client, "s", as: "a", 3)
            try await read(client, "s", as: "b", 5)
            // Without ENTRIESREAD, Redis no longer knows how many entries the group has read.
            _ = try await client.execute("XGROUP", "SETID", "s", "c", "$").checked()
            _ = try await client.execute("XGROUP", "CREATE", "empty", "e", "0", "MKSTREAM").checked()
            let counts = DeliveryCount.entriesRead(try await client.execute("XINFO", "GROUPS", "s"))
            // d has read nothing yet: Redis gives it no entries-read, but its last-delivered-id is 0-0.
            #expect(counts == ["a": 3, "b": 5, "d": 0])
            #expect(DeliveryCount.entriesRead(try await client.execute("XINFO", "GROUPS", "empty")) == ["e": 0])
        }
    }

    @Test("a group's reading sums its streams; a group absent from one of them gets none")
    func readingSumsStreams() {
        func groups(_ entries: [(String, Int?)]) -> RedisValue {
            RedisValue.array(entries.map { name, read -> RedisValue in
                let count = read.map(RedisValue.integer) ?? .null
                return .array([.bulk(Array("name".utf8)), .bulk(Array(name.utf8)), .bulk(Array("entries-read".utf8)), count])
            })
        }
        let replies = [
            "s1": groups([("goals", 10), ("sessions", 4), ("tracking", nil)]),
            "s2": groups([("goals", 7), ("tracking", 2)]),
        ]
        let reading = DeliveryCount.reading(
            groupStreams: ["goals": ["s1", "s2"], "sessions": ["s1", "s2"], "tracking": ["s1", "s2"], "escrow": ["s1"]], replies: replies
        )
        #expect(reading == ["goals": 17])
    }

    @Test("deliveries are after minus before; CPU per delivery in microseconds, only where both are known")
    func arithmetic() {
        let deliveries = DeliveryCount.delta(before: ["goals": 100, "sessions": 50, "gateway": 0], after: ["goals": 4_100, "sessions": 50, "gateway": 2_000, "escrow": 9])
        #expect(deliveries == ["goals": 4_000, "sessions": 0, "gateway": 2_000])
        let perDelivery = DeliveryCount.microsecondsPerDelivery(
            cpuSeconds: ["goals": 0.1, "sessions": 0.2, "gateway": 0.05, "redis-server": 1], deliveries: deliveries
        )
        #expect(perDelivery.count == 2)
        #expect(abs((perDelivery["goals"] ?? 0) - 25) < 1e-9)
        #expect(abs((perDelivery["gateway"] ?? 0) - 25) < 1e-9)
    }

    @Test("the probe counts each group's deliveries over every stream it reads, and the gateway's stored events")
    func probeReading() async throws {
        try await withRedisServer { server in
            let client = server.client()
            let groupStreams = DeliveryCount.groupStreams(BusConfiguration())
            for (group, streams) in groupStreams {
                for stream in streams {
                    _ = try await client.execute("XGROUP", "CREATE", stream, group, "0", "MKSTREAM").checked()
                }
            }
            var probe = RedisProbe(client: client, masters: [client], partitions: 0)
            let before = try await probe.deliveryReading()
            #expect(Set(before.keys) == Set(groupStreams.keys).union([DeliveryCount.gateway]))

            // goal.ended is read by several groups: each reads it once; goals alone also reads its task stream.
            try await add(client, Topics.goalEnded.key, 4)
            try await add(client, Topics.channelVacated.key, 3)
            let readers = groupStreams.filter { $0.value.contains(Topics.goalEnded.key) }.map(\.key)
            #expect(readers.count > 1)
            for group in readers { try await read(client, Topics.goalEnded.key, as: group, 10) }
            let karaoke = try #require(groupStreams["karaoke"])
            #expect(karaoke.contains(Topics.channelVacated.key))
            try await read(client, Topics.channelVacated.key, as: "karaoke", 2)

            let deliveries = DeliveryCount.delta(before: before, after: try await probe.deliveryReading())
            for group in groupStreams.keys {
                let expected = (readers.contains(group) ? 4 : 0) + (group == "karaoke" ? 2 : 0)
                #expect(deliveries[group] == expected, "\(group)")
            }
            #expect(deliveries[DeliveryCount.gateway] == 3)
        }
    }
}
