/// A receiver, declared: its name, the topics it listens to, a guard that returns early with a reason, and
/// an effect.
///
/// The guard runs first and only reads: a non-`nil` reason means the receiver returns for this message, as the
/// seed's "**returned**" does, and the trace records why. Otherwise the effect runs and asks for writes and
/// emissions through the context. A receiver that must still record something when it returns (an event
/// time, so that an older event arriving later is recognised) says so in `onReturn`, never in its guard: the
/// bus refuses a guard that writes.
public struct Receiver: Sendable {
    /// Decides whether the receiver acts; returns the reason it does not.
    ///
    /// Receivers are synchronous: they run on their consumer's own thread, where loading a hash is a
    /// blocking round trip that occupies no thread of Swift's cooperative pool.
    public typealias Guard = @Sendable (ReceiverContext) throws -> String?
    /// Asks for the receiver's writes and emissions.
    public typealias Effect = @Sendable (ReceiverContext) throws -> Void
    /// What a receiver records when it returns, given the reason its guard gave.
    public typealias ReturnEffect = @Sendable (ReceiverContext, _ reason: String) throws -> Void

    /// The receiver's name, as in the seed (`karaoke_control`).
    public let name: String
    /// The topics it listens to.
    public let topics: [Topic]
    let guardCheck: Guard
    let effect: Effect
    let onReturn: ReturnEffect?

    /// Declares a receiver.
    /// - Parameters:
    ///   - name: the seed's name for it.
    ///   - topics: the signals and tasks it receives.
    ///   - guard: returns the reason to return early, or `nil` to act.
    ///   - effect: what it does when it acts.
    ///   - onReturn: what it still records when it returns, if anything.
    public init(_ name: String, on topics: [Topic], guard: @escaping Guard, effect: @escaping Effect = { _ in }, onReturn: ReturnEffect? = nil) {
        self.name = name
        self.topics = topics
        self.guardCheck = `guard`
        self.effect = effect
        self.onReturn = onReturn
    }
}
