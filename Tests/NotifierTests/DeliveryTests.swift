import Foundation
import Notifier
import Redis
import RedisTestSupport
import Testing

@Suite("Delivery: signed requests, acknowledgements, retries, dead letters")
struct DeliveryTests {
    @Test("entries are sent signed, with the right body and path, in order, and acknowledged")
    func deliversSigned() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                var sent: [(channel: String, event: String, data: String)] = []
                for index in 0..<5 {
                    let data = #"{"goal_id":"g-\#(index)","progress":"\#(index * 60)","note":"a \"quoted\" é"}"#
                    sent.append(("presence-enc-goal@g-\(index)", "goal-progress-updated", data))
                    try await appendOutbox(client, channel: "presence-enc-goal@g-\(index)", event: "goal-progress-updated", data: data, cause: "m\(index)")
                }
                try await withNotifier(PusherNotifier(configuration: fastConfiguration(stub), redis: .server(server.configuration), logger: testLogger)) {
                    try await eventually("every entry to be acknowledged") { try await outboxSettled(client) }
                    // Entries appended while it runs are sent too.
                    try await appendOutbox(client, channel: "presence-enc-goal@late", event: "goal-ended", data: "{}")
                    sent.append(("presence-enc-goal@late", "goal-ended", "{}"))
                    try await eventually("the late entry to be acknowledged") {
                        let settled = try await outboxSettled(client)
                        return settled && stub.received.count == 6
                    }
                }
                let received = stub.received
                #expect(received.count == 6)
                for (request, expected) in zip(received, sent) {
                    #expect(request.authProblem == nil, "signature: \(request.authProblem ?? "")")
                    #expect(request.status == 200)
                    #expect(request.path == "/apps/\(stub.appID)/events")
                    #expect(Set(request.query.keys) == ["auth_key", "auth_timestamp", "auth_version", "body_md5", "auth_signature"])
                    let event = try #require(request.event)
                    #expect(event.name == expected.event)
                    #expect(event.channels == [expected.channel])
                    #expect(event.data == expected.data)
                }
                #expect(try await pendingCount(client) == 0)
                #expect(try await client.execute("XLEN", "dead:outbox:pusher").int == 0)
                #expect(try await client.execute("HLEN", "errors:notifier").int == 0)
            }
        }
    }

    @Test("503 twice then 200: retried with backoff, then acknowledged; one successful delivery")
    func retriesServerErrors() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                stub.plan([PlannedAnswer(status: 503, body: "busy"), PlannedAnswer(status: 503, body: "busy")])
                let entry = try await appendOutbox(client, channel: "presence-enc-goal@g-1", event: "goal-ended", data: #"{"goal_id":"g-1"}"#)
                try await withNotifier(PusherNotifier(configuration: fastConfiguration(stub), redis: .server(server.configuration), logger: testLogger)) {
                    try await eventually("the entry to be acknowledged") { try await outboxSettled(client) }
                    try await Task.sleep(for: .milliseconds(300))
                }
                let received = stub.received
                #expect(received.map(\.status) == [503, 503, 200])
                #expect(received.allSatisfy { $0.authProblem == nil })
                #expect(Set(received.map(\.body)).count == 1, "every attempt sends the same body")
                #expect(received.filter { $0.status == 200 }.count == 1)
                #expect(try await pendingCount(client) == 0)
                #expect(try await client.execute("XLEN", "dead:outbox:pusher").int == 0)
                #expect(try await client.execute("HEXISTS", "errors:notifier", "outbox:pusher \(entry)").int == 0, "the recorded error is cleared")
            }
        }
    }

    @Test("400: moved to dead:outbox:pusher at once with the status and body, acknowledged, not retried")
    func deadLettersClientErrors() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                stub.plan([PlannedAnswer(status: 400, body: #"{"error":"Invalid channel name"}"#)])
                let entry = try await appendOutbox(client, channel: "presence-enc-goal@g-2", event: "goal-ended", data: "{}", cause: "msg-9")
                try await appendOutbox(client, channel: "presence-enc-goal@g-3", event: "goal-ended", data: "{}")
                try await withNotifier(PusherNotifier(configuration: fastConfiguration(stub), redis: .server(server.configuration), logger: testLogger)) {
                    try await eventually("both entries to be settled") { try await outboxSettled(client) }
                    try await Task.sleep(for: .milliseconds(300))
                }
                #expect(stub.received.map(\.status) == [400, 200], "the refused entry is not retried, the next one is sent")
                let dead = try await outboxEntries(client, "dead:outbox:pusher")
                #expect(dead.count == 1)
                let fields = try #require(dead.first?.fields)
                #expect(fields["channel"] == "presence-enc-goal@g-2")
                #expect(fields["event"] == "goal-ended")
                #expect(fields["data"] == "{}")
                #expect(fields["cause"] == "msg-9")
                #expect(fields["dead.group"] == "notifier")
                #expect(fields["dead.entry"] == entry)
                #expect(fields["dead.deliveries"] == "1")
                #expect(fields["dead.error"] == #"Pusher answered 400: {"error":"Invalid channel name"}"#)
                #expect(try await pendingCount(client) == 0)
                #expect(try await client.execute("HLEN", "errors:notifier").int == 0)
            }
        }
    }

    @Test("a 5xx every time: dead-lettered after the configured attempts, with the last error")
    func givesUpAfterMaxAttempts() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                stub.plan(Array(repeating: PlannedAnswer(status: 502, body: "bad gateway"), count: 10))
                let entry = try await appendOutbox(client, channel: "presence-enc-goal@g-4", event: "goal-ended", data: "{}")
                try await withNotifier(PusherNotifier(configuration: fastConfiguration(stub, maxAttempts: 3), redis: .server(server.configuration), logger: testLogger)) {
                    try await eventually("the entry to be dead-lettered") { try await client.execute("XLEN", "dead:outbox:pusher").int == 1 }
                    try await eventually("the entry to be settled") { try await outboxSettled(client) }
                }
                #expect(stub.received.count == 3)
                let fields = try #require(try await outboxEntries(client, "dead:outbox:pusher").first?.fields)
                #expect(fields["dead.entry"] == entry)
                #expect(fields["dead.deliveries"] == "3")
                #expect(fields["dead.error"] == "gave up after 3 attempts: Pusher answered 502: bad gateway")
                #expect(try await client.execute("HLEN", "errors:notifier").int == 0)
            }
        }
    }

    @Test("a request that outlives the timeout is retried, then acknowledged")
    func retriesTimeouts() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                stub.plan([PlannedAnswer(status: 200, delay: .seconds(2))])
                var configuration = fastConfiguration(stub)
                configuration.requestTimeout = .milliseconds(500)
                try await appendOutbox(client, channel: "presence-enc-goal@g-5", event: "goal-ended", data: "{}")
                let started = ContinuousClock.now
                try await withNotifier(PusherNotifier(configuration: configuration, redis: .server(server.configuration), logger: testLogger)) {
                    try await eventually("the entry to be acknowledged") { try await outboxSettled(client) }
                }
                let received = stub.received
                #expect(received.count == 2)
                if received.count == 2 {
                    let gap = received[1].at - received[0].at
                    // The stub stamps each request when its handler runs, which a loaded machine can delay for the
                    // first one: the bound below is the timeout less that slack.
                    #expect(gap >= .milliseconds(300) && gap < .milliseconds(1500), "the retry follows the 500 ms timeout and a 20 ms backoff (\(gap))")
                }
                #expect(ContinuousClock.now - started < .seconds(10))
            }
        }
    }

    @Test("connection refused is retried, then dead-lettered with the reason")
    func retriesConnectionErrors() async throws {
        try await withRedisServer { server in
            let client = server.client()
            try await FreePort.withRefusingPort { closedPort in
                var configuration = NotifierConfiguration(
                    baseURL: URL(string: "http://127.0.0.1:\(closedPort)")!, appID: "1", appKey: "k", appSecret: "s"
                )
                configuration.block = .milliseconds(100)
                configuration.initialBackoff = .milliseconds(20)
                configuration.maxBackoff = .milliseconds(100)
                configuration.maxAttempts = 3
                try await appendOutbox(client, channel: "presence-enc-goal@g-6", event: "goal-ended", data: "{}")
                try await withNotifier(PusherNotifier(configuration: configuration, redis: .server(server.configuration), logger: testLogger)) {
                    try await eventually("the entry to be dead-lettered") { try await client.execute("XLEN", "dead:outbox:pusher").int == 1 }
                }
            }
            let fields = try #require(try await outboxEntries(client, "dead:outbox:pusher").first?.fields)
            #expect(fields["dead.deliveries"] == "3")
            #expect(fields["dead.error"] == "gave up after 3 attempts: connection refused")
            #expect(try await pendingCount(client) == 0)
        }
    }

    @Test("an entry without channel or event is dead-lettered without a request")
    func malformed() async throws {
        try await withRedisServer { server in
            try await PusherStub.with { stub in
                let client = server.client()
                try await client.execute("XADD", "outbox:pusher", "*", "event", "goal-ended", "data", "{}")
                try await withNotifier(PusherNotifier(configuration: fastConfiguration(stub), redis: .server(server.configuration), logger: testLogger)) {
                    try await eventually("the entry to be dead-lettered") { try await client.execute("XLEN", "dead:outbox:pusher").int == 1 }
                }
                #expect(stub.received.isEmpty)
                let fields = try #require(try await outboxEntries(client, "dead:outbox:pusher").first?.fields)
                #expect(fields["dead.error"] == "malformed outbox entry: channel and event are required")
                #expect(try await pendingCount(client) == 0)
            }
        }
    }
}
