import Foundation
import GoalDomain
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("End to end: stopping a receiver mid-batch", .serialized)
struct GracefulStopTests {
    static let fleet = GoalFleet(prefix: "stop", count: goals)
    static let goals = FaultLoad.goals(short: 200, full: 1000, suite: "GracefulStopTests")


    @Test("SIGTERM to karaoke and goals while they work: each exits 0 in time, nothing is lost or doubled")
    func sigtermMidBatch() async throws {
        try await Stack.with(extraEnvironment: ["BUS_CLAIM_IDLE_MS": "2000", "BUS_BATCH_SIZE": "16"]) { stack in
            let redis = stack.client()
            let t = Int64(Date().timeIntervalSince1970)
            try await Self.fleet.startTimers(on: stack, at: t)

            // Vacate every goal while stopping karaoke and goals in the middle of the work.
            var stops: [String: (status: Int32?, seconds: Double)] = [:]
            for start in stride(from: 0, to: Self.goals, by: 20) {
                #expect(try await stack.post(Self.fleet.webhook("channel_vacated", goals: start..<min(start + 20, Self.goals), at: t + 400)).0 == 200)
                if start == Self.goals / 2 {
                    for service in ["karaoke", "goals"] {
                        let began = ContinuousClock.now
                        let status = await stack.processes[service]!.stop(timeout: .seconds(12))
                        let elapsed = ContinuousClock.now - began
                        stops[service] = (status, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                        try stack.launch(service)
                    }
                }
            }
            for (service, stop) in stops {
                #expect(stop.status == 0, "\(service) exits 0 after SIGTERM")
                #expect(stop.seconds < 12, "\(service) stops within the bound (took \(stop.seconds) s)")
            }

            try await stack.waitFor("every goal to end", timeout: .seconds(FaultLoad.isFull ? 180 : 60)) {
                try await redis.execute("XLEN", "signal:goal.ended").int == Self.goals
            }
            try await stack.waitFor("every group to settle", timeout: .seconds(30)) {
                try await isSettled(redis, Catalogue.groups().flatMap { group in group.topics.map { ($0.key, group.name) } })
            }
            for stream in ["task:increment_goal_progress", "signal:goal.progressed", "signal:goal.completed", "task:deactivate_goal", "signal:goal.ended", "task:StartSnapshot"] {
                #expect(try await redis.execute("XLEN", stream).int == Self.goals, "\(stream) holds one entry per goal")
            }
            for index in 0..<Self.goals {
                let goal = try await redis.execute("HGETALL", "goal:{stop-\(index)}").fieldMap
                #expect(goal["progress"] == "400" && goal["active"] == "0" && goal["level"] == "1", "goal stop-\(index): \(goal)")
            }
            #expect(try await redis.execute("HGET", "tracking:counters", "goal.ended").string == String(Self.goals))
        }
    }
}

@Suite("End to end: stop signals")
struct StopSignalTests {
    @Test("one SIGTERM stops a receiver cleanly (exit 0); a second one exits at once (exit 1)")
    func secondSignalForcesExit() async throws {
        try await withRedisServer { server in
            let binary = (ProcessInfo.processInfo.environment["GOAL_SIGNALS_BIN"] ?? Stack.repositoryRoot + "/.build/debug") + "/goals"
            var environment = ProcessInfo.processInfo.environment
            environment["REDIS_URL"] = server.url
            environment["CONFIG_FILE"] = Stack.repositoryRoot + "/Config/local.json"
            environment["BUS_BLOCK_MS"] = "5000"
            environment["METRICS_PORT"] = nil

            let patient = try ChildProcess(executable: binary, arguments: [], environment: environment)
            try await Task.sleep(for: .seconds(1))
            patient.send(SIGTERM)
            let graceful = await patient.wait(timeout: .seconds(30))
            #expect(graceful == 0)

            let impatient = try ChildProcess(executable: binary, arguments: [], environment: environment)
            try await Task.sleep(for: .seconds(1))
            impatient.send(SIGTERM)
            try await Task.sleep(for: .milliseconds(300))
            let began = ContinuousClock.now
            impatient.send(SIGTERM)
            let forced = await impatient.wait(timeout: .seconds(5))
            #expect(forced == 1)
            #expect(ContinuousClock.now - began < .seconds(2))
        }
    }
}
