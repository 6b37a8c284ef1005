import Foundation
import GoalDomain
import Redis
import RedisTestSupport
import SignalBus
import Testing

@Suite("End to end: replicas killed, added and removed mid-run", .serialized)
struct CrashRecoveryTests {
    static let fleet = GoalFleet(prefix: "crash", count: goals)
    static let goals = FaultLoad.goals(short: 120, full: 600, suite: "CrashRecoveryTests")


    @Test("SIGKILL of every receiver group in turn, with duplicated and late webhooks: exact progress, one goal.ended per goal, no refund of a completed goal")
    func killEveryGroup() async throws {
        try await Stack.with(extraEnvironment: ["BUS_CLAIM_IDLE_MS": "1500", "BUS_BATCH_SIZE": "8", "LOG_LEVEL": "info"]) { stack in
            let redis = stack.client()
            let t = Int64(Date().timeIntervalSince1970) - 200
            // Even goals complete (vacated at T+400); odd ones stop short (T+100) and stay active.
            try await Self.fleet.startTimers(on: stack, at: t)

            let victims = ["karaoke", "goals", "sessions", "escrow", "tracking"]
            var batches: [[UInt8]] = []
            for start in stride(from: 0, to: Self.goals, by: 20) {
                let range = start..<start + 20
                batches.append(Self.fleet.webhook("channel_vacated", goals: range.filter { $0.isMultiple(of: 2) }, at: t + 400))
                batches.append(Self.fleet.webhook("channel_vacated", goals: range.filter { !$0.isMultiple(of: 2) }, at: t + 100))
            }
            // The crashes are spread over the run: one victim every `spacing` batches.
            let spacing = max(2, batches.count / victims.count)
            for (number, body) in batches.enumerated() {
                #expect(try await stack.post(body).0 == 200)
                if number.isMultiple(of: spacing), number / spacing < victims.count {
                    // Pusher retries the webhook; a crash takes a replica down mid-work and it comes back.
                    #expect(try await stack.post(body).1.contains(#""accepted":0"#))
                    // Kill the victim while it holds messages it has read but not acknowledged, when that can be seen.
                    let victim = victims[number / spacing]
                    let stream = ["karaoke": "signal:channel_vacated", "goals": "task:increment_goal_progress"][victim] ?? "signal:goal.progressed"
                    let deadline = ContinuousClock.now + .milliseconds(500)
                    while ContinuousClock.now < deadline,
                          (try await redis.execute("XPENDING", stream, victim)).array?.first?.int ?? 0 == 0 {}
                    stack.processes[victim]!.killNow()
                    try stack.launch(victim)
                }
            }
            // Late, older presence events must change nothing.
            #expect(try await stack.post(Self.fleet.webhook("channel_occupied", goals: 0..<20, at: t - 50)).0 == 200)

            try await eventually("every group to settle after the crashes", within: .seconds(FaultLoad.isFull ? 240 : 90)) {
                try await isSettled(redis, Catalogue.groups().flatMap { group in group.topics.map { ($0.key, group.name) } })
            }
            let completed = Self.goals / 2
            #expect(try await integer(redis, "XLEN", "task:increment_goal_progress") == Self.goals)
            #expect(try await integer(redis, "XLEN", "signal:goal.progressed") == Self.goals)
            #expect(try await integer(redis, "XLEN", "signal:goal.completed") == completed)
            #expect(try await integer(redis, "XLEN", "signal:goal.ended") == completed)
            #expect(try await integer(redis, "XLEN", "task:StartSnapshot") == completed)
            for index in 0..<Self.goals {
                let goal = try await hashFields(redis, "goal:{crash-\(index)}")
                let escrow = try await hashFields(redis, "escrow:{crash-\(index)}")
                if index.isMultiple(of: 2) {
                    #expect(goal["progress"] == "400" && goal["level"] == "1" && goal["active"] == "0", "crash-\(index): \(goal)")
                } else {
                    #expect(goal["progress"] == "100" && goal["level"] == "0" && goal["active"] == "1", "crash-\(index): \(goal)")
                }
                #expect(escrow["state"] == "held", "crash-\(index) escrow \(escrow)")
            }
            let counters = try await hashFields(redis, "tracking:counters")
            #expect(counters["goal.ended"] == String(completed))
            #expect(counters["goal.progressed"] == String(Self.goals))
            #expect(counters["channel_vacated"] == String(Self.goals))
            #expect(try await integer(redis, "XLEN", "escrow:ledger") == Self.goals)

            // Pusher retries a webhook for minutes: every body again, long after its chain ended, stores nothing.
            for body in batches {
                let (status, answer) = try await stack.post(body)
                #expect(status == 200 && answer.contains(#""accepted":0"#), "late retry answered \(status) \(answer)")
            }
            #expect(try await integer(redis, "XLEN", "signal:channel_vacated") == Self.goals)
            try await eventually("every group to settle after the late retries") {
                try await isSettled(redis, Catalogue.groups().flatMap { group in group.topics.map { ($0.key, group.name) } })
            }
            #expect(try await integer(redis, "XLEN", "signal:goal.ended") == completed)
            #expect(try await integer(redis, "XLEN", "task:increment_goal_progress") == Self.goals)
        }
    }

