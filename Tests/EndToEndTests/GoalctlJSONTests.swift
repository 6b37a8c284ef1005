import Foundation
import Redis
import RedisTestSupport
import Testing

@Suite("End to end: every goalctl command answers --json")
struct GoalctlJSONTests {
    /// The keys of a JSON object.
    func keys(_ value: Any?) -> Set<String> {
        Set((value as? [String: Any])?.keys.map { $0 } ?? [])
    }

    @Test("goal create/trace/show/end, webhook, trace, lag, dead list/replay and top print one JSON value each with the documented keys")
    func operatorCommands() async throws {
        try await Stack.with { stack in
            let redis = stack.client()
            let created = try await stack.goalctlJSON(["goal", "create", "js-1", "--target", "5", "--session", "js-s", "--viewer", "v1", "--amount", "100"])
            #expect(keys(created) == ["goals", "class", "targets"])
            #expect((created as? [String: Any])?["goals"] as? [String] == ["js-1"])
            #expect((created as? [String: Any])?["targets"] as? [Int] == [5])
            let many = try await stack.goalctlJSON(["goal", "create", "js-many", "--count", "3", "--target", "1000"])
            #expect((many as? [String: Any])?["goals"] as? [String] == ["js-many-1", "js-many-2", "js-many-3"])
            #expect(try await redis.execute("EXISTS", "goal:{js-many-3}").int == 1)

            let traced = try await stack.goalctlJSON(["goal", "trace", "js-1", "on"]) as? [String: Any]
            #expect(traced?["goal_id"] as? String == "js-1")
            #expect(traced?["traced"] as? Bool == true)

            let t = Int64(Date().timeIntervalSince1970) - 20
            let occupied = try await stack.goalctlJSON(["webhook", "occupy", "js-1", "--at", String(t)]) as? [String: Any]
            #expect(Set(occupied?.keys.map { $0 } ?? []) == ["event", "channel", "time_ms", "status", "response"])
            #expect(occupied?["status"] as? Int == 200)
            #expect(occupied?["channel"] as? String == "presence-enc-goal@js-1")
            #expect(occupied?["time_ms"] as? Int == Int(t) * 1000)
            _ = try await stack.goalctlJSON(["webhook", "vacate", "js-1", "--at", String(t + 10)])
            try await stack.waitFor("js-1 to end") { try await redis.execute("HGET", "goal:{js-1}", "active").string == "0" }

            let shown = try await stack.goalctlJSON(["goal", "show", "js-1"]) as? [String: Any]
            #expect(Set(shown?.keys.map { $0 } ?? []) == ["goal", "session", "escrow"])
            #expect((shown?["goal"] as? [String: String])?["progress"] == "10")
            #expect((shown?["escrow"] as? [String: String])?["amount"] == "100")

            try await stack.waitFor("js-1's chain to be traced to its end") {
                let chains = (try await stack.goalctlJSON(["trace", "js-1"]) as? [String: Any])?["chains"] as? [[String: Any]] ?? []
                let records = chains.flatMap { $0["records"] as? [[String: Any]] ?? [] }
                return records.contains { $0["receiver"] as? String == "notify_goal_ended" }
            }
            let trace = try await stack.goalctlJSON(["trace", "js-1"]) as? [String: Any]
            #expect(Set(trace?.keys.map { $0 } ?? []) == ["goal", "chains", "entries"])
            let chains = try #require(trace?["chains"] as? [[String: Any]])
            #expect(chains.count == 2, "the occupy's chain and the vacate's")
            #expect(chains.allSatisfy { Set($0.keys) == ["trace", "records"] })
            let records = chains.flatMap { $0["records"] as? [[String: Any]] ?? [] }
            #expect(records.contains { $0["receiver"] as? String == "karaoke_control" && $0["acted"] as? Bool == true })
            #expect(records.allSatisfy { ["at_ms", "signal", "receiver", "group", "acted", "reason", "writes", "published"].allSatisfy($0.keys.contains) })
            let untraced = try await stack.goalctlJSON(["trace", "js-many-1"]) as? [String: Any]
            #expect((untraced?["chains"] as? [Any])?.isEmpty == true)
            #expect(untraced?["entries"] is [Any])

            let ended = try await stack.goalctlJSON(["goal", "end", "js-many-2"]) as? [String: Any]
            #expect(Set(ended?.keys.map { $0 } ?? []) == ["goal_id", "message_id", "stream"])
            #expect(ended?["stream"] as? String == "task:deactivate_goal")
            try await stack.waitFor("js-many-2 to end") { try await redis.execute("HGET", "goal:{js-many-2}", "active").string == "0" }

            // A dead letter of tracking's, as a consumer leaves one after its last delivery.
            let goalEnded = try #require(try await streamEntries(redis, "signal:goal.ended").first)
            try await redis.execute(RedisCommand("XADD", arguments: ["dead:signal:goal.ended", "*"] + goalEnded.fields
                + ["dead.group", "tracking", "dead.entry", goalEnded.entryID, "dead.deliveries", "5", "dead.error", "boom"]))
            let dead = try await stack.goalctlJSON(["dead", "list"]) as? [[String: Any]]
            #expect(dead?.count == 1)
            #expect(keys(dead?.first) == ["dead_stream", "entry", "stream", "group", "deliveries", "message", "error"])
            #expect(dead?.first?["group"] as? String == "tracking")
            #expect(dead?.first?["error"] as? String == "boom")
            let replayed = try await stack.goalctlJSON(["dead", "replay", "signal:goal.ended"]) as? [String: Any]
            #expect(replayed?["replayed"] as? Int == 1)
            #expect((try await stack.goalctlJSON(["dead", "list"]) as? [Any])?.isEmpty == true)

            try await stack.waitFor("every group to settle") {
                let rows = try await stack.goalctlJSON(["lag"]) as? [[String: Any]] ?? []
                return !rows.isEmpty && rows.allSatisfy { $0["lag"] as? Int == 0 && $0["pending"] as? Int == 0 }
            }
            let lag = try #require(try await stack.goalctlJSON(["lag"]) as? [[String: Any]])
            #expect(lag.allSatisfy { Set($0.keys) == ["stream", "group", "lag", "pending", "length"] })
            #expect(lag.contains { $0["stream"] as? String == "signal:goal.ended" && $0["group"] as? String == "tracking" })

            let top = try #require(try await stack.goalctlJSON(["top", "--interval", "0.5"]) as? [String: Any])
            #expect(top["commands"] as? Int == 36, "the commands per refresh Docs/runbook.md states for one replica per group")
            #expect(Set(top.keys) == ["time_ms", "interval_seconds", "backlog_limit", "streams", "groups", "group_streams", "chains", "memory", "commands"])
            let topPairs = (top["group_streams"] as? [[String: Any]] ?? []).map { "\($0["stream"]!) \($0["group"]!) \($0["lag"]!) \($0["pending"]!)" }
            let lagPairs = lag.map { "\($0["stream"]!) \($0["group"]!) \($0["lag"]!) \($0["pending"]!)" }
            #expect(Set(lagPairs).isSubset(of: Set(topPairs)), "top and lag agree on every group's lag and pending")
            let groups = top["groups"] as? [[String: Any]] ?? []
            #expect(groups.map { $0["group"] as? String } == ["escrow", "goals", "karaoke", "sessions", "tracking"])
            #expect(groups.allSatisfy { $0["consumers_alive"] as? Int == 1 && $0["over_limit"] as? Bool == false })
            let chainFigures = top["chains"] as? [String: Any] ?? [:]
            #expect(chainFigures["samples"] as? Int == 3, "js-1 and js-many-2 ended in the last minute, and the replayed goal.ended was added again")
            #expect(chainFigures["latency_p50_ms"] is Int)
            let endedStream = (top["streams"] as? [[String: Any]] ?? []).first { $0["stream"] as? String == "signal:goal.ended" }
            #expect(endedStream?["length"] as? Int == 3)
            #expect(endedStream?["in_per_second"] is Double || endedStream?["in_per_second"] is Int)
            let used = (top["memory"] as? [String: Any])?["used_bytes"] as? Int ?? 0
            let info = try await redis.execute("INFO", "memory").string ?? ""
            let reported = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("used_memory:") }.flatMap { Int($0.dropFirst(12)) } ?? 0
            #expect(abs(used - reported) < reported / 5, "top's memory \(used) agrees with INFO's \(reported)")
        }
    }

    @Test("bench redis and bench bus print their results as one JSON object")
    func benchmarks() async throws {
        try await withRedisServer { server in
            var environment = ProcessInfo.processInfo.environment
            environment["REDIS_URL"] = server.url
            environment["CONFIG_FILE"] = Stack.repositoryRoot + "/Config/local.json"
            let scratch = FileManager.default.temporaryDirectory.path
            let redis = try #require(try await runGoalctlJSON(
                ["bench", "redis", "--sequential", "200", "--pipelined", "640", "--runs", "1"], environment: environment, scratch: scratch
            ) as? [String: Any])
            #expect(Set(redis.keys) == ["server", "runs", "results"])
            let results = redis["results"] as? [[String: Any]] ?? []
            #expect(results.count == 6)
            #expect(results.allSatisfy {
                Set($0.keys) == ["command", "mode", "goalctl_ops_per_second", "redis_benchmark_ops_per_second", "ratio"]
                    && ($0["goalctl_ops_per_second"] as? Double ?? 0) > 0
            })
            let bus = try #require(try await runGoalctlJSON(
                ["bench", "bus", "--messages", "200", "--runs", "1"], environment: environment, scratch: scratch
            ) as? [String: Any])
            #expect(Set(bus.keys) == ["server", "messages", "runs", "bus_messages_per_second", "raw_messages_per_second", "ratio"])
            #expect((bus["bus_messages_per_second"] as? Double ?? 0) > 0)
        }
    }

    @Test("goalctl --version prints the version the binaries were built from: git describe of a commit of this checkout")
    func version() async throws {
        let version = try await run("\(goalSignalsBinaries)/goalctl", ["--version"])
        // `git describe --tags --always --dirty`: `<tag>-<n>-g<commit>`, `<tag>` or `<commit>`, `-dirty` after
        // uncommitted changes. The build may predate the newest commit, never this checkout's history.
        let described = version.hasSuffix("-dirty") ? String(version.dropLast("-dirty".count)) : version
        let commit = described.range(of: #"-g[0-9a-f]+$"#, options: .regularExpression).map { String(described[$0].dropFirst(2)) } ?? described
        #expect(version != "unknown", "a build from a git checkout knows its version")
        let ancestor = try ChildProcess(
            executable: "/usr/bin/env", arguments: ["git", "-C", Stack.repositoryRoot, "merge-base", "--is-ancestor", commit, "HEAD"]
        )
        #expect(await ancestor.wait(timeout: .seconds(30)) == 0, "goalctl --version says \(version): \(commit) is a commit of this checkout")
    }

    /// Runs a program to its end and returns its output, trimmed; throws unless it exits 0.
    func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("goalctl-version-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = try ChildProcess(executable: executable, arguments: arguments, logPath: output)
        let status = await process.wait(timeout: .seconds(30))
        guard status == 0 else { throw TestServerError(message: "\(executable) \(arguments) exited \(status.map(String.init) ?? "(timed out)")") }
        return try String(contentsOfFile: output, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
