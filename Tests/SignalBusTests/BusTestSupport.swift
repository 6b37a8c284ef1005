import Foundation
import Logging
import Redis
import RedisTestSupport
import SignalBus
import Synchronization
import Testing

/// Consumers log nothing unless `TEST_LOG_LEVEL` (trace, debug, info, …) asks for it.
let testLogger: Logger = {
    var logger = Logger(label: "signalbus-tests")
    logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}()

/// An error a receiver throws on purpose.
struct PoisonError: Error, CustomStringConvertible {
    let description: String
}

/// A thread-safe counter for closures that run inside consumers.
final class Counter: Sendable {
    private let value = Mutex(0)

    /// Adds one and returns the new value.
    @discardableResult
    func increment() -> Int {
        value.withLock { count in
            count += 1
            return count
        }
    }

    var current: Int { value.withLock { $0 } }
}

/// Short block, claim and recovery times so tests run fast.
func fastConfiguration(claimIdle: Duration = .milliseconds(300), maxDeliveries: Int = 3) -> BusConfiguration {
    var configuration = BusConfiguration()
    configuration.traceSample = 1
    configuration.block = .milliseconds(100)
    configuration.recoveryInterval = .milliseconds(100)
    configuration.claimIdle = claimIdle
    configuration.maxDeliveries = maxDeliveries
    configuration.shutdownTimeout = .seconds(2)
    return configuration
}

/// A consumer of `group` on `server`.
func consumer(
    _ group: ReceiverGroup, on server: RedisTestServer, name: String? = nil,
    configuration: BusConfiguration = fastConfiguration()
) -> GroupConsumer {
    GroupConsumer(group: group, redis: .server(server.configuration), configuration: configuration, consumerName: name, logger: testLogger)
}

/// Runs the consumers concurrently while `body` runs, then cancels them and waits for them to return.
func withConsumers(_ consumers: [GroupConsumer], _ body: () async throws -> Void) async throws {
    try await withServices(consumers.map { consumer in { try await consumer.run() } }, body)
}

/// Waits until ``isSettled(_:_:)``.
func waitSettled(
    _ client: RedisClient, _ pairs: [(stream: String, group: String)], within timeout: Duration = .seconds(20)
) async throws {
    try await eventually("groups \(pairs.map { "\($0.group)@\($0.stream)" }) to settle", within: timeout) {
        (try? await isSettled(client, pairs)) ?? false
    }
}

/// `XPENDING key group` summary count.
func pendingCount(_ client: RedisClient, _ stream: String, _ group: String) async throws -> Int? {
    try await client.execute("XPENDING", stream, group).array?.first?.int
}

/// The trace records of the chain rooted at `trace`, groups in name order.
func traceRecords(_ client: RedisClient, _ trace: String) async throws -> [TraceRecord] {
    try await ChainTrace.records(trace: trace, groups: [], redis: client)
}

/// An absolute path for a scratch file.
func scratchFile(_ name: String) -> String {
    NSTemporaryDirectory() + "signalbus-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
}

/// The path of `redis-cli`, next to redis-server.
func redisCLI() throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
    let candidates = path.split(separator: ":").map { "\($0)/redis-cli" } + ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw TestServerError(message: "redis-cli is not installed (it comes with redis-server)")
    }
    return found
}

/// The production defaults with every chain traced, for tests that read traces back.
let tracedConfiguration: BusConfiguration = {
    var configuration = BusConfiguration()
    configuration.traceSample = 1
    return configuration
}()

/// A gate a receiver's closure waits at, on its consumer's own thread, until the test opens it.
final class Gate: Sendable {
    private let state = Mutex((open: false, passed: false))

    /// Blocks until the gate opens or `timeout` passes.
    func wait(upTo timeout: Duration) {
        let deadline = ContinuousClock.now + timeout
        while !state.withLock({ $0.open }) && ContinuousClock.now < deadline { usleep(5_000) }
        state.withLock { $0.passed = true }
    }

    func open() { state.withLock { $0.open = true } }

    /// Whether a waiter has gone through.
    var passed: Bool { state.withLock { $0.passed } }
}

/// Every key, sorted.
func allKeys(_ client: RedisClient) async throws -> [String] {
    (try await client.execute("KEYS", "*").array ?? []).compactMap(\.string).sorted()
}

/// A group whose one receiver counts each message it handles in `count:<group>` and `seen:<group>`.
func countingGroup(_ name: String, on topic: Topic, tag: String? = nil) -> ReceiverGroup {
    ReceiverGroup(name: name, receivers: [
        Receiver("count", on: [topic], guard: { _ in nil }, effect: { context in
            context.write(.hashIncrement(key: "count:\(name)", field: context.message.id, amount: 1))
            context.write(.setAdd(key: "seen:\(name)", member: context.message.id))
            if let tag { context.write(.setAdd(key: "by:\(tag)", member: context.message.id)) }
        }),
    ])
}

/// Messages `<prefix><n>` for `n` in `range`, a millisecond apart.
func messages(_ topic: Topic, _ range: Range<Int>, prefix: String = "m") -> [OutgoingMessage] {
    range.map { OutgoingMessage(topic: topic, id: "\(prefix)\($0)", atMs: 1_732_600_000_000 + Int64($0), payload: [("n", String($0))]) }
}

/// How many times the server ran `command` (scripts' calls included) since its statistics were last reset.
func commandCalls(_ client: RedisClient, _ command: String) async throws -> Int {
    let info = try await client.execute("INFO", "commandstats").string ?? ""
    for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_\(command):calls=") {
        let rest = line.dropFirst("cmdstat_\(command):calls=".count)
        return Int(rest.prefix { $0.isNumber }) ?? -1
    }
    return 0
}
