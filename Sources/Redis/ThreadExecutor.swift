import Foundation

/// A serial executor that runs its jobs on one dedicated thread of its own.
///
/// Actors that make blocking calls (every hiredis call blocks) use it as their executor, so the blocking
/// happens on this thread and never on Swift's cooperative pool. The thread ends when the executor is released.
public final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    // @unchecked Sendable: the only mutable state is `queue`, whose every access holds its `NSCondition`.
    private let queue: JobQueue

    /// Starts the thread.
    /// - Parameter name: the thread's name, shown by debuggers and `top -H`.
    public init(name: String) {
        queue = JobQueue()
        let queue = self.queue
        let thread = Thread { queue.runUntilStopped() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit {
        queue.stop()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        queue.push(UnownedJob(job), executor: asUnownedSerialExecutor())
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}

/// The jobs waiting for a ``ThreadExecutor``'s thread.
private final class JobQueue: @unchecked Sendable {
    // @unchecked Sendable: `pending` and `stopped` are only touched while `condition` is locked.
    private let condition = NSCondition()
    private var pending: [(UnownedJob, UnownedSerialExecutor)] = []
    private var stopped = false

    func push(_ job: UnownedJob, executor: UnownedSerialExecutor) {
        condition.lock()
        pending.append((job, executor))
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    func runUntilStopped() {
        var batch: [(UnownedJob, UnownedSerialExecutor)] = []
        while true {
            condition.lock()
            while pending.isEmpty && !stopped { condition.wait() }
            if pending.isEmpty && stopped {
                condition.unlock()
                return
            }
            swap(&batch, &pending)
            condition.unlock()
            for (job, executor) in batch { job.runSynchronously(on: executor) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
