import ServiceRuntime

/// The gateway's configuration.
public struct GatewaySettings: Sendable {
    /// Listen address.
    public var host = "127.0.0.1"
    /// Listen port.
    public var port = 8080
    /// Pusher app key expected in `X-Pusher-Key`.
    public var appKey: String?
    /// Pusher app secret for `X-Pusher-Signature`; `nil` only with ``allowUnsigned``.
    public var appSecret: String?
    /// Whether webhooks without a signature are accepted.
    public var allowUnsigned = false
    /// How far a webhook's time may be from the receive time.
    public var timeWindow: Duration = .seconds(600)
    /// The largest body accepted, in bytes.
    public var bodyLimit = 1 << 20
    /// How long an event is remembered to recognise Pusher's retries, in seconds (≥ 600).
    public var dedupSeconds = 900

    /// Creates the defaults.
    public init() {}

    /// Reads the settings; refuses a configuration that would accept unsigned webhooks implicitly.
    public init(settings: Settings) throws {
        host = settings.string("http.host", default: host)
        port = try settings.int("http.port", default: port, in: 0...65535)
        appKey = settings.optionalString("pusher.app.key")
        appSecret = settings.optionalString("pusher.app.secret")
        allowUnsigned = try settings.bool("allow.unsigned.webhooks", default: false)
        timeWindow = .seconds(try settings.int("webhook.window.seconds", default: 600, in: 1...86_400))
        bodyLimit = try settings.int("webhook.body.limit", default: bodyLimit, in: 1024...(64 << 20))
        dedupSeconds = try settings.int("webhook.dedup.seconds", default: dedupSeconds, in: 600...86_400 * 7)
        if appSecret == nil && !allowUnsigned {
            throw SettingsError(
                key: "pusher.app.secret",
                message: "no Pusher app secret is configured; set PUSHER_APP_SECRET, or ALLOW_UNSIGNED_WEBHOOKS=true to accept unsigned webhooks"
            )
        }
        if appSecret != nil && appKey == nil {
            throw SettingsError(key: "pusher.app.key", message: "PUSHER_APP_KEY is required with PUSHER_APP_SECRET")
        }
    }
}
