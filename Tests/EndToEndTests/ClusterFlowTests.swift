import Foundation
import GoalDomain
import Redis
import RedisTestSupport
import SignalBus
import Testing

/// The real executables on a local Redis Cluster (3 masters, 3 replicas), streams split into partitions.
@Suite("End to end on a Redis Cluster", .serialized)
struct ClusterFlowTests {
    static let partitions = 4
    static let bus: BusConfiguration = {
        var bus = BusConfiguration()
        bus.partitions = partitions
        return bus
    }()

    @Test("goals complete, end short and are ended by an operator on the cluster; every chain stays in its goal's partition")
    func flowOnCluster() async throws {
        try await withRedisCluster { cluster in
            try await Stack.with(extraEnvironment: ["BUS_PARTITIONS": String(Self.partitions)], cluster: cluster) { stack in
                let redis = try stack.runner()
                let t = Int64(Date().timeIntervalSince1970)
                // g-0 … g-7 complete; g-8 and g-9 stop short; g-10 and g-11 share the session `shared`.
                let completing = (0..<8).map { "g-\($0)" } + ["g-10", "g-11"]
                let short = ["g-8", "g-9"]
                let store = GoalStore(redis: redis)
                for (index, id) in (completing + short).enumerated() where id != "g-0" {
                    var spec = GoalSpec(id: id)
                    spec.sessionID = id == "g-10" || id == "g-11" ? "shared" : "s-\(id)"
                    spec.viewer = "v-\(index)"
                    spec.amount = 100
                    try await store.create(spec)
                }
                let created = try await stack.goalctl(["goal", "create", "g-0", "--session", "s-g-0", "--viewer", "v-0", "--amount", "100"])
                #expect(created.status == 0, "goalctl goal create on the cluster: \(created.output)")
                let viewers = Dictionary(uniqueKeysWithValues: (completing + short).enumerated().map { ($1, "v-\($0)") })

                for id in completing + short {
                    let body = Stack.body("channel_occupied", goal: id, atSeconds: t, user: viewers[id]!)
                    #expect(try await stack.post(body).1 == #"{"accepted":1,"ignored":0}"#)
                }
                try await stack.waitFor("every timer to start") {
                    for id in completing + short where try await redis.execute("HGET", Keys.goal(id), "context.started").string != String(t) {
                        return false
                    }
                    return true
                }
                for id in completing {
                    #expect(try await stack.post(Stack.body("channel_vacated", goal: id, atSeconds: t + 400, user: viewers[id]!)).0 == 200)
                }
                for id in short {
                    #expect(try await stack.post(Stack.body("channel_vacated", goal: id, atSeconds: t + 100, user: viewers[id]!)).0 == 200)
                }
                // A retried webhook is recognised on the cluster too.
                let retry = try await stack.post(Stack.body("channel_vacated", goal: "g-1", atSeconds: t + 400, user: viewers["g-1"]!))
                #expect(retry.1 == #"{"accepted":0,"ignored":1}"#)

                try await stack.waitFor("every completing goal's chain to finish", timeout: .seconds(30)) {
                    for id in completing {
                        let session = id == "g-10" || id == "g-11" ? "shared" : "s-\(id)"
                        let duration = try await redis.execute("HGET", Keys.session(session), "viewers.\(viewers[id]!).duration").string
                        if duration != "400" { return false }
                    }
                    return try await Self.total(redis, "task:StartSnapshot") == completing.count
                }
                let ended = try await stack.goalctl(["goal", "end", "g-8"])
                #expect(ended.status == 0, "goalctl goal end: \(ended.output)")
                try await stack.waitFor("the operator's end to refund g-8") {
                    try await redis.execute("HGET", Keys.escrow("g-8"), "state").string == "refunded"
                }
                try await stack.waitFor("every group to settle") { try await Self.settled(redis) }

                for id in completing {
                    let goal = try await redis.execute("HGETALL", Keys.goal(id)).fieldMap
                    #expect(goal["progress"] == "400", "\(id)")
                    #expect(goal["level"] == "1", "\(id)")
                    #expect(goal["active"] == "0", "\(id)")
                    #expect(goal["exp"] == String(t + 400), "\(id)")
                    #expect(try await redis.execute("HGET", Keys.escrow(id), "state").string == "held", "\(id): completion moves no money")
                }
                for id in short {
                    let goal = try await redis.execute("HGETALL", Keys.goal(id)).fieldMap
                    #expect(goal["progress"] == "100", "\(id)")
                    #expect(goal["level"] == "0", "\(id)")
                }
                #expect(try await redis.execute("HGET", Keys.goal("g-8"), "active").string == "0")
                #expect(try await redis.execute("HGET", Keys.goal("g-9"), "active").string == "1")
                #expect(try await redis.execute("HGET", Keys.escrow("g-9"), "state").string == "held")

                // Two goals of one session, each in its own partition, both wrote their viewer's window.
                let shared = try await redis.execute("HGETALL", Keys.session("shared")).fieldMap
                for id in ["g-10", "g-11"] {
                    let viewer = viewers[id]!
                    #expect(shared["viewers.\(viewer).duration"] == "400")
                    #expect(shared["viewers.\(viewer).exp"] == String(t + 400))
                    #expect(shared["viewers.\(viewer).nbf"] == String(t))
                    #expect(shared["exclusive_goal_pairs.\(viewer).exclusive_goal_ended"] == String(t + 400))
                }
                let single = try await redis.execute("HGETALL", Keys.session("s-g-3")).fieldMap
                #expect(single["status.exclusive_to"] == nil)
                #expect(single["exclusive_goal_pairs.v-3.exclusive_goal_ended"] == String(t + 400))

                // Each goal's chain is in its own partition: one goal.ended per ended goal, in that partition.
                let endedGoals = completing + ["g-8"]
                for id in endedGoals {
                    let partition = try #require(Self.bus.partition(of: id))
                    let entries = try await redis.execute("XRANGE", Topics.goalEnded.key(partition: partition), "-", "+").array ?? []
                    let mine = entries.filter { $0.array?[1].fieldMap["goal_id"] == id }
                    #expect(mine.count == 1, "\(id) has \(mine.count) goal.ended entries in partition \(partition)")
                }
                #expect(try await Self.total(redis, "signal:goal.ended") == endedGoals.count)
                #expect(try await Self.total(redis, "signal:goal.completed") == completing.count)
                #expect(try await Self.total(redis, "task:increment_goal_progress") == completing.count + short.count)
                #expect(try await Self.total(redis, "signal:channel_vacated") == completing.count + short.count)
                #expect(try await redis.execute("HGET", "tracking:counters", "channel_vacated").string == String(completing.count + short.count))
                #expect(try await redis.execute("XLEN", "outbox:pusher").int == endedGoals.count)
                // Twelve holds and one refund.
                #expect(try await redis.execute("XLEN", "escrow:ledger").int == 13)

                // The operator's tools read the partitions.
                let trace = try await stack.goalctl(["trace", "g-3"])
                #expect(trace.status == 0)
                for step in ["channel_vacated", "karaoke_control", "increment_goal_progress", "trigger_goal_complete", "goal.ended", "set_embedded_goal_ended"] {
                    #expect(trace.output.contains(step), "goalctl trace shows \(step)")
                }
                let lag = try await stack.goalctl(["lag"])
                #expect(lag.status == 0)
                #expect(lag.output.contains(Topics.goalEnded.key(partition: Partition(Self.partitions - 1, of: Self.partitions))))
                let dead = try await stack.goalctl(["dead", "list"])
                #expect(dead.output.contains("0 dead letter(s)"), "\(dead.output)")

                let statuses = await stack.stop()
                #expect(statuses == Dictionary(uniqueKeysWithValues: Stack.services.map { ($0, 0) }))
            }
        }
    }

