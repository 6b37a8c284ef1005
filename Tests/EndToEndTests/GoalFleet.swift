import GoalDomain
import Redis
import RedisTestSupport
import Testing

/// Numbered exclusive goals `<prefix>-<n>` (target 360 s, 100 held in escrow) and the webhooks that drive
/// them, for the tests that push many goals through the stack.
struct GoalFleet {
    let prefix: String
    let count: Int

    /// Creates every goal of the fleet.
    func create(_ redis: RedisClient) async throws {
        let store = GoalStore(redis: redis)
        for index in 0..<count {
            var spec = GoalSpec(id: "\(prefix)-\(index)")
            spec.amount = 100
            try await store.create(spec)
        }
    }

    /// Creates every goal of the fleet on `stack`, occupies them all at `t` (webhooks of 20 events) and waits
    /// until karaoke has started every timer.
    func startTimers(on stack: Stack, at t: Int64) async throws {
        let redis = stack.client()
        try await create(redis)
        for start in stride(from: 0, to: count, by: 20) {
            let (status, answer) = try await stack.post(webhook("channel_occupied", goals: start..<min(start + 20, count), at: t))
            #expect(status == 200, "occupy webhook answered \(status): \(answer)")
        }
        try await stack.waitFor("every timer to start") { try await isSettled(redis, [("signal:channel_occupied", "karaoke")]) }
    }

    /// One webhook body with an event `name` for each of `goals` (by number), as Pusher batches them.
    func webhook(_ name: String, goals: some Sequence<Int>, at seconds: Int64) -> [UInt8] {
        let events = goals.map { #"{"name":"\#(name)","channel":"presence-enc-goal@\#(prefix)-\#($0)","user_id":"v\#($0)"}"# }
        return Array(#"{"time_ms":\#(seconds * 1000),"events":[\#(events.joined(separator: ","))]}"#.utf8)
    }
}
