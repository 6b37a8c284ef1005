import Foundation
import Redis

/// Watches `signal:goal.ended` on Redis pub/sub from a thread of its own and tells the run state which
/// goal ended when.
enum CompletionWatcher {
    /// Starts the watcher thread; returns once it is subscribed.
    static func start(configuration: RedisConfiguration, prefix: String, state: RunState) async throws(ChainBenchError) {
        let marker = Array(#""goal_id":""#.utf8)
        let ownPrefix = Array("\(prefix)-".utf8)
        let failure: String? = await withCheckedContinuation { subscribed in
            let thread = Thread {
                let connection = RedisConnection(configuration: configuration)
                do {
                    _ = try connection.send(RedisCommand("SUBSCRIBE", "signal:goal.ended"))
                } catch {
                    subscribed.resume(returning: "cannot subscribe to signal:goal.ended: \(error)")
                    return
                }
                subscribed.resume(returning: nil)
                while !state.isFinished {
                    do {
                        guard let reply = try connection.receive(timeout: .milliseconds(100)),
                              let parts = reply.array, parts.count == 3, parts[0].string == "message",
                              case .bulk(let payload) = parts[2],
                              let goal = goalNumber(in: payload, marker: marker, prefix: ownPrefix), goal < state.goals else { continue }
                        state.ended(goal, at: monotonicNanoseconds())
                    } catch {
                        state.fail("lost the pub/sub connection watching signal:goal.ended: \(error)")
                    }
                }
            }
            thread.name = "bench-watcher"
            thread.start()
        }
        if let failure { throw ChainBenchError(failure) }
    }

    /// The number `n` of goal `<prefix>-n` in a goal.ended message's JSON, or `nil` for another run's goal.
    static func goalNumber(in payload: [UInt8], marker: [UInt8], prefix: [UInt8]) -> Int? {
        guard let start = payload.firstRange(of: marker)?.upperBound else { return nil }
        guard payload[start...].starts(with: prefix) else { return nil }
        var number = 0
        var index = start + prefix.count
        var digits = 0
        while index < payload.count, payload[index] >= 48, payload[index] <= 57 {
            number = number * 10 + Int(payload[index] - 48)
            index += 1
            digits += 1
        }
        guard digits > 0, index < payload.count, payload[index] == UInt8(ascii: "\"") else { return nil }
        return number
    }
}
