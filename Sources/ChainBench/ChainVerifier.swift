import GoalDomain
import Redis

/// Checks that every goal of a run ended with exact progress and every side-effect of goal.ended, and
/// that each stream of the chain received exactly one entry per goal.
struct ChainVerifier {
    let client: any RedisCommandRunner
    let prefix: String
    let goals: Int
    let started: Int64

    /// The streams a chain writes one entry to, per goal.
    static let streams = [
        "signal:channel_vacated", "task:increment_goal_progress", "signal:goal.progressed", "signal:goal.completed",
        "task:deactivate_goal", "signal:goal.ended", "task:StartSnapshot", Keys.pusherOutbox,
    ]

    /// What is wrong, at most a few examples per kind; empty when the run is right.
    func problems(entriesAdded: [String: Int], endedCounts: [UInt8], trackedEnded: Int) async throws -> [String] {
        var problems: [String] = []
        for stream in Self.streams where entriesAdded[stream] != goals {
            problems.append("\(stream) received \(entriesAdded[stream] ?? 0) entries for \(goals) goals")
        }
        if trackedEnded != goals { problems.append("tracking counted \(trackedEnded) goal.ended for \(goals) goals") }
        let missing = endedCounts.indices.filter { endedCounts[$0] == 0 }
        let doubled = endedCounts.indices.filter { endedCounts[$0] > 1 }
        if !missing.isEmpty { problems.append("\(missing.count) goals never published goal.ended (first: \(prefix)-\(missing[0]))") }
        if !doubled.isEmpty { problems.append("\(doubled.count) goals published goal.ended more than once (first: \(prefix)-\(doubled[0]))") }

        let end = String(started + 400)
        let expected: [(String, [String?])] = [
            ("goal", ["400", "1", "0", end]),
            ("session", ["400", end, String(started), end, nil]),
            ("escrow", ["held"]),
        ]
        var wrong: [String] = []
        var wrongCount = 0
        var first = 0
        while first < goals {
            let last = min(first + 500, goals)
            var commands: [RedisCommand] = []
            for number in first..<last {
                let id = "\(prefix)-\(number)"
                let viewer = "v\(number)"
                commands.append(RedisCommand("HMGET", Keys.goal(id), "progress", "level", "active", "exp"))
                commands.append(RedisCommand(
                    "HMGET", Keys.session("s-\(id)"), "viewers.\(viewer).duration", "viewers.\(viewer).exp", "viewers.\(viewer).nbf",
                    "exclusive_goal_pairs.\(viewer).exclusive_goal_ended", "status.exclusive_to"
                ))
                commands.append(RedisCommand("HMGET", Keys.escrow(id), "state"))
            }
            let replies = try await client.pipeline(commands)
            for (offset, reply) in replies.enumerated() {
                let (what, want) = expected[offset % 3]
                let got = reply.array?.map(\.string) ?? []
                if got != want {
                    wrongCount += 1
                    if wrong.count < 3 { wrong.append("\(what) of \(prefix)-\(first + offset / 3): \(got.map { $0 ?? "nil" }) instead of \(want.map { $0 ?? "nil" })") }
                }
            }
            first = last
        }
        if wrongCount > 0 { problems.append("\(wrongCount) wrong hashes, e.g. " + wrong.joined(separator: "; ")) }
        return problems
    }
}
