import GoalDomain
import Logging
import Notifier
import Redis
import ServiceRuntime
import SignalBus

/// The whole of the `gateway` executable: configuration, logs, metrics, the HTTP application, the sender of
/// `outbox:pusher` notifications (when Pusher credentials are configured), and a clean stop on SIGINT/SIGTERM.
/// With ``HealthProbe/flag`` it checks the running gateway's `/ready` instead.
public enum GatewayMain {
    /// Runs the gateway; exits the process with status 1 on a configuration error.
    public static func run() async {
        let probe = HealthProbe.isRequested(name: "gateway")
        do {
            let settings = try await Settings.load()
            let gateway = try GatewaySettings(settings: settings)
            if probe { await HealthProbe.run(name: "gateway", host: gateway.host, port: gateway.port) }
            let logger = try LogSetup.bootstrap(service: "gateway", settings: settings)
            let registry = MetricsSetup.bootstrap(valueBuckets: WebhookMetrics.valueBuckets)
            let redis = try settings.redis()
            let bus = try settings.bus(cluster: redis.isCluster)
            logger.info("starting", metadata: [
                "listen": "\(gateway.host):\(gateway.port)", "redis": .string(redis.description), "partitions": "\(bus.partitions)",
                "config": .string(settings.file ?? "(defaults)"),
                "signed": .stringConvertible(gateway.appSecret != nil), "unsigned.allowed": .stringConvertible(gateway.allowUnsigned),
            ])
            let backpressure = Backpressure()
            let monitor = BacklogMonitor(
                redis: redis, streams: BusStreams.all(bus), trimmed: BusStreams.webhook(bus), configuration: bus, backpressure: backpressure,
                logger: logger
            )
            let app = try GatewayApp.build(settings: gateway, redis: redis, bus: bus, backpressure: backpressure, registry: registry, logger: logger)
            let notifier = try PusherNotifier.services(settings: settings, redis: redis, logger: logger)
            try await ServiceRunner.run([monitor, app] + notifier, shutdownTimeout: bus.shutdownTimeout, logger: logger)
            logger.info("stopped")
        } catch {
            ServiceRunner.fail("gateway", error)
        }
    }
}
