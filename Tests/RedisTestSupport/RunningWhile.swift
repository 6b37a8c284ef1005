import Logging
import ServiceLifecycle

/// Runs `services` concurrently while `body` runs, then cancels them and waits for them to return; an error
/// of `body` is rethrown after they stopped.
public func withServices(_ services: [@Sendable () async throws -> Void], _ body: () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        for service in services {
            tasks.addTask { try await service() }
        }
        do {
            try await body()
        } catch {
            tasks.cancelAll()
            try? await tasks.waitForAll()
            throw error
        }
        tasks.cancelAll()
        try await tasks.waitForAll()
    }
}

/// Runs `service` in a `ServiceGroup` while `body` runs, then shuts the group down gracefully and waits for
/// it; an error of `body` is rethrown after the group stopped.
/// - Returns: how long the graceful shutdown took.
@discardableResult
public func withGracefulService(_ service: some Service, logger: Logger, _ body: () async throws -> Void) async throws -> Duration {
    let group = ServiceGroup(services: [service], logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            try await body()
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return ContinuousClock.now - started
    }
}
