import GoalDomain
import Redis

/// Stores the benchmark's goals, each with its session pair and escrow hold, in pipelines.
enum GoalSeeder {
    /// The goal `<prefix>-<n>`: target 360 s, timer started at `started`, session `s-<prefix>-<n>`, viewer `v<n>`.
    static func spec(prefix: String, number: Int, started: Int64) -> GoalSpec {
        var spec = GoalSpec(id: "\(prefix)-\(number)")
        spec.sessionID = "s-\(prefix)-\(number)"
        spec.viewer = "v\(number)"
        spec.amount = 100
        spec.payee = "creator"
        spec.started = started
        return spec
    }

    /// Stores goals `0..<count` of `prefix`, 500 goals per pipeline; `progress` hears about every 100,000.
    static func seed(
        _ client: any RedisCommandRunner, prefix: String, count: Int, started: Int64, progress: @Sendable (String) -> Void
    ) async throws {
        var first = 0
        while first < count {
            let last = min(first + 500, count)
            var commands: [RedisCommand] = []
            for number in first..<last {
                commands += try GoalStore.commands(creating: spec(prefix: prefix, number: number, started: started))
            }
            let replies = try await client.pipeline(commands)
            if let failure = replies.compactMap(\.errorMessage).first {
                throw ChainBenchError("storing the benchmark's goals failed: \(failure)")
            }
            if last / 100_000 > first / 100_000 { progress("stored \(last) of \(count) goals (\(prefix))") }
            first = last
        }
    }
}
