/// How a chain benchmark runs: where the stack is, how many goals, and at what pace.
public struct ChainBenchOptions: Sendable {
    /// How webhooks are paced.
    public enum Pace: Sendable, Equatable, CustomStringConvertible {
        /// At most `concurrency` chains in flight: a webhook is sent when a chain ends.
        case closedLoop(concurrency: Int)
        /// Webhooks at a fixed rate per second, whatever the stack does; latency counts from the scheduled
        /// send time, so a stack falling behind shows in the latency rather than slowing the load.
        case openLoop(rate: Double)

        public var description: String {
            switch self {
            case .closedLoop(let concurrency): "closed-loop, \(concurrency) chains in flight"
            case .openLoop(let rate): "open-loop, \(Int(rate)) chains/s offered"
            }
        }
    }

    /// The gateway's host.
    public var gatewayHost = "127.0.0.1"
    /// The gateway's port.
    public var gatewayPort = 8080
    /// The Pusher app key the gateway expects (`X-Pusher-Key`); unsigned webhooks when `nil`.
    public var appKey: String?
    /// The Pusher app secret the webhooks are signed with; unsigned webhooks when `nil`.
    public var appSecret: String?
    /// Goals driven through the chain, each by one channel_vacated.
    public var goals = 20_000
    /// Idle goals stored before the run (with session and escrow), to measure the cost of a large keyspace.
    public var preload = 0
    /// The pace of the webhooks.
    public var pace: Pace = .closedLoop(concurrency: 64)
    /// Keep-alive HTTP connections to the gateway, one sender thread each.
    public var connections = 4
    /// channel_vacated events per webhook (Pusher batches up to about 20).
    public var eventsPerWebhook = 1
    /// Prefix of the goal ids, unique per run so runs never meet each other's goals.
    public var prefix: String
    /// The longest the run may take before it is reported as failed.
    public var timeout: Duration = .seconds(300)

    /// Options for a run whose goals are named `<prefix>-<n>`.
    public init(prefix: String) {
        self.prefix = prefix
    }
}
