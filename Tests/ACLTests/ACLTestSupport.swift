import Foundation
import Logging
import Redis
import RedisTestSupport
import SignalBus
import Testing

// `Config/redis-acl.conf` gives every executable its own Redis user with only the keys, commands and pub/sub
// channels it needs. Redis 7.0 ACL files cannot hold comments, so the file is explained here.
//
// Passwords. Each user but `default` carries the placeholder `#<NAME_PASSWORD_SHA256>`: replace it with
// `#<sha256 hex of the password>` (`printf %s "$PW" | sha256sum`) or with `>password` before deploying. The
// placeholder is not a valid hash, so Redis refuses to start on the file as shipped (a forgotten password
// never becomes a guessable one). The services take the user in `REDIS_URL`:
// `redis://escrow:<password>@redis:6379/0`. Database 0 only: no user may `SELECT`.
//
// `default` (no password) may only `PING`, for health checks (`redis-cli ping`, the test harness; the compose
// stack instead makes `default` the operator's login, with its password: Config/redis-start.sh); `admin` is
// the break-glass user with every right; `operator` is for `goalctl` (except `bench`, which needs a scratch
// Redis) and the redis-cli recipes of Docs/redis-cli.md: it reads every key and writes only goals,
// sessions, escrows, `goals:expiring`, dead letters and the streams a replay or `goal end` writes.
//
// Why each receiver user has two selectors. Redis 7.0 checks `EVAL`/`EVALSHA` against its declared KEYS with
// the command's key spec, which is `RW ACCESS UPDATE` ("we cannot tell how the keys will be used"): every
// declared key needs read *and* write permission, so a `%R~` (read-only) pattern fails the call with NOPERM
// even when the script only `HGET`s that key. Then every `redis.call` inside the script is checked again,
// against the whole user, with that command's own key spec (`HGET` needs read, `HSET` write). The commit
// script declares every key it touches, including the goal hash that escrow and sessions only read for the
// optimistic-concurrency check. So each receiver user is:
//   - the root selector: the data commands, with the real permissions (`%R~goal:{*}` for escrow and sessions,
//     `%W~` for streams it only appends to, no access to other groups' keys);
//   - `(+xgroup|create +xreadgroup +xack … ~<consumed streams>)`: consuming, but never `XADD`, so a group
//     cannot forge the signals it receives;
//   - `(+evalsha +eval ~<every key its scripts declare>)`: passes the call-level check of the commit and
//     dead-letter scripts, and grants no data command, so inside the script only the root permissions apply.
// The notifier's user is built the same way: its root selector holds its errors hash, its heartbeats
// (`heartbeat:notifier:*`) and write-only dead letters; the consume selector takes `outbox:pusher` (read, claim,
// take over, trim, leave), never `XADD`, so the notifier cannot forge the notifications it sends; the script
// selector declares what its scripts touch. Its whole path is run under it in NotifierTests (ACLNotifierTests).
// The tests below prove each of these on a real redis-server.

/// Consumers log nothing unless `TEST_LOG_LEVEL` (trace, debug, info, …) asks for it.
let testLogger: Logger = {
    var logger = Logger(label: "acl-tests")
    logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}()

/// The users of `Config/redis-acl.conf` that have a password placeholder.
let aclUsers = ["admin", "gateway", "notifier", "karaoke", "goals", "sessions", "escrow", "tracking", "operator"]

/// The test password of `user`.
func testPassword(_ user: String) -> String { "test-\(user)-pw" }

/// `Config/redis-acl.conf`, found from this file's place in the package.
func shippedACLFile() throws -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Config/redis-acl.conf")
    return try String(contentsOf: url, encoding: .utf8)
}

/// Writes `text` to a new temporary file and returns its path.
func temporaryFile(_ text: String, name: String = "redis-acl") throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("\(name)-\(UUID().uuidString).conf").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// The shipped ACL file with every placeholder replaced by the user's test password (`>password`).
func filledACLFile() throws -> String {
    var text = try shippedACLFile()
    for user in aclUsers {
        text = text.replacingOccurrences(of: "#<\(user.uppercased())_PASSWORD_SHA256>", with: ">\(testPassword(user))")
    }
    return text
}

/// A redis-server running the shipped ACL file (with test passwords), and clients for its users.
struct ACLServer {
    let server: RedisTestServer

    /// How `user` connects.
    func configuration(_ user: String, password: String? = nil) throws -> RedisConfiguration {
        try RedisConfiguration(url: "redis://\(user):\(password ?? testPassword(user))@127.0.0.1:\(server.port)/0")
    }

    /// A new client authenticated as `user`.
    func client(_ user: String) throws -> RedisClient {
        RedisClient(configuration: try configuration(user), name: "acl-\(user)")
    }

    /// Throws at once when Redis refused anything (so a missing permission fails fast and says which).
    func checkNoRefusals(_ admin: RedisClient) async throws {
        let log = try await aclLog(admin)
        if !log.isEmpty { throw ACLRefused(log: log) }
    }

    /// `ACL LOG` entries as `reason context object username` lines, newest first, for the users the services
    /// run as. Refusals of `default` (no credentials) are left out: every client of these tests logs in, and an
    /// unauthenticated one can only be a client of another test, still reconnecting to a port its stopped
    /// server had and this server took over.
    func aclLog(_ admin: RedisClient) async throws -> [String] {
        let entries = try await admin.execute("ACL", "LOG").array ?? []
        return entries.map(\.pairs).filter { $0["username"]?.string != "default" }.map { fields in
            ["reason", "context", "object", "username"].map { fields[$0]?.string ?? "?" }.joined(separator: " ")
        }
    }
}

