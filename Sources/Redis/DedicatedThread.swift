/// A thread of its own on which long-running blocking work runs (a consumer's loop), so that it never
/// occupies a thread of Swift's cooperative pool.
public actor DedicatedThread {
    private let executor: ThreadExecutor

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Starts the thread.
    /// - Parameter name: the thread's name, shown by debuggers and `top -H`.
    public init(name: String) {
        executor = ThreadExecutor(name: name)
    }

    /// Runs `body` on the thread and returns its result.
    public func run<Result: Sendable>(_ body: () throws -> Result) rethrows -> Result {
        try body()
    }
}
