import Dispatch
import Histogram
import Synchronization

/// What the sender threads and the completion watcher share during a run.
final class RunState: Sendable {
    struct Progress {
        /// When each goal's webhook was sent (or, open-loop, scheduled), monotonic nanoseconds; 0 = not yet.
        var sentAt: [UInt64]
        /// goal.ended messages seen per goal.
        var ended: [UInt8]
        var completed = 0
        var webhooks = 0
        var firstSent: UInt64 = 0
        var lastEnded: UInt64 = 0
        var failure: String?
        /// Latency from webhook to goal.ended, microseconds.
        var latency = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    let goals: Int
    let progress: Mutex<Progress>
    /// The next goal a sender takes.
    let nextGoal = Atomic<Int>(0)
    /// Set when the run is over (done, failed or timed out): threads stop.
    let finished = Atomic<Bool>(false)
    /// Closed-loop: one permit per chain allowed in flight; `nil` open-loop.
    let permits: DispatchSemaphore?
    /// Senders take their permits one at a time, so two senders never hold part of what each needs.
    let permitLock = Mutex<Void>(())
    /// The most permits senders can be waiting for at once: what a failure must release.
    private let waiters: Int

    init(goals: Int, concurrency: Int?, senders: Int) {
        self.goals = goals
        self.waiters = senders
        progress = Mutex(Progress(sentAt: Array(repeating: 0, count: goals), ended: Array(repeating: 0, count: goals)))
        permits = concurrency.map { DispatchSemaphore(value: $0) }
    }

    /// Records that the webhook of `goals` went out at `time` (before it is sent: goal.ended may come first).
    func sent(_ goals: Range<Int>, at time: UInt64) {
        progress.withLock { state in
            for goal in goals { state.sentAt[goal] = time }
            if state.firstSent == 0 { state.firstSent = time }
            state.webhooks += 1
        }
    }

    /// Records a goal.ended seen for `goal` at `time`.
    func ended(_ goal: Int, at time: UInt64) {
        let first = progress.withLock { state -> Bool in
            state.ended[goal] &+= 1
            guard state.ended[goal] == 1 else { return false }
            state.completed += 1
            state.lastEnded = time
            if state.sentAt[goal] > 0 {
                _ = state.latency.record((time &- min(time, state.sentAt[goal])) / 1000)
            }
            return true
        }
        if first { permits?.signal() }
    }

    /// Ends the run with a failure; the first one is kept.
    func fail(_ why: String) {
        progress.withLock { state in
            if state.failure == nil { state.failure = why }
        }
        finished.store(true, ordering: .releasing)
        // Wake senders waiting for permits so they see the end.
        if let permits { for _ in 0..<waiters { permits.signal() } }
    }

    var isFinished: Bool { finished.load(ordering: .acquiring) }
}

/// Monotonic time in nanoseconds.
func monotonicNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
