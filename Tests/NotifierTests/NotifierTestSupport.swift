import Foundation
import Logging
import Notifier
import Redis
import RedisTestSupport

/// The notifier logs nothing unless `TEST_LOG_LEVEL` (trace, debug, info, …) asks for it.
let testLogger: Logger = {
    var logger = Logger(label: "notifier-tests")
    logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}()

/// A condition that did not come true in time.
struct TestTimeout: Error, CustomStringConvertible {
    let description: String
}

/// Polls `condition` every 20 ms until it holds; throws when `timeout` passes first.
func eventually(_ what: String, within timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        if ContinuousClock.now >= deadline { throw TestTimeout(description: "timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// Short block, claim, timeout and backoff times, sending to `stub`.
func fastConfiguration(_ stub: PusherStub, maxAttempts: Int = 4) -> NotifierConfiguration {
    var configuration = NotifierConfiguration(baseURL: stub.baseURL, appID: stub.appID, appKey: stub.appKey, appSecret: stub.appSecret)
    configuration.block = .milliseconds(100)
    configuration.recoveryInterval = .milliseconds(100)
    configuration.claimIdle = .seconds(5)
    configuration.requestTimeout = .seconds(2)
    configuration.initialBackoff = .milliseconds(20)
    configuration.maxBackoff = .milliseconds(200)
    configuration.maxAttempts = maxAttempts
    return configuration
}

/// Runs `notifier` in a `ServiceGroup` while `body` runs, then shuts the group down gracefully and waits.
/// - Returns: how long the graceful shutdown took.
@discardableResult
func withNotifier(_ notifier: PusherNotifier, _ body: () async throws -> Void) async throws -> Duration {
    try await withGracefulService(notifier, logger: testLogger, body)
}

/// Appends an outbox entry as `notify` does; returns its entry id.
@discardableResult
func appendOutbox(
    _ client: any RedisCommandRunner, channel: String, event: String, data: String, cause: String = "cause-1", stream: String = "outbox:pusher"
) async throws -> String {
    try await client.execute("XADD", stream, "*", "channel", channel, "event", event, "data", data, "cause", cause).string ?? ""
}

/// A stream's entries as (entry id, fields).
func outboxEntries(_ client: any RedisCommandRunner, _ key: String) async throws -> [(id: String, fields: [String: String])] {
    (try await client.execute("XRANGE", key, "-", "+").array ?? []).compactMap { entry in
        guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { return nil }
        return (id, parts[1].fieldMap)
    }
}

/// The group's pending count on `outbox:pusher`.
func pendingCount(_ client: any RedisCommandRunner, group: String = "notifier") async throws -> Int {
    try await client.execute("XPENDING", "outbox:pusher", group).array?.first?.int ?? -1
}

/// Whether the group has read every entry and has nothing pending.
func outboxSettled(_ client: RedisClient) async throws -> Bool {
    try await isSettled(client, [("outbox:pusher", "notifier")])
}
