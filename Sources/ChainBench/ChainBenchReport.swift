import Foundation

/// The figures of one benchmark run, printed as a table and written as JSON.
public struct ChainBenchReport: Codable, Sendable {
    /// How the webhooks were paced.
    public var pace: String
    /// Goals driven through the chain.
    public var goals: Int
    /// Goals stored in Redis during the run (the run's own and preloaded idle ones).
    public var storedGoals: Int
    /// From the first webhook sent to the last goal.ended seen, seconds.
    public var seconds: Double
    /// Complete chains per second over ``seconds``.
    public var chainsPerSecond: Double
    /// Webhooks per second over ``seconds``.
    public var webhooksPerSecond: Double
    /// Webhook sent (or scheduled) to goal.ended seen, milliseconds: p50, p90, p99, p99.9, max.
    public var latencyMs: [String: Double]
    /// Redis commands per chain (scripts' inner commands included), the benchmark's own taken out.
    public var redisCommandsPerChain: Double
    /// The same by command, largest first.
    public var redisCommandsByName: [String: Double]
    /// Redis's own microseconds per chain by command, from `INFO commandstats`: a script's time
    /// (`evalsha`) includes the commands it called, which are also counted under their own names.
    public var redisMicrosecondsByName: [String: Double]
    /// CPU milliseconds per chain, per process name (replicas summed) and `total` (the load generator excluded).
    public var cpuMsPerChain: [String: Double]
    /// What each process handled in the run: per receiver group (by its name, replicas together) the
    /// deliveries it read from its streams, and under `gateway` the webhook events it stored.
    public var deliveries: [String: Int]
    /// CPU microseconds per delivery of ``deliveries``, per the same names: what one delivery costs its group
    /// (and one stored event the gateway), everything the process did in the run included.
    public var cpuMicrosecondsPerDelivery: [String: Double]
    /// Peak resident memory per process name (the largest replica), MiB.
    public var peakRSSMiB: [String: Double]
    /// Redis memory per stored goal with its session and escrow, bytes.
    public var redisBytesPerGoal: Double
    /// Redis memory per completed chain once every group caught up and the streams were trimmed, the goal's
    /// own hashes included, bytes.
    public var redisBytesPerChain: Double
    /// Keys per completed chain, measured the same way.
    public var redisKeysPerChain: Double
    /// Whether every goal ended exactly once with exact progress and every side-effect.
    public var verified: Bool
    /// What was wrong, when not verified.
    public var problems: [String]

    /// The report as an aligned table.
    public var table: String {
        func number(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }
        var lines = [
            "pace                      \(pace)",
            "goals                     \(goals) (\(storedGoals) stored)",
            "result                    \(verified ? "verified: every goal ended once, exact progress, every side-effect" : "WRONG: " + problems.joined(separator: "; "))",
            "chains/s                  \(number(chainsPerSecond)) (\(number(seconds, 2)) s)",
            "webhooks/s                \(number(webhooksPerSecond))",
            "latency ms                " + ["p50", "p90", "p99", "p99.9", "max"].map { "\($0) \(number(latencyMs[$0] ?? 0, 1))" }.joined(separator: "  "),
            "redis commands/chain      \(number(redisCommandsPerChain, 1))",
            "  by command              " + redisCommandsByName.sorted { $0.value > $1.value }.prefix(8)
                .map { "\($0.key) \(number($0.value, 1))" }.joined(separator: ", "),
            "  µs in redis by command  " + redisMicrosecondsByName.sorted { $0.value > $1.value }.prefix(8)
                .map { "\($0.key) \(number($0.value, 1))" }.joined(separator: ", "),
            "cpu ms/chain              total \(number(cpuMsPerChain["total"] ?? 0, 3))",
        ]
        for (name, value) in cpuMsPerChain.sorted(by: { $0.key < $1.key }) where name != "total" {
            var line = "  " + name.padding(toLength: 24, withPad: " ", startingAt: 0) + number(value, 3) + "   peak RSS \(number(peakRSSMiB[name] ?? 0, 1)) MiB"
            if let perDelivery = cpuMicrosecondsPerDelivery[name], let count = deliveries[name] {
                let unit = name == DeliveryCount.gateway ? "event stored" : "delivery"
                line += "   \(number(perDelivery, 1)) µs/\(unit) (\(count))"
            }
            lines.append(line)
        }
        lines.append("redis bytes/stored goal   \(number(redisBytesPerGoal)) (goal + session + escrow)")
        lines.append("redis bytes/chain         \(number(redisBytesPerChain)), keys/chain \(number(redisKeysPerChain, 2)) (all a chain leaves, its goal included)")
        return lines.joined(separator: "\n")
    }
}
