import Foundation
import Logging
import Redis
import ServiceLifecycle
import ServiceRuntime
import SignalBus

/// Sends the client notifications that receivers append to `outbox:pusher` to Pusher's HTTP API, as a `Service`.
///
/// It is a uniquely named consumer in the consumer group `notifier` on the stream. For each entry
/// (`channel`, `event`, `data`) it signs and sends `POST /apps/<id>/events` and:
/// - on a 2xx acknowledges the entry;
/// - on a 5xx, a 408 or 429, a timeout or a connection error leaves it pending and retries with exponential
///   backoff, renewing its claim before each retry; after ``NotifierConfiguration/maxAttempts`` attempts it
///   moves it to `dead:outbox:pusher` with `dead.group`, `dead.entry`, `dead.deliveries`, `dead.error`;
/// - on any other status (4xx) moves it to the dead letters at once, with the status and response body.
///
/// Like a receiver group's replica, it keeps a heartbeat (`heartbeat:notifier:<consumer>`, refreshed by a task
/// of its own, so that a long retry never lets it lapse): when a replica stops without leaving (SIGKILL), a
/// live one takes its pending entries within ``NotifierConfiguration/heartbeat`` and a recovery pass, and
/// removes it from the group. Entries pending with a replica that is alive but stuck are claimed after
/// ``NotifierConfiguration/claimIdle``. It trims the outbox below what every group on it has acknowledged,
/// keeping ``NotifierConfiguration/streamKeep`` entries beyond. On graceful shutdown it finishes the request
/// in flight, leaves the group (unless it still holds entries, which stay pending for another replica) and
/// returns. Redis is used through clients of its own (a ``RedisClient`` for the work and one for the
/// heartbeat, or on a cluster ``RedisClusterClient``s), whose threads carry the blocking calls.
public struct PusherNotifier: Service {
    /// What to send where, and how to retry.
    public let configuration: NotifierConfiguration
    /// Where Redis is.
    public let redis: RedisEndpoint
    /// This consumer's name in the group; unique per replica.
    public let consumerName: String
    private let logger: Logger

    /// Creates a notifier; nothing happens until ``run()``.
    /// - Parameters:
    ///   - configuration: Pusher credentials and delivery settings.
    ///   - redis: where the outbox is.
    ///   - consumerName: the consumer's name; `notifier-<host>-<pid>-<random>` when `nil`.
    ///   - logger: the caller's logger; entries are logged with `outbox.entry`, `pusher.channel`, `pusher.event`.
    public init(configuration: NotifierConfiguration, redis: RedisEndpoint, consumerName: String? = nil, logger: Logger) {
        var configuration = configuration
        if redis.isCluster && !configuration.cluster { configuration.placeOnCluster() }
        self.configuration = configuration
        self.redis = redis
        self.consumerName = consumerName ?? Self.uniqueName(group: configuration.group)
        var logger = logger
        logger[metadataKey: "group"] = .string(configuration.group)
        logger[metadataKey: "consumer"] = .string(self.consumerName)
        self.logger = logger
    }

    /// Sends until graceful shutdown or cancellation; then finishes the request in flight, leaves the group
    /// and returns.
    public func run() async throws {
        let worker = NotifierWorker(
            configuration: configuration,
            client: try redis.makeRunner(name: "\(configuration.group)-consumer"),
            consumerName: consumerName,
            logger: logger
        )
        let heartbeat = worker.core.heartbeat
        let beats = try redis.makeRunner(name: "\(configuration.group)-heartbeat")
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await heartbeat.keep(on: beats) }
            await worker.run()
            tasks.cancelAll()
        }
        // The heartbeat has stopped: leaving now cannot be undone by a late refresh.
        await worker.leave()
    }

    /// The notifier as a list of services: one when `pusher.app.id`, `pusher.app.key` and
    /// `pusher.app.secret` are all configured, none otherwise, so a process can always add the result.
    /// - Throws: ``SettingsError`` for a notifier setting that cannot be used.
    public static func services(settings: Settings, redis: RedisEndpoint, logger: Logger) throws -> [any Service] {
        guard let configuration = try NotifierConfiguration(settings: settings) else {
            logger.info("Pusher notifier disabled: pusher.app.id, pusher.app.key and pusher.app.secret are not all set")
            return []
        }
        // With Redis ACLs the notifier connects as its own user (`notifier.redis.url`); otherwise as the process does.
        var notifierRedis = redis
        if let url = settings.optionalString("notifier.redis.url") {
            do {
                notifierRedis = try RedisEndpoint(url: url, cluster: redis.isCluster)
            } catch {
                throw SettingsError(key: "notifier.redis.url", message: error.message)
            }
        }
        return [PusherNotifier(configuration: configuration, redis: notifierRedis, logger: logger)]
    }

    private static func uniqueName(group: String) -> String {
        let process = ProcessInfo.processInfo
        return "\(group)-\(process.hostName)-\(process.processIdentifier)-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }
}
