import ArgumentParser
import ChainBench
import Foundation
import Redis
import ServiceRuntime
import SignalBus

/// The whole chain under load against a running stack: `goalctl bench chains`.
struct ChainsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chains",
        abstract: "Drive goals through the whole chain (vacate → goal.ended and its side-effects) and report throughput, latency and cost.",
        discussion: """
            Stores --goals goals whose timers started 400 s ago (with session and escrow), vacates each with a \
            signed webhook over keep-alive connections, watches SUBSCRIBE signal:goal.ended, waits for every \
            group to finish, then checks every goal and every side-effect: a wrong result fails the run. \
            Run it alone against its stack: the figures count every Redis command and the CPU of every service.
            """
    )

    @Option(help: "Goals to drive through the chain.") var goals = 20_000
    @Option(help: "Closed-loop: chains in flight at once (ignored with --rate).") var concurrency = 64
    @Option(help: "Open-loop: webhooks' chains per second offered, whatever the stack does.") var rate: Double?
    @Option(help: "Keep-alive HTTP connections (one sender thread each).") var connections = 4
    @Option(help: "channel_vacated events per webhook (Pusher sends up to about 20).") var eventsPerWebhook = 1
    @Option(help: "Idle goals stored before the run, to measure the cost of a large keyspace.") var preload = 0
    @Option(help: "Gateway base URL (default: http://<http.host>:<http.port>).") var url: String?
    @Option(help: "Write the report as JSON to this file.") var report: String?
    @Flag(help: "Print the report as one JSON object instead of the table (progress goes to standard error).") var json = false
    @Option(help: "Longest the run may take, seconds.") var timeout = 300

    func validate() throws {
        guard goals > 0 else { throw ValidationError("--goals must be at least 1") }
        guard concurrency >= eventsPerWebhook else { throw ValidationError("--concurrency must be at least --events-per-webhook") }
        guard (1...20).contains(eventsPerWebhook) else { throw ValidationError("--events-per-webhook must be from 1 to 20") }
        guard connections > 0 else { throw ValidationError("--connections must be at least 1") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
    }

    func run() async throws {
        let environment = try await Environment.load()
        let settings = environment.settings
        let port = try settings.int("http.port", default: 8080)
        let base = url ?? "http://\(settings.string("http.host", default: "127.0.0.1")):\(port)"
        guard let endpoint = URL(string: base), let host = endpoint.host, endpoint.scheme == "http" else {
            throw ValidationError("invalid gateway URL \(base): expected http://host:port")
        }
        var options = ChainBenchOptions(prefix: "bench-\(UInt32.random(in: 0...UInt32.max))")
        options.gatewayHost = host == "0.0.0.0" ? "127.0.0.1" : host
        options.gatewayPort = endpoint.port ?? 80
        options.appKey = settings.optionalString("pusher.app.key")
        options.appSecret = settings.optionalString("pusher.app.secret")
        options.goals = goals
        options.preload = preload
        options.pace = rate.map { .openLoop(rate: $0) } ?? .closedLoop(concurrency: concurrency)
        options.connections = connections
        options.eventsPerWebhook = eventsPerWebhook
        options.timeout = .seconds(timeout)
        let redisURL = settings.string("redis.url", default: "redis://127.0.0.1:6379/0")

        let progress = ProgressLine("chains")
        let result = try await ChainBench.run(options, redis: environment.endpoint, partitions: environment.bus.partitions, redisURL: redisURL) { line in
            progress.say(line)
        }
        progress.finish()
        if json { try JSONOutput.print(result) } else { print(result.table) }
        if let report {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: report))
        }
        if !result.verified { throw ExitCode(1) }
    }
}
