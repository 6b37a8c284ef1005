import Foundation
import Redis
import ServiceRuntime

extension NotifierConfiguration {
    /// Reads the notifier's settings; `nil` (the notifier is disabled) unless `pusher.app.id`,
    /// `pusher.app.key` and `pusher.app.secret` are all set.
    ///
    /// | key | environment | default |
    /// |---|---|---|
    /// | `pusher.app.id`, `pusher.app.key`, `pusher.app.secret` | `PUSHER_APP_ID`, … | required |
    /// | `pusher.cluster` | `PUSHER_CLUSTER` | `mt1` |
    /// | `pusher.api.url` | `PUSHER_API_URL` | `https://api-<cluster>.pusher.com` |
    /// | `notifier.timeout.ms` | `NOTIFIER_TIMEOUT_MS` | 5000 |
    /// | `notifier.batch.size` | `NOTIFIER_BATCH_SIZE` | 16 |
    /// | `notifier.block.ms` | `NOTIFIER_BLOCK_MS` | 2000 |
    /// | `notifier.claim.idle.ms` | `NOTIFIER_CLAIM_IDLE_MS` | 30000 |
    /// | `notifier.max.attempts` | `NOTIFIER_MAX_ATTEMPTS` | 8 |
    /// | `notifier.backoff.initial.ms` | `NOTIFIER_BACKOFF_INITIAL_MS` | 100 |
    /// | `notifier.backoff.max.ms` | `NOTIFIER_BACKOFF_MAX_MS` | 10000 |
    /// | `bus.heartbeat.ms` | `BUS_HEARTBEAT_MS` | 3000 |
    /// | `bus.stream.keep` | `BUS_STREAM_KEEP` | 10000 |
    ///
    /// - Throws: ``SettingsError`` naming the key of a value that cannot be used.
    public init?(settings: Settings) throws {
        guard let appID = try Self.identifier(settings, "pusher.app.id"),
              let appKey = settings.optionalString("pusher.app.key"),
              let appSecret = settings.optionalString("pusher.app.secret")
        else { return nil }

        let cluster = settings.string("pusher.cluster", default: "mt1")
        guard !cluster.isEmpty, cluster.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw SettingsError(key: "pusher.cluster", message: "'\(cluster)' is not a cluster name such as mt1 or eu")
        }
        let baseURL = try settings.optionalString("pusher.api.url").map { try Self.apiURL($0) } ?? Self.clusterURL(cluster)
        self.init(baseURL: baseURL, appID: appID, appKey: appKey, appSecret: appSecret)

        requestTimeout = .milliseconds(try settings.int("notifier.timeout.ms", default: Int(requestTimeout.milliseconds), in: 10...300_000))
        batchSize = try settings.int("notifier.batch.size", default: batchSize, in: 1...1000)
        block = .milliseconds(try settings.int("notifier.block.ms", default: Int(block.milliseconds), in: 10...60_000))
        claimIdle = .milliseconds(try settings.int("notifier.claim.idle.ms", default: Int(claimIdle.milliseconds), in: 10...86_400_000))
        maxAttempts = try settings.int("notifier.max.attempts", default: maxAttempts, in: 1...1000)
        initialBackoff = .milliseconds(try settings.int("notifier.backoff.initial.ms", default: Int(initialBackoff.milliseconds), in: 1...3_600_000))
        maxBackoff = .milliseconds(try settings.int("notifier.backoff.max.ms", default: Int(maxBackoff.milliseconds), in: 1...3_600_000))
        heartbeat = .milliseconds(try settings.int("bus.heartbeat.ms", default: Int(heartbeat.milliseconds), in: 500...600_000))
        streamKeep = try settings.int("bus.stream.keep", default: streamKeep, in: 100...Int.max)
        if maxBackoff < initialBackoff {
            throw SettingsError(key: "notifier.backoff.max.ms", message: "must be at least notifier.backoff.initial.ms (\(initialBackoff.milliseconds))")
        }
        if claimIdle <= requestTimeout + maxBackoff {
            throw SettingsError(
                key: "notifier.claim.idle.ms",
                message: "\(claimIdle.milliseconds) must exceed notifier.timeout.ms + notifier.backoff.max.ms "
                    + "(\((requestTimeout + maxBackoff).milliseconds)), or a retrying entry would be claimed by another replica"
            )
        }
    }

    /// An app id may be written as a JSON number in a configuration file.
    private static func identifier(_ settings: Settings, _ key: String) throws -> String? {
        if let text = settings.optionalString(key) { return text }
        return try settings.optionalInt(key).map(String.init)
    }

    private static func apiURL(_ text: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty, url.query == nil
        else {
            throw SettingsError(key: "pusher.api.url", message: "'\(text)' is not an http(s) URL such as https://api-eu.pusher.com")
        }
        return url
    }
}
