import Foundation
import Notifier
import Redis
import RedisTestSupport
import ServiceLifecycle
import Testing

@Suite("Shutdown: prompt, finishing the request in flight")
struct ShutdownTests {
    @Test("an idle notifier stops promptly on graceful shutdown")
    func idleStop() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                let elapsed = try await withNotifier(PusherNotifier(configuration: fastConfiguration(stub), redis: .server(server.configuration), logger: testLogger)) {
                    try await eventually("the group to exist") {
                        (try? await client.execute("XINFO", "GROUPS", "outbox:pusher").array?.count) == 1
                    }
                    try await Task.sleep(for: .milliseconds(200))
                }
                // One 100 ms blocking read at most, about 150 ms alone; the whole suite on two cores has
                // stretched it past 1 s. Still under the default block (2 s) and the request timeout (2 s).
                #expect(elapsed < .milliseconds(1_500), "stopped in \(elapsed)")
            }
        }
    }

    @Test("a stop during a request lets it finish and acknowledges it; the rest of the batch stays pending")
    func stopMidRequest() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                stub.plan([PlannedAnswer(status: 200, delay: .milliseconds(700))])
                let first = try await appendOutbox(client, channel: "presence-enc-goal@slow", event: "goal-ended", data: "{}")
                try await appendOutbox(client, channel: "presence-enc-goal@next", event: "goal-ended", data: "{}")
                let elapsed = try await withNotifier(PusherNotifier(configuration: fastConfiguration(stub), redis: .server(server.configuration), logger: testLogger)) {
                    try await eventually("the slow request to arrive") { stub.received.count == 1 }
                }
                #expect(elapsed >= .milliseconds(400), "waited for the request in flight (\(elapsed))")
                #expect(elapsed < .seconds(2), "and no longer (\(elapsed))")
                #expect(stub.received.count == 1, "nothing is sent after the stop")
                let pending = try await client.execute("XPENDING", "outbox:pusher", "notifier", "-", "+", 10).array ?? []
                #expect(pending.compactMap { $0.array?.first?.string }.contains(first) == false, "the finished request is acknowledged")
                #expect(pending.count == 1, "the entry not sent stays pending for another consumer")
            }
        }
    }

    @Test("a stop during a retry's backoff returns at once, leaving the entry pending")
    func stopDuringBackoff() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                stub.plan([PlannedAnswer(status: 503)])
                var configuration = fastConfiguration(stub)
                configuration.initialBackoff = .seconds(30)
                configuration.maxBackoff = .seconds(30)
                configuration.claimIdle = .seconds(60)
                try await appendOutbox(client, channel: "presence-enc-goal@wait", event: "goal-ended", data: "{}")
                let elapsed = try await withNotifier(PusherNotifier(configuration: configuration, redis: .server(server.configuration), logger: testLogger)) {
                    try await eventually("the failed request") { stub.received.count == 1 }
                    try await Task.sleep(for: .milliseconds(100))
                }
                // One 100 ms blocking read at most, about 150 ms alone; the whole suite on two cores has
                // stretched it past 1 s. Still under the default block (2 s) and the request timeout (2 s).
                #expect(elapsed < .milliseconds(1_500), "stopped in \(elapsed)")
                #expect(try await pendingCount(client) == 1)
                #expect(try await client.execute("HGET", "errors:notifier", "outbox:pusher \(try await outboxEntries(client, "outbox:pusher")[0].id)").string?.hasPrefix("Pusher answered 503") == true)
            }
        }
    }

    @Test("cancelling the task stops it too")
    func cancellation() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let notifier = PusherNotifier(configuration: fastConfiguration(stub), redis: .server(server.configuration), logger: testLogger)
                let task = Task { try await notifier.run() }
                try await Task.sleep(for: .milliseconds(300))
                let started = ContinuousClock.now
                task.cancel()
                try await task.value
                // As a graceful stop: one 100 ms blocking read at most, stretched by a loaded machine.
                #expect(ContinuousClock.now - started < .milliseconds(1_500))
            }
        }
    }
}
