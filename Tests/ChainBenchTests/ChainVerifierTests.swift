@testable import ChainBench
import GoalDomain
import Redis
import RedisTestSupport
import Testing

/// The verifier is what makes a wrong run report failure instead of a number: each kind of wrong result
/// must be named.
@Suite("Bench: the verifier of a run")
struct ChainVerifierTests {
    static let started: Int64 = 1_764_000_000

    /// Stores `count` goals and writes the state a complete chain leaves, except what `spoil` changes.
    private func endedGoals(_ client: RedisClient, count: Int, spoil: (Int) -> [RedisCommand] = { _ in [] }) async throws -> ChainVerifier {
        try await GoalSeeder.seed(client, prefix: "v", count: count, started: Self.started) { _ in }
        let end = Int(Self.started + 400)
        for number in 0..<count {
            let viewer = "v\(number)"
            var commands = [
                RedisCommand("HSET", Keys.goal("v-\(number)"), "progress", "400", "level", "1", "active", "0", "exp", end),
                RedisCommand(
                    "HSET", Keys.session("s-v-\(number)"), "viewers.\(viewer).duration", "400", "viewers.\(viewer).exp", end,
                    "viewers.\(viewer).nbf", Int(Self.started), "exclusive_goal_pairs.\(viewer).exclusive_goal_ended", end
                ),
                RedisCommand("HDEL", Keys.session("s-v-\(number)"), "status.exclusive_to"),
            ]
            commands += spoil(number)
            let replies = try await client.pipeline(commands)
            #expect(replies.allSatisfy { $0.errorMessage == nil })
        }
        return ChainVerifier(client: client, prefix: "v", goals: count, started: Self.started)
    }

    private func allStreams(_ count: Int) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: ChainVerifier.streams.map { ($0, count) })
    }

    @Test("a complete run has no problems")
    func completeRun() async throws {
        try await withRedisServer { server in
            let verifier = try await endedGoals(server.client(), count: 20)
            let problems = try await verifier.problems(entriesAdded: allStreams(20), endedCounts: Array(repeating: 1, count: 20), trackedEnded: 20)
            #expect(problems == [])
        }
    }

    @Test("wrong progress, a refunded escrow and a session left paired are each named")
    func wrongState() async throws {
        try await withRedisServer { server in
            let verifier = try await endedGoals(server.client(), count: 10) { number in
                switch number {
                case 3: [RedisCommand("HSET", Keys.goal("v-3"), "progress", "399")]
                case 5: [RedisCommand("HSET", Keys.escrow("v-5"), "state", "refunded")]
                case 7: [RedisCommand("HSET", Keys.session("s-v-7"), "status.exclusive_to", "v7")]
                default: []
                }
            }
            let problems = try await verifier.problems(entriesAdded: allStreams(10), endedCounts: Array(repeating: 1, count: 10), trackedEnded: 10)
            #expect(problems.count == 1)
            let text = problems.joined()
            #expect(text.hasPrefix("3 wrong hashes"))
            #expect(text.contains("goal of v-3: [\"399\""))
            #expect(text.contains("session of v-7"))
            #expect(text.contains("escrow of v-5: [\"refunded\"]"))
        }
    }

    @Test("a missing or doubled goal.ended, a stream short of entries and a wrong tracking count are each named")
    func wrongCounts() async throws {
        try await withRedisServer { server in
            let verifier = try await endedGoals(server.client(), count: 4)
            var entries = allStreams(4)
            entries["task:StartSnapshot"] = 3
            let problems = try await verifier.problems(entriesAdded: entries, endedCounts: [1, 0, 2, 1], trackedEnded: 5)
            #expect(problems == [
                "task:StartSnapshot received 3 entries for 4 goals",
                "tracking counted 5 goal.ended for 4 goals",
                "1 goals never published goal.ended (first: v-1)",
                "1 goals published goal.ended more than once (first: v-2)",
            ])
        }
    }
}
