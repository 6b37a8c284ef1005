import Foundation

/// How ``PusherNotifier`` drains the outbox to Pusher's HTTP API.
///
/// Only the app's credentials are required; every other value has a default fit for production. The secret
/// never appears in ``description``, so the configuration can be logged.
public struct NotifierConfiguration: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
    /// Pusher's API base URL: `https://api-<cluster>.pusher.com`, or an override (a proxy, a test server).
    public var baseURL: URL
    /// The Pusher app id; requests go to `POST /apps/<appID>/events`.
    public var appID: String
    /// The Pusher app key, sent as `auth_key`.
    public var appKey: String
    /// The Pusher app secret that signs requests; never logged.
    public var appSecret: String

    /// The stream drained: `outbox:pusher`.
    public var stream = "outbox:pusher"
    /// The consumer group on ``stream``: `notifier`.
    public var group = "notifier"
    /// The hash where the last error of each retried entry is kept (field `"<stream> <entry>"`).
    public var errorsKey = "errors:notifier"
    /// Whether the outbox is on a Redis Cluster: then the errors hash (``placeOnCluster()``) and the dead
    /// letters live in the stream's slot.
    public private(set) var cluster = false

    /// How long one HTTP request may take, connection included.
    public var requestTimeout: Duration = .seconds(5)
    /// Most entries read per `XREADGROUP`.
    public var batchSize = 16
    /// How long one `XREADGROUP` blocks; also bounds how long a stop waits for the read.
    public var block: Duration = .seconds(2)
    /// How long an entry stays pending with a consumer before another consumer claims it. Must exceed
    /// ``requestTimeout`` + ``maxBackoff``, as the owner renews its claim before every retry.
    public var claimIdle: Duration = .seconds(30)
    /// How often the notifier refreshes its heartbeat (besides its own beat), takes over stopped replicas,
    /// looks for entries to claim and trims the outbox.
    public var recoveryInterval: Duration = .seconds(1)
    /// How long a replica's heartbeat lives without being refreshed (`bus.heartbeat.ms`): a live replica takes
    /// over the entries of one whose heartbeat is gone, and removes it from the group.
    public var heartbeat: Duration = .seconds(3)
    /// How many of the outbox's newest entries are kept beyond what every group on it acknowledged
    /// (`bus.stream.keep`).
    public var streamKeep = 10_000
    /// Attempts (deliveries) after which an entry that keeps failing moves to `dead:<stream>`.
    public var maxAttempts = 8
    /// The wait before the first retry; it doubles with every attempt.
    public var initialBackoff: Duration = .milliseconds(100)
    /// The longest wait between two attempts.
    public var maxBackoff: Duration = .seconds(10)

    /// Creates a configuration for the app on Pusher's cluster `cluster` (`mt1`, `eu`, `ap1`, …).
    public init(appID: String, appKey: String, appSecret: String, cluster: String = "mt1") {
        self.init(baseURL: Self.clusterURL(cluster), appID: appID, appKey: appKey, appSecret: appSecret)
    }

    /// Creates a configuration that sends to `baseURL` (scheme, host and port; a path is kept as a prefix).
    public init(baseURL: URL, appID: String, appKey: String, appSecret: String) {
        self.baseURL = baseURL
        self.appID = appID
        self.appKey = appKey
        self.appSecret = appSecret
    }

    /// `https://api-<cluster>.pusher.com`.
    public static func clusterURL(_ cluster: String) -> URL {
        URL(string: "https://api-\(cluster).pusher.com")!
    }

    /// Places the errors hash (`errors:notifier:{<stream>}`) and the dead letters (`dead:{<stream>}`) in the
    /// stream's hash slot, as a Redis Cluster needs for the one script that moves an entry to them.
    public mutating func placeOnCluster() {
        cluster = true
        errorsKey = "\(errorsKey):{\(stream)}"
    }

    /// The request path, which is also what is signed: `/apps/<appID>/events`.
    public var eventsPath: String { "/apps/\(appID)/events" }

    /// The wait after the failed attempt number `attempt` (1-based): ``initialBackoff`` doubled per attempt,
    /// at most ``maxBackoff``.
    public func backoff(afterAttempt attempt: Int) -> Duration {
        let doublings = max(0, min(attempt - 1, 40))
        var delay = initialBackoff
        for _ in 0..<doublings {
            delay *= 2
            if delay >= maxBackoff { return maxBackoff }
        }
        return min(delay, maxBackoff)
    }

    /// Everything but the secret, for `dump` and debuggers.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "baseURL": baseURL, "appID": appID, "appKey": appKey, "appSecret": "<redacted>", "stream": stream, "group": group,
            "requestTimeout": requestTimeout, "batchSize": batchSize, "block": block, "claimIdle": claimIdle,
            "maxAttempts": maxAttempts, "initialBackoff": initialBackoff, "maxBackoff": maxBackoff,
            "heartbeat": heartbeat, "streamKeep": streamKeep,
        ], displayStyle: .struct)
    }

    /// Everything but the secret.
    public var description: String {
        "NotifierConfiguration(url: \(baseURL.absoluteString), app: \(appID), key: \(appKey), secret: <redacted>, "
            + "stream: \(stream), group: \(group), timeout: \(requestTimeout), maxAttempts: \(maxAttempts))"
    }
}