/// Runs `body` against a fresh redis-server started with the shipped ACL file; stops the server afterwards.
func withACLServer(_ body: (ACLServer, RedisClient) async throws -> Void) async throws {
    let path = try temporaryFile(try filledACLFile())
    defer { try? FileManager.default.removeItem(atPath: path) }
    try await withRedisServer(extraArguments: ["--aclfile", path]) { server in
        let acl = ACLServer(server: server)
        let admin = try acl.client("admin")
        try await body(acl, admin)
        await admin.close()
    }
}

/// Redis refused a command of a service (from `ACL LOG`).
struct ACLRefused: Error, CustomStringConvertible {
    let log: [String]
    var description: String { "Redis refused (reason context object user): \(log.joined(separator: "; "))" }
}

/// Short block, claim and recovery times so tests run fast.
func fastConfiguration() -> BusConfiguration {
    var configuration = BusConfiguration()
    configuration.traceSample = 1
    configuration.block = .milliseconds(100)
    configuration.recoveryInterval = .milliseconds(100)
    configuration.claimIdle = .milliseconds(300)
    configuration.maxDeliveries = 2
    configuration.shutdownTimeout = .seconds(2)
    return configuration
}

/// One consumer of `group`, connected as the Redis user of the same name.
func consumer(_ group: ReceiverGroup, on acl: ACLServer, user: String? = nil) throws -> @Sendable () async throws -> Void {
    let consumer = GroupConsumer(
        group: group, redis: .server(try acl.configuration(user ?? group.name)), configuration: fastConfiguration(), logger: testLogger
    )
    return { try await consumer.run() }
}

/// Whether the group has handled the message with envelope `id`: its entry, on whichever bus stream holds it,
/// was delivered to the group and is no longer pending.
func handled(_ admin: RedisClient, group: String, id: String) async throws -> Bool {
    let streams = try await admin.execute("KEYS", "*").array?.compactMap(\.string).filter { $0.hasPrefix("signal:") || $0.hasPrefix("task:") } ?? []
    for stream in streams {
        for entry in try await admin.execute("XRANGE", stream, "-", "+").array ?? [] {
            guard let parts = entry.array, parts.count == 2, parts[1].fieldMap["id"] == id, let entryID = parts[0].string else { continue }
            let info = try await admin.execute("XINFO", "GROUPS", stream).array?.map(\.pairs).first { $0["name"]?.string == group }
            guard let delivered = info?["last-delivered-id"]?.string, !isBefore(delivered, entryID) else { return false }
            let pending = try await admin.execute("XPENDING", stream, group, entryID, entryID, 1).array ?? []
            return pending.isEmpty
        }
    }
    return false
}

/// Whether stream id `a` comes before `b`.
private func isBefore(_ a: String, _ b: String) -> Bool {
    let (x, y) = (a.split(separator: "-").compactMap { Int($0) }, b.split(separator: "-").compactMap { Int($0) })
    return x.lexicographicallyPrecedes(y)
}

/// Waits until `group` has handled the message with envelope `id`; fails at once on an ACL refusal.
func waitHandled(_ acl: ACLServer, _ admin: RedisClient, group: String, id: String) async throws {
    try await eventually("\(group) to handle \(id)") {
        try await acl.checkNoRefusals(admin)
        return try await handled(admin, group: group, id: id)
    }
}

/// The fields of every entry of a stream, oldest first.
func entryMaps(_ client: RedisClient, _ key: String) async throws -> [[String: String]] {
    let reply = try await client.execute("XRANGE", key, "-", "+")
    return (reply.array ?? []).compactMap { entry in entry.array.flatMap { $0.count == 2 ? $0[1].fieldMap : nil } }
}

/// The server's error text for `command`, or `nil` when it succeeded.
func refusal(_ client: RedisClient, _ command: RedisCommand) async -> String? {
    do {
        try await client.execute(command)
        return nil
    } catch {
        return error.message
    }
}

/// The server's error text for `command` sent as `name arguments…`.
func refusal(_ client: RedisClient, _ name: String, _ arguments: any RedisArgument...) async -> String? {
    await refusal(client, RedisCommand(name, arguments: arguments))
}

/// A goal signal as the goals group publishes it (`goal_id`, `_cls`, `progress`, `levels.0.target`, …).
func goalSignal(
    _ topic: Topic, id: String, goal: String, at seconds: Int64, progress: Int64, level: Int = 0, oldLevel: Int = 0,
    active: Bool = false, cls: String = "ExclusiveGoal"
) -> OutgoingMessage {
    OutgoingMessage(topic: topic, id: id, atMs: seconds * 1000, payload: [
        ("goal_id", goal), ("_cls", cls), ("active", active ? "1" : "0"), ("progress", String(progress)),
        ("levels.0.target", "360"), ("level", String(level)), ("old_level", String(oldLevel)),
        ("exp", String(seconds)), ("triggerer", ""), ("conditions", "{}"), ("metadata", "{}"),
    ])
}

/// The event time the tests use, Unix seconds.
let T: Int64 = 1_732_600_000

/// The production defaults with every chain traced, for tests that read traces back.
let tracedConfiguration: BusConfiguration = {
    var configuration = BusConfiguration()
    configuration.traceSample = 1
    return configuration
}()
