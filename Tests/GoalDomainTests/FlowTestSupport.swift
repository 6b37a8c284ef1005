import Foundation
import GoalDomain
import Logging
import Redis
import RedisTestSupport
import SignalBus
import Testing

/// Consumers log nothing unless `TEST_LOG_LEVEL` (trace, debug, info, …) asks for it.
let testLogger: Logger = {
    var logger = Logger(label: "goaldomain-tests")
    logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}()

/// The reference flow's event time, Unix seconds.
let T: Int64 = 1_732_600_000

/// The five receiver groups of the flow.
let flowGroups: [ReceiverGroup] = [
    KaraokeReceivers.group(), GoalReceivers.group(), SessionReceivers.group(), EscrowReceivers.group(), TrackingReceivers.group(),
]

/// Every (stream, group) pair of the flow.
let flowPairs: [(stream: String, group: String)] = flowGroups.flatMap { group in
    group.topics.map { (stream: $0.key, group: group.name) }
}

/// Short block and recovery times so tests run fast.
func fastConfiguration() -> BusConfiguration {
    var configuration = BusConfiguration()
    configuration.traceSample = 1
    configuration.block = .milliseconds(100)
    configuration.recoveryInterval = .milliseconds(100)
    configuration.claimIdle = .seconds(2)
    configuration.maxDeliveries = 3
    configuration.shutdownTimeout = .seconds(2)
    return configuration
}

/// Runs one consumer of each flow group against `server` while `body` runs, then stops them.
func withFlow(_ server: RedisTestServer, configuration: BusConfiguration = fastConfiguration(), _ body: () async throws -> Void) async throws {
    let consumers = flowGroups.map {
        GroupConsumer(group: $0, redis: .server(server.configuration), configuration: configuration, logger: testLogger)
    }
    try await withServices(consumers.map { consumer in { try await consumer.run() } }, body)
}

/// Whether every flow group has read every entry of its streams and has nothing pending.
func isSettled(_ client: RedisClient) async throws -> Bool {
    try await isSettled(client, flowPairs)
}

/// Waits until the whole flow is idle.
func waitSettled(_ client: RedisClient, within timeout: Duration = .seconds(20)) async throws {
    try await eventually("every group on every stream to settle", within: timeout) {
        (try? await isSettled(client)) ?? false
    }
}

/// A webhook event as the gateway publishes it: `channel`, `goal_id` for goal channels, `user_id`.
func webhook(_ topic: Topic, id: String, at seconds: Int64, channel: String, user: String? = "v1") -> OutgoingMessage {
    var payload: [(String, String)] = [("channel", channel)]
    if let goalID = GoalChannel.goalID(of: channel) { payload.append(("goal_id", goalID)) }
    if let user { payload.append(("user_id", user)) }
    return OutgoingMessage(topic: topic, id: id, atMs: seconds * 1000, payload: payload)
}

/// `XLEN` of several keys.
func lengths(_ client: RedisClient, _ keys: [String]) async throws -> [String: Int] {
    var result: [String: Int] = [:]
    for key in keys { result[key] = try await client.execute("XLEN", key).int ?? -1 }
    return result
}

/// Every key, sorted.
func allKeys(_ client: RedisClient) async throws -> [String] {
    (try await client.execute("KEYS", "*").array ?? []).compactMap(\.string).sorted()
}

/// The trace records of the chain rooted at `trace`, groups in name order.
func traceRecords(_ client: RedisClient, _ trace: String) async throws -> [TraceRecord] {
    try await ChainTrace.records(trace: trace, groups: [], redis: client)
}

/// The reference goal: g1, target 360, session s1, viewer v1, amount 500.
func referenceSpec(id: String = "g1", exp: Int64? = nil) -> GoalSpec {
    var spec = GoalSpec(id: id)
    spec.targets = [360]
    spec.sessionID = "s1"
    spec.viewer = "v1"
    spec.amount = 500
    spec.exp = exp
    return spec
}

/// The production defaults with every chain traced, for tests that read traces back.
let tracedConfiguration: BusConfiguration = {
    var configuration = BusConfiguration()
    configuration.traceSample = 1
    return configuration
}()