    @Test("a master killed mid-run: its replica takes over, and every chain ends exactly once")
    func masterFailover() async throws {
        try await withRedisCluster { cluster in
            let environment = ["BUS_PARTITIONS": String(Self.partitions), "BUS_CLAIM_IDLE_MS": "2000"]
            try await Stack.with(extraEnvironment: environment, cluster: cluster) { stack in
                let redis = try stack.runner()
                let t = Int64(Date().timeIntervalSince1970)
                let goals = (0..<60).map { "f-\($0)" }
                let store = GoalStore(redis: redis)
                for (index, id) in goals.enumerated() {
                    var spec = GoalSpec(id: id)
                    spec.sessionID = "s-\(id)"
                    spec.viewer = "v-\(index)"
                    spec.amount = 100
                    spec.started = t
                    try await store.create(spec)
                }
                let vacates = goals.enumerated().map { index, id in
                    Stack.body("channel_vacated", goal: id, atSeconds: t + 400, user: "v-\(index)")
                }

                // The master serving the first partition's streams dies while the first half is in flight.
                let heirs = Dictionary(uniqueKeysWithValues: zip(cluster.masterPorts, cluster.replicaPorts))
                let first = HashSlot(key: Topics.goalEnded.key(partition: Partition(0, of: Self.partitions))).number
                let victim = try await cluster.slotOwners(askingPort: cluster.masterPorts[0])[first]
                let heir = try #require(heirs[victim])
                for body in vacates.prefix(30) { try await stack.postUntilAccepted(body) }
                let killed = ContinuousClock.now
                cluster.kill(port: victim)
                var unavailable = 0
                for body in vacates.suffix(30) { unavailable += try await stack.postUntilAccepted(body) }
                try await stack.waitFor("the replica to be promoted", timeout: .seconds(30)) {
                    try await cluster.slotOwners(askingPort: heir)[first] == heir
                }
                let promoted = ContinuousClock.now - killed

                let survivor = try cluster.clusterClient(name: "survivor")
                try await stack.waitFor("every chain to end", timeout: .seconds(90)) {
                    try await Self.endedGoals(survivor).count == goals.count
                }
                let converged = ContinuousClock.now - killed
                try await stack.waitFor("every group to settle", timeout: .seconds(60)) { try await Self.settled(survivor) }

                // What asynchronous replication may have lost is recovered by Pusher's retries: every webhook
                // sent again is recognised (the dedup key and the event were written together).
                var answers: [String: Int] = [:]
                for body in vacates {
                    let (status, answer) = try await stack.post(body)
                    answers["\(status) \(answer)", default: 0] += 1
                }
                print("failover: master \(victim) killed; replica \(heir) serving after \(promoted); 503s while posting: \(unavailable); all \(goals.count) chains ended \(converged) after the kill; webhooks sent again answered \(answers)")
                try await stack.waitFor("every group to settle after the retries", timeout: .seconds(60)) { try await Self.settled(survivor) }

                let ended = try await Self.endedGoals(survivor)
                #expect(ended.count == goals.count)
                #expect(ended.allSatisfy { $0.value == 1 }, "goal.ended more than once: \(ended.filter { $0.value > 1 })")
                for (index, id) in goals.enumerated() {
                    let goal = try await survivor.execute("HGETALL", Keys.goal(id)).fieldMap
                    #expect(goal["progress"] == "400", "\(id)")
                    #expect(goal["active"] == "0", "\(id)")
                    let session = try await survivor.execute("HGETALL", Keys.session("s-\(id)")).fieldMap
                    #expect(session["viewers.v-\(index).duration"] == "400", "\(id)")
                    #expect(session["exclusive_goal_pairs.v-\(index).exclusive_goal_ended"] == String(t + 400), "\(id)")
                    #expect(try await survivor.execute("HGET", Keys.escrow(id), "state").string == "held", "\(id)")
                }
                #expect(try await Self.total(survivor, "task:increment_goal_progress") == goals.count)
                #expect(try await Self.total(survivor, "signal:goal.completed") == goals.count)
                #expect(try await survivor.execute("XLEN", "outbox:pusher").int == goals.count)

                let statuses = await stack.stop()
                #expect(statuses == Dictionary(uniqueKeysWithValues: Stack.services.map { ($0, 0) }))
            }
        }
    }