    @Test("a replica SIGKILLed under load: a live replica takes its entries over within seconds, not the claim idle time, and removes it")
    func killedReplicaTakenOver() async throws {
        // A claim idle time far beyond the test: only the heartbeat can hand the killed replica's entries over.
        try await Stack.with(extraEnvironment: ["BUS_CLAIM_IDLE_MS": "120000", "BUS_BATCH_SIZE": "4", "LOG_LEVEL": "info"]) { stack in
            let redis = stack.client()
            let t = Int64(Date().timeIntervalSince1970) - 200
            try await Self.fleet.startTimers(on: stack, at: t)
            try stack.launch("goals", as: "goals#2")
            try await stack.waitUntilRunning("goals#2", service: "goals")
            let victim = stack.processes["goals"]!
            for start in stride(from: 0, to: Self.goals, by: 20) {
                #expect(try await stack.post(Self.fleet.webhook("channel_vacated", goals: start..<start + 20, at: t + 400)).0 == 200)
            }
            // Kill the first goals replica while it holds entries it has read but not acknowledged.
            let deadline = ContinuousClock.now + .seconds(5)
            var held = 0
            while ContinuousClock.now < deadline && held == 0 {
                let consumers = try await redis.execute("XINFO", "CONSUMERS", "signal:goal.completed", "goals").array ?? []
                held = consumers.map(\.pairs).first { $0["name"]?.string?.contains("-\(victim.pid)-") == true }?["pending"]?.int ?? 0
            }
            victim.killNow()
            let killed = ContinuousClock.now
            try await eventually("every group to settle after the kill", within: .seconds(30)) {
                try await isSettled(redis, Catalogue.groups().flatMap { group in group.topics.map { ($0.key, group.name) } })
            }
            let settled = ContinuousClock.now - killed
            #expect(settled < .seconds(8), "the killed replica's chains completed \(settled) after the kill (it held \(held) entries)")
            let streams = GoalReceivers.group().topics.map(\.key)
            try await eventually("the killed replica to be removed from the group", within: .seconds(10)) {
                for stream in streams {
                    let names = try await redis.execute("XINFO", "CONSUMERS", stream, "goals").array?.compactMap { $0.pairs["name"]?.string } ?? []
                    if names.contains(where: { $0.contains("-\(victim.pid)-") }) { return false }
                }
                return true
            }
            #expect(ContinuousClock.now - killed < .seconds(8), "removed \(ContinuousClock.now - killed) after the kill")
            #expect(try await integer(redis, "XLEN", "signal:goal.ended") == Self.goals)
            for index in 0..<Self.goals {
                let goal = try await hashFields(redis, "goal:{crash-\(index)}")
                #expect(goal["progress"] == "400" && goal["active"] == "0", "crash-\(index): \(goal)")
            }
        }
    }

    @Test("groups scaled from 1 to 3 replicas and back to 1 mid-run: every message handled once")
    func scaleUpAndDown() async throws {
        try await Stack.with(extraEnvironment: ["BUS_CLAIM_IDLE_MS": "1500", "BUS_BATCH_SIZE": "4"]) { stack in
            let redis = stack.client()
            let t = Int64(Date().timeIntervalSince1970) - 200
            try await Self.fleet.startTimers(on: stack, at: t)
            let extra = ["karaoke", "goals", "sessions"].flatMap { service in [2, 3].map { (service, "\(service)#\($0)") } }
            var stops: [String: Int32?] = [:]
            for start in stride(from: 0, to: Self.goals, by: 10) {
                #expect(try await stack.post(Self.fleet.webhook("channel_vacated", goals: start..<start + 10, at: t + 400)).0 == 200)
                if start == Self.goals / 4 {
                    for (service, name) in extra { try stack.launch(service, as: name) }
                    // The extra replicas are up (and will stop cleanly on SIGTERM) before the run goes on.
                    for (service, name) in extra { try await stack.waitUntilRunning(name, service: service) }
                }
                if start == 3 * Self.goals / 4 {
                    for (_, name) in extra { stack.processes[name]!.send(SIGTERM) }
                    for (_, name) in extra { stops[name] = await stack.processes[name]!.wait(timeout: .seconds(15)) }
                }
            }
            for (name, status) in stops { #expect(status == 0, "\(name) exits 0 after SIGTERM") }
            try await eventually("every group to settle", within: .seconds(FaultLoad.isFull ? 180 : 60)) {
                try await isSettled(redis, Catalogue.groups().flatMap { group in group.topics.map { ($0.key, group.name) } })
            }
            for stream in ["task:increment_goal_progress", "signal:goal.progressed", "signal:goal.completed", "task:deactivate_goal", "signal:goal.ended", "task:StartSnapshot"] {
                #expect(try await integer(redis, "XLEN", stream) == Self.goals, "\(stream) holds one entry per goal")
            }
            for index in 0..<Self.goals {
                let goal = try await hashFields(redis, "goal:{crash-\(index)}")
                #expect(goal["progress"] == "400" && goal["active"] == "0", "crash-\(index): \(goal)")
            }
            let consumers = try await redis.execute("XINFO", "CONSUMERS", "signal:channel_vacated", "karaoke").array?.count ?? 0
            // Redis lists a consumer from its first read on; the extra replicas left the group on their clean stop.
            #expect(consumers == 1, "the two extra karaoke replicas left the group on their clean stop")
        }
    }
}
