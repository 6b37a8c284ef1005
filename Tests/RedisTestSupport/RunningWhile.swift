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
