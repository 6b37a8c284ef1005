import NIOCore

/// Runs Swift tasks on one NIO event loop.
///
/// The gateway's server runs with this as its task executor preference, on a group of that one loop: a
/// request's handler then runs on the thread that read the request and writes the response there, with no
/// hop to Swift's global executor and back for every webhook.
final class EventLoopTaskExecutor: TaskExecutor {
    /// The loop every job runs on.
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
