import Foundation
import Hummingbird
import Logging
import Redis
import ServiceLifecycle
import SignalBus

/// The whole of a receiver executable: read the configuration, set up logs and metrics, run one consumer
/// of the group (plus any extra services, such as the expiry sweep), serve health and metrics when
/// `METRICS_PORT` is set, and stop cleanly on SIGINT/SIGTERM.
public enum ReceiverMain {
    /// Runs the receiver executable `name`; exits the process with status 1 on a configuration error.
    /// - Parameters:
    ///   - name: the executable and group name.
    ///   - makeGroup: builds the group from the settings.
    ///   - extraServices: more services to run beside the consumer.
    public static func run(
        name: String,
        makeGroup: (Settings) throws -> ReceiverGroup,
        extraServices: (Settings, RedisEndpoint, BusConfiguration, Logger) throws -> [any Service] = { _, _, _, _ in [] }
    ) async {
        do {
            let settings = try await Settings.load()
            let logger = try LogSetup.bootstrap(service: name, settings: settings)
            let registry = MetricsSetup.bootstrap()
            let redis = try settings.redis()
            let bus = try settings.bus(cluster: redis.isCluster)
            let group = try makeGroup(settings)
            var services: [any Service] = [GroupConsumer(group: group, redis: redis, configuration: bus, logger: logger)]
            services += try extraServices(settings, redis, bus, logger)
            if let port = try settings.optionalInt("metrics.port") {
                let router = Router()
                HealthRoutes.add(to: router, redis: try redis.makeRunner(name: "\(name)-health"), registry: registry)
                services.append(Application(
                    router: router,
                    configuration: .init(address: .hostname(settings.string("metrics.host", default: "127.0.0.1"), port: port)),
                    logger: logger
                ))
            }
            logger.info("starting", metadata: [
                "redis": .string(redis.description), "partitions": "\(bus.partitions)", "config": .string(settings.file ?? "(defaults)"),
                "streams": .string(group.topics.map(\.key).joined(separator: ",")),
            ])
            try await ServiceRunner.run(services, shutdownTimeout: bus.shutdownTimeout, logger: logger)
            logger.info("stopped")
        } catch {
            ServiceRunner.fail(name, error)
        }
    }
}
