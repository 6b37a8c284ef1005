import ArgumentParser
import Foundation
import Redis

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the Redis client and the signal bus against Redis's own tools on the same server.",
        subcommands: [RedisBench.self, BusBench.self, ChainsBench.self]
    )
}

/// The hiredis client beside `redis-benchmark`, one connection each, same server, same commands.
struct RedisBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "Sequential round trips and pipelined batches of XADD, HINCRBY and EVALSHA, beside redis-benchmark."
    )

    @Option(help: "Round trips per sequential run.") var sequential = 20_000
    @Option(help: "Commands per pipelined run.") var pipelined = 320_000
    @Option(help: "Pipeline batch size.") var batch = 32
    @Option(help: "Runs of each measurement; the median is reported.") var runs = 3
    @Flag(help: "Print a JSON object: server, runs, results (command, mode, goalctl_ops_per_second, redis_benchmark_ops_per_second, ratio).") var json = false

    /// What `goalctl bench redis --json` prints.
    struct Output: Encodable {
        struct Result: Encodable {
            let command: String
            let mode: String
            let goalctlOpsPerSecond: Double
            let redisBenchmarkOpsPerSecond: Double
            let ratio: Double

            enum CodingKeys: String, CodingKey {
                case command, mode, goalctlOpsPerSecond = "goalctl_ops_per_second", redisBenchmarkOpsPerSecond = "redis_benchmark_ops_per_second", ratio
            }
        }

        let server: String
        let runs: Int
        let results: [Result]
    }

    static let script = RedisScript("local v = tonumber(redis.call('HGET', KEYS[1], 'f') or '0') if tonumber(ARGV[1]) > v then redis.call('HSET', KEYS[1], 'f', ARGV[1]) end return v")

    func run() async throws {
        let environment = try await Environment.load()
        let configuration = try environment.server(for: "bench redis")
        let redis = RedisClient(configuration: configuration, name: "bench")
        try await redis.execute("SCRIPT", "LOAD", Self.script.source)
        let commands: [(String, [String])] = [
            ("XADD", ["XADD", "bench:stream", "MAXLEN", "~", "100000", "*", "field", "value"]),
            ("HINCRBY", ["HINCRBY", "bench:hash", "field", "1"]),
            ("EVALSHA", ["EVALSHA", Self.script.sha1, "1", "bench:max", "7"]),
        ]
        let modes = [("sequential", 1, sequential), ("pipeline \(batch)", batch, pipelined)]
        let progress = ProgressLine("runs")
        var results: [Output.Result] = []
        for (name, arguments) in commands {
            let command = RedisCommand(arguments[0], arguments: Array(arguments.dropFirst()))
            for (mode, depth, total) in modes {
                var ours: [Double] = []
                var theirs: [Double] = []
                for _ in 0..<runs {
                    ours.append(try await Self.measure(redis, command: command, depth: depth, total: total))
                    theirs.append(try await RedisBenchmarkTool.run(configuration, arguments: arguments, depth: depth, total: total))
                    progress.update(results.count * runs + ours.count, of: commands.count * modes.count * runs)
                }
                let mine = ours.sorted()[runs / 2]
                let reference = theirs.sorted()[runs / 2]
                results.append(Output.Result(command: name, mode: mode, goalctlOpsPerSecond: mine, redisBenchmarkOpsPerSecond: reference, ratio: mine / reference))
            }
        }
        progress.finish()
        if json {
            try JSONOutput.print(Output(server: configuration.address, runs: runs, results: results))
        } else {
            print("Redis at \(configuration.address); one connection each; median of \(runs) runs")
            print("command  mode              goalctl ops/s  redis-benchmark ops/s  ratio")
            for result in results {
                print(result.command.padding(toLength: 9, withPad: " ", startingAt: 0) + result.mode.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + String(Int(result.goalctlOpsPerSecond)).leftPadded(15) + String(Int(result.redisBenchmarkOpsPerSecond)).leftPadded(23)
                    + String(format: "%7.2f", result.ratio))
            }
        }
        try await redis.execute("DEL", "bench:stream", "bench:hash", "bench:max")
    }

    /// Operations per second for `total` commands sent `depth` at a time on the client's own thread.
    static func measure(_ client: RedisClient, command: RedisCommand, depth: Int, total: Int) async throws -> Double {
        try await client.withConnection { connection in
            let batch = Array(repeating: command, count: depth)
            let start = ContinuousClock.now
            var sent = 0
            while sent < total {
                let replies = try connection.send(batch)
                if let failure = replies.first(where: { $0.errorMessage != nil }) { throw RedisError(code: .server, message: "\(failure)") }
                sent += depth
            }
            let elapsed = ContinuousClock.now - start
            return Double(sent) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
    }
}

/// Runs `redis-benchmark` and reads its requests per second.
enum RedisBenchmarkTool {
    static func run(_ configuration: RedisConfiguration, arguments: [String], depth: Int, total: Int) async throws -> Double {
        var command = ["-h", configuration.host, "-p", String(configuration.port), "-c", "1", "-n", String(total), "-P", String(depth), "-q"]
        if let password = configuration.password {
            command += ["-a", password]
            if let user = configuration.username { command += ["--user", user] }
        }
        let output = try await runProcess("redis-benchmark", command + arguments)
        // "XADD bench:stream ...: 17241.38 requests per second, p50=0.055 msec"
        guard let range = output.range(of: #"[0-9.]+ requests per second"#, options: .regularExpression),
              let value = Double(output[range].split(separator: " ")[0]) else {
            throw ValidationError("could not read redis-benchmark's output: \(output)")
        }
        return value
    }

    private static func runProcess(_ tool: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard status == 0 else { throw ValidationError("\(tool) failed (\(status)): \(output) — `make deps` installs redis-tools") }
        return output.replacingOccurrences(of: "\r", with: "\n")
    }
}
