import Foundation
import Hummingbird
import Logging
import Redis
import ServiceLifecycle
import SignalBus

/// The whole of a receiver executable: read the configuration, set up logs and metrics, run one consumer
/// of the group (plus any extra services, such as the expiry sweep), serve health and metrics when
/// `METRICS_PORT` is set, and stop cleanly on SIGINT/SIGTERM. With ``HealthProbe/flag`` it checks the running
/// receiver's `/ready` instead.
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
        let probe = HealthProbe.isRequested(name: name)
        do {
            let settings = try await Settings.load()
            if probe {
                guard let port = try settings.optionalInt("metrics.port") else {
                    ServiceRunner.fail(name, ProbeUnavailable())
                }
                await HealthProbe.run(name: name, host: settings.string("metrics.host", default: "127.0.0.1"), port: port)
            }
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

/// `--probe` on a receiver without `metrics.port`: nothing serves `/ready`.
struct ProbeUnavailable: Error, CustomStringConvertible {
    var description: String { "metrics.port (METRICS_PORT) is not set, so no /ready is served to probe" }
}