    /// How many goal.ended entries each goal has, over every partition.
    static func endedGoals(_ redis: any RedisCommandRunner) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for stream in bus.streamKeys(of: Topics.goalEnded) {
            let entries = (try? await redis.execute("XRANGE", stream, "-", "+"))?.array ?? []
            for entry in entries {
                if let goal = entry.array?[1].fieldMap["goal_id"] { counts[goal, default: 0] += 1 }
            }
        }
        return counts
    }

    /// Entries ever added to every partition of `topic`'s stream.
    static func total(_ redis: any RedisCommandRunner, _ topic: String) async throws -> Int {
        var total = 0
        for stream in bus.streamKeys(of: Topic(key: topic)!) {
            // A partition no message reached has no stream.
            if let info = try? await redis.execute("XINFO", "STREAM", stream) {
                total += info.pairs["entries-added"]?.int ?? 0
            }
        }
        return total
    }

    /// Whether every group has read and acknowledged everything on every partition.
    static func settled(_ redis: any RedisCommandRunner) async throws -> Bool {
        for stream in Catalogue.topics.flatMap(bus.streamKeys(of:)) {
            for info in try await redis.execute("XINFO", "GROUPS", stream).array ?? [] {
                let fields = info.pairs
                if fields["lag"]?.int != 0 || fields["pending"]?.int != 0 { return false }
            }
        }
        return true
    }
}
