import Foundation
import GoalDomain
import Histogram
import Redis
import Synchronization

/// The whole-chain load generator: stores goals whose timers run, vacates each with a signed webhook,
/// watches goal.ended, then checks every result and reports throughput, latency and cost.
public enum ChainBench {
    /// The services whose CPU and memory are reported.
    static let services: Set<String> = ["gateway", "karaoke", "goals", "sessions", "escrow", "tracking"]

    /// Runs one benchmark against the stack in front of `redis`.
    /// - Parameters:
    ///   - options: where the gateway is, how many goals, what pace.
    ///   - redis: the stack's Redis: one server, or a cluster.
    ///   - partitions: how many partitions the stack splits each stream into (0 on one server).
    ///   - redisURL: the URL the services were given, to find their processes.
    ///   - progress: hears what the run is doing.
    /// - Returns: the report; ``ChainBenchReport/verified`` is `false` when any result was wrong.
    /// - Throws: ``ChainBenchError`` when the run could not go on (gateway unreachable, timeout).
    public static func run(
        _ options: ChainBenchOptions, redis: RedisEndpoint, partitions: Int, redisURL: String,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> ChainBenchReport {
        let client = try redis.makeRunner(name: "bench", connections: 1)
        let (masters, replicas): ([RedisConfiguration], [RedisConfiguration])
        switch redis {
        case .server(let configuration): (masters, replicas) = ([configuration], [])
        case .cluster(let seeds): (masters, replicas) = try await RedisProbe.clusterNodes(seed: seeds[0])
        }
        let masterClients = masters.map { RedisClient(configuration: $0, name: "bench-probe") }
        var probe = RedisProbe(client: client, masters: masterClients, partitions: partitions)
        let now = Int64(Date().timeIntervalSince1970)
        let started = now - 400

        if options.preload > 0 {
            progress("storing \(options.preload) idle goals")
            try await GoalSeeder.seed(client, prefix: "\(options.prefix)-idle", count: options.preload, started: started, progress: progress)
        }
        let memoryBefore = try await probe.usedMemory()
        let keysBefore = try await probe.keyCount()
        progress("storing \(options.goals) goals with session and escrow")
        try await GoalSeeder.seed(client, prefix: options.prefix, count: options.goals, started: started, progress: progress)
        let memoryAfter = try await probe.usedMemory()

        // Every node's CPU counts, replicas' included: they replay what their masters wrote.
        // A cluster's nodes are reported one by one (`redis-server:<port>`, masters first), to show the spread.
        var redisProcesses: [StackProcess] = []
        for node in masters + replicas {
            let text = try await RedisClient(configuration: node, name: "bench-probe").execute("INFO", "server").string ?? ""
            guard let line = text.split(separator: "\r\n").first(where: { $0.hasPrefix("process_id:") }),
                  let pid = Int32(line.dropFirst("process_id:".count)) else {
                throw ChainBenchError("Redis at \(node.address) did not say its process id (INFO server)")
            }
            let role = masters.contains(node) ? "" : " replica"
            redisProcesses.append(StackProcess(name: replicas.isEmpty && masters.count == 1 ? "redis-server" : "redis-server:\(node.port)\(role)", pid: pid))
        }
        let processes = StackProcess.discover(names: services, redisURL: redisURL)
            + redisProcesses + [StackProcess(name: "goalctl", pid: getpid())]
        progress("measuring " + processes.map { "\($0.name)[\($0.pid)]" }.joined(separator: " "))

        let entriesBefore = try await probe.entriesAdded(ChainVerifier.streams)
        let deliveriesBefore = try await probe.deliveryReading()
        let trackedBefore = try await trackedEnded(client)
        let statsBefore = try await probe.commandStats()
        let cpuBefore = sample(processes)
        probe = RedisProbe(client: client, masters: masterClients, partitions: partitions)

        let concurrency: Int? = if case .closedLoop(let limit) = options.pace { limit } else { nil }
        let state = RunState(goals: options.goals, concurrency: concurrency, senders: options.connections * options.eventsPerWebhook)
        // A cluster delivers a PUBLISH to subscribers on every node: any master will do.
        try await CompletionWatcher.start(configuration: masters[0], prefix: options.prefix, state: state)
        progress("sending \(options.goals) channel_vacated webhooks, \(options.pace)")
        let sender = WebhookSender(options: options, vacatedAtMs: (started + 400) * 1000, state: state)
        let begin = monotonicNanoseconds()
        sender.start(at: begin)

        let deadline = ContinuousClock.now + options.timeout
        var lastReport = ContinuousClock.now
        while !state.isFinished {
            try await Task.sleep(for: .milliseconds(20))
            let (completed, failure) = state.progress.withLock { ($0.completed, $0.failure) }
            if failure != nil { break }
            if completed == options.goals { break }
            if ContinuousClock.now > deadline {
                state.fail("timed out after \(options.timeout) with \(completed) of \(options.goals) chains complete")
            }
            if ContinuousClock.now - lastReport > .seconds(2) {
                progress("\(completed) of \(options.goals) chains complete")
                lastReport = .now
            }
        }
        state.finished.store(true, ordering: .releasing)
        let snapshot = state.progress.withLock { $0 }
        if let failure = snapshot.failure { throw ChainBenchError(failure) }

        progress("all \(options.goals) goal.ended seen; waiting for every group to finish the side-effects")
        let settleDeadline = ContinuousClock.now + .seconds(120)
        while try await !probe.settled() {
            guard ContinuousClock.now < settleDeadline else { throw ChainBenchError("the groups did not catch up within 120 s after the last goal.ended") }
            try await Task.sleep(for: .milliseconds(25))
        }
        progress("every group caught up; checking every goal")
        let cpuAfter = sample(processes)
        let deliveries = DeliveryCount.delta(before: deliveriesBefore, after: try await probe.deliveryReading())
        var statsAfter = try await probe.commandStats()
        // What the chains leave once every group caught up and the streams were trimmed (a pass a second).
        try await Task.sleep(for: .seconds(3))
        let memoryEnd = try await probe.usedMemory()
        let keysEnd = try await probe.keyCount()
        for (name, count) in probe.sent { statsAfter[name, default: CommandStat()].calls -= count }

        let entriesAfter = try await probe.entriesAdded(ChainVerifier.streams)
        let verifier = ChainVerifier(client: client, prefix: options.prefix, goals: options.goals, started: started)
        let problems = try await verifier.problems(
            entriesAdded: entriesAfter.merging(entriesBefore) { after, before in after - before },
            endedCounts: snapshot.ended,
            trackedEnded: try await trackedEnded(client) - trackedBefore
        )

        let chains = Double(options.goals)
        let seconds = Double(snapshot.lastEnded - snapshot.firstSent) / 1e9
        var commandsByName: [String: Double] = [:]
        var microsecondsByName: [String: Double] = [:]
        for (name, stat) in statsAfter {
            let before = statsBefore[name] ?? CommandStat()
            let delta = stat.calls - before.calls
            if delta > 0 { commandsByName[name] = Double(delta) / chains }
            // The probe's own commands are counted but take microseconds at most; their time stays in.
            let time = stat.microseconds - before.microseconds
            if delta > 0, time > 0 { microsecondsByName[name] = Double(time) / chains }
        }
        var cpuSeconds: [String: Double] = [:]
        var peak: [String: Double] = [:]
        for process in processes {
            guard let before = cpuBefore[process], let after = cpuAfter[process] else { continue }
            cpuSeconds[process.name, default: 0] += after.cpuSeconds - before.cpuSeconds
            peak[process.name] = max(peak[process.name] ?? 0, Double(after.peakRSS) / 1_048_576)
        }
        var cpu = cpuSeconds.mapValues { $0 * 1000 / chains }
        cpu["total"] = cpu.filter { $0.key != "goalctl" }.values.reduce(0, +)
        let percentiles: [(String, Double)] = [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)]
        var latency = Dictionary(uniqueKeysWithValues: percentiles.map { ($0.0, Double(snapshot.latency.valueAtPercentile($0.1)) / 1000) })
        latency["max"] = Double(snapshot.latency.max) / 1000
        return ChainBenchReport(
            pace: options.pace.description, goals: options.goals, storedGoals: options.goals + options.preload,
            seconds: seconds, chainsPerSecond: chains / seconds, webhooksPerSecond: Double(snapshot.webhooks) / seconds,
            latencyMs: latency, redisCommandsPerChain: commandsByName.values.reduce(0, +), redisCommandsByName: commandsByName,
            redisMicrosecondsByName: microsecondsByName,
            cpuMsPerChain: cpu, deliveries: deliveries,
            cpuMicrosecondsPerDelivery: DeliveryCount.microsecondsPerDelivery(cpuSeconds: cpuSeconds, deliveries: deliveries), peakRSSMiB: peak, redisBytesPerGoal: (memoryAfter - memoryBefore) / chains,
            redisBytesPerChain: (memoryEnd - memoryBefore) / chains, redisKeysPerChain: (keysEnd - keysBefore) / chains,
            verified: problems.isEmpty, problems: problems
        )
    }

    private static func sample(_ processes: [StackProcess]) -> [StackProcess: ProcessSample] {
        var samples: [StackProcess: ProcessSample] = [:]
        for process in processes { samples[process] = ProcessSample(pid: process.pid) }
        return samples
    }

    private static func trackedEnded(_ client: any RedisCommandRunner) async throws -> Int {
        try await client.execute("HGET", Keys.trackingCounters, "goal.ended").string.flatMap { Int($0) } ?? 0
    }
}
