import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Runs a process's services in one `ServiceGroup` that stops gracefully on SIGTERM or SIGINT.
public enum ServiceRunner {
    /// Runs `services` until a signal; waits at most `shutdownTimeout` for them to finish their work. A second
    /// signal exits at once (``ForcedExit``).
    public static func run(_ services: [any Service], shutdownTimeout: Duration, logger: Logger) async throws {
        // The lifecycle's own debug lines describe every service in full; keep them out of debug logs.
        var lifecycleLogger = logger
        lifecycleLogger.logLevel = max(logger.logLevel, .info)
        var configuration = ServiceGroupConfiguration(
            services: ([ForcedExit()] + services).map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: lifecycleLogger
        )
        configuration.maximumGracefulShutdownDuration = shutdownTimeout
        try await ServiceGroup(configuration: configuration).run()
    }

    /// Reports a start-up failure on standard error and exits with status 1.
    public static func fail(_ name: String, _ error: any Error) -> Never {
        FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
        exit(1)
    }
}
