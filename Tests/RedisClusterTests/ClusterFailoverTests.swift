import Redis
import RedisTestSupport
import Synchronization
import Testing

@Suite("Cluster failover")
struct ClusterFailoverTests {
    /// One `SET` of the write loop.
    struct Write: Sendable {
        let key: String
        let value: Int
        let started: ContinuousClock.Instant
        let finished: ContinuousClock.Instant
        let error: RedisError?
    }

    @Test("writes to a killed master's slots succeed again once its replica is promoted")
    func failover() async throws {
        try await withRedisCluster { cluster in
            let client = try cluster.clusterClient()
            let (victim, heir) = (cluster.masterPorts[0], cluster.replicaPorts[0])
            let owners = try await cluster.slotOwners(askingPort: heir)
            let keys = cluster.keys("failover", servedBy: victim, owners: owners, count: 20)
            let killedAt = Mutex<ContinuousClock.Instant?>(nil)
            let writesBeforeKill = Mutex(0)

            async let loop: [Write] = {
                var writes: [Write] = []
                var successesAfterKill = 0
                let deadline = ContinuousClock.now + .seconds(40)
                while successesAfterKill < 200, ContinuousClock.now < deadline {
                    let (key, value) = (keys[writes.count % keys.count], writes.count)
                    let started = ContinuousClock.now
                    var failure: RedisError?
                    do throws(RedisError) { try await client.execute("SET", key, value) } catch { failure = error }
                    writes.append(Write(key: key, value: value, started: started, finished: .now, error: failure))
                    if killedAt.withLock({ $0 }) == nil { writesBeforeKill.withLock { $0 = writes.count } }
                    if let kill = killedAt.withLock({ $0 }), started > kill, failure == nil { successesAfterKill += 1 }
                }
                return writes
            }()

            // The kill comes once the loop has written for a while, however busy the machine.
            try await Task.sleep(for: .milliseconds(500))
            try await eventually("writes before the kill", within: .seconds(20)) { writesBeforeKill.withLock { $0 } > 20 }
            let kill = ContinuousClock.now
            cluster.kill(port: victim)
            let reaped = ContinuousClock.now
            killedAt.withLock { $0 = reaped }
            // Pipelines mixing the victim's keys with the others': sent while the victim refuses connections,
            // and again around the time the cluster notices (CLUSTERDOWN until the promotion).
            let others = cluster.masterPorts.dropFirst().flatMap { cluster.keys("piped", servedBy: $0, owners: owners, count: 2) }
            let mixed = Array(zip(cluster.keys("piped", servedBy: victim, owners: owners, count: 4), others).flatMap { [$0, $1] })
            func piped(after delay: Duration, _ tag: String) async throws -> [RedisValue] {
                try await Task.sleep(for: delay)
                return try await client.pipeline(mixed.flatMap { [RedisCommand("SET", $0, "\(tag)-\($0)"), RedisCommand("GET", $0)] })
            }
            async let early = piped(after: .milliseconds(100), "early")
            async let late = piped(after: RedisTestCluster.nodeTimeout + .milliseconds(500), "late")
            let heirNode = cluster.client(port: heir)
            try await eventually("the promotion of \(heir)", within: .seconds(30)) {
                try await heirNode.execute("ROLE").array?.first?.string == "master"
            }
            let promotion = ContinuousClock.now - kill
            let writes = await loop
            for (tag, replies) in try await [("early", early), ("late", late)] {
                #expect(replies == mixed.flatMap { [RedisValue.status("OK"), .bulk(Array("\(tag)-\($0)".utf8))] })
            }

            let before = writes.filter { $0.finished < kill }
            let after = writes.filter { $0.started > reaped }
            let firstSuccess = try #require(after.first { $0.error == nil })
            let convergence = firstSuccess.finished - kill
            let failures = writes.filter { $0.error != nil }
            print("""
                failover: \(before.count) writes before the kill; replica promoted \(promotion.milliseconds) ms after it, \
                client converged after \(convergence.milliseconds) ms; failures: \(failures.map { $0.error!.message })
                """)

            #expect(before.count > 10)
            #expect(after.filter { $0.error == nil }.count == 200)
            // Only writes in flight while the victim dies may fail (their outcome is unknown); later ones wait
            // for the promotion.
            #expect(failures.allSatisfy { $0.started < reaped && $0.error!.isConnectionFailure })
            #expect(convergence < RedisTestCluster.nodeTimeout * 5)
            #expect(try await cluster.slotOwners(askingPort: heir)[HashSlot(key: keys[0]).number] == heir)

            var latest: [String: Int] = [:]
            for write in after where write.error == nil { latest[write.key] = write.value }
            for (key, value) in latest {
                #expect(try await heirNode.execute("GET", key).int == value)
                #expect(try await client.execute("GET", key).int == value)
            }
        }
    }
}
