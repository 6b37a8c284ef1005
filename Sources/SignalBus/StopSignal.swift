import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Tells a consumer running on its own thread to stop after the batch in hand; raised from the service's
/// graceful-shutdown or cancellation handler.
final class StopSignal: Sendable {
    private let raised = Atomic<Bool>(false)

    /// Asks the consumer to stop.
    func raise() { raised.store(true, ordering: .releasing) }

    /// Whether the consumer was asked to stop.
    var isRaised: Bool { raised.load(ordering: .acquiring) }

    /// Sleeps the calling thread for `duration`, waking early when the signal is raised.
    func wait(upTo duration: Duration) {
        let end = ContinuousClock.now + duration
        while !isRaised, ContinuousClock.now < end {
            usleep(10_000)
        }
    }
}
