/// What a consumer's loop does after a turn failed (``StreamConsumerCore/turnFailed(_:)``).
public enum ConsumerLoopFailure: Sendable, Hashable {
    /// A group is missing (Redis lost its data, or someone destroyed it): it is created again at the next
    /// turn, at once.
    case groupMissing
    /// Anything else (Redis unreachable, an error reply): wait this long, then turn again.
    case retry(after: Duration)
}
