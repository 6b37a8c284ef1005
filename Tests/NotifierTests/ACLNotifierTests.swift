import Foundation
import Notifier
import Redis
import RedisTestSupport
import Testing

/// The notifier's whole Redis path under its own user of `Config/redis-acl.conf`: nothing refused.
@Suite("The notifier under its ACL user")
struct ACLNotifierTests {
    /// `Config/redis-acl.conf` with every password placeholder replaced by `>test-<user>-pw`.
    static func filledACLFile() throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Config/redis-acl.conf")
        var text = try String(contentsOf: url, encoding: .utf8)
        for user in ["admin", "gateway", "notifier", "karaoke", "goals", "sessions", "escrow", "tracking", "operator"] {
            text = text.replacingOccurrences(of: "#<\(user.uppercased())_PASSWORD_SHA256>", with: ">test-\(user)-pw")
        }
        return text
    }

    static func configuration(_ user: String, port: Int) throws -> RedisConfiguration {
        try RedisConfiguration(url: "redis://\(user):test-\(user)-pw@127.0.0.1:\(port)/0")
    }

    @Test("sending, retrying, dead-lettering, taking over a stopped replica, trimming and leaving are refused nothing")
    func wholePath() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("redis-acl-\(UUID().uuidString).conf").path
        try Self.filledACLFile().write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withRedisServer(extraArguments: ["--aclfile", path]) { server in
            try await PusherStub.with { stub in
                let admin = RedisClient(configuration: try Self.configuration("admin", port: server.port))
                try await admin.execute("CONFIG", "SET", "stream-node-max-entries", "10")
                try await admin.execute("XGROUP", "CREATE", "outbox:pusher", "notifier", "0", "MKSTREAM")
                for index in 0..<3 { try await appendOutbox(admin, channel: "presence-enc-goal@lost\(index)", event: "goal-ended", data: "{}") }
                try await admin.execute("XREADGROUP", "GROUP", "notifier", "notifier-killed", "COUNT", 10, "STREAMS", "outbox:pusher", ">")
                stub.plan([PlannedAnswer(status: 503)], channel: "presence-enc-goal@retried")
                stub.plan([PlannedAnswer(status: 400, body: "no such channel")], channel: "presence-enc-goal@refused")

                var configuration = fastConfiguration(stub)
                configuration.claimIdle = .seconds(120)
                configuration.heartbeat = .milliseconds(500)
                configuration.streamKeep = 20
                let notifier = PusherNotifier(
                    configuration: configuration, redis: .server(try Self.configuration("notifier", port: server.port)),
                    consumerName: "notifier-acl", logger: testLogger
                )
                try await withNotifier(notifier) {
                    try await appendOutbox(admin, channel: "presence-enc-goal@retried", event: "goal-ended", data: "{}")
                    try await appendOutbox(admin, channel: "presence-enc-goal@refused", event: "goal-ended", data: "{}")
                    for index in 0..<60 { try await appendOutbox(admin, channel: "presence-enc-goal@n\(index)", event: "goal-ended", data: "{}") }
                    try await eventually("every entry to be settled and the outbox trimmed", within: .seconds(15)) {
                        try await Self.checkNoRefusals(admin)
                        guard try await outboxSettled(admin) else { return false }
                        return (try await admin.execute("XLEN", "outbox:pusher").int ?? 0) <= 30
                    }
                }
                try await Self.checkNoRefusals(admin)
                #expect(stub.received.filter { $0.status == 200 }.count == 64, "3 taken over, 1 retried, 60 sent")
                #expect(try await admin.execute("XLEN", "dead:outbox:pusher").int == 1, "the refused one")
                let consumers = (try await admin.execute("XINFO", "CONSUMERS", "outbox:pusher", "notifier").array ?? []).compactMap { $0.pairs["name"]?.string }
                #expect(consumers.isEmpty, "the stopped replica was removed, the clean stop left")
                #expect(try await admin.execute("EXISTS", "heartbeat:notifier:notifier-acl").int == 0)
                await admin.close()
            }
        }
    }

    /// Throws when Redis refused anything (`ACL LOG`), naming what.
    static func checkNoRefusals(_ admin: RedisClient) async throws {
        let entries = try await admin.execute("ACL", "LOG").array ?? []
        let log = entries.map { entry in
            let fields = entry.pairs
            return ["reason", "context", "object", "username"].map { fields[$0]?.string ?? "?" }.joined(separator: " ")
        }
        if !log.isEmpty { throw ACLRefused(log: log) }
    }
}

/// Redis refused a command of the notifier (from `ACL LOG`).
struct ACLRefused: Error, CustomStringConvertible {
    let log: [String]
    var description: String { "Redis refused (reason context object user): \(log.joined(separator: "; "))" }
}
