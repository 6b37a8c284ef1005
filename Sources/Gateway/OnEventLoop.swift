import ServiceLifecycle

/// A service run with an event loop's executor as its task executor preference: the tasks it starts in its
/// task groups (the server's connections and their handlers) run on that loop.
struct OnEventLoop<Wrapped: Service>: Service {
    let wrapped: Wrapped
    let executor: EventLoopTaskExecutor

    init(_ wrapped: Wrapped, executor: EventLoopTaskExecutor) {
        self.wrapped = wrapped
        self.executor = executor
    }

    func run() async throws {
        try await withTaskExecutorPreference(executor) {
            try await wrapped.run()
        }
    }
}
