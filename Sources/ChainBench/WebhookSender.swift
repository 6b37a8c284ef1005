import Foundation
import PusherWebhook
import Synchronization

/// The sender threads: each owns one keep-alive connection to the gateway and posts channel_vacated
/// webhooks for the next goals, paced closed-loop (permits) or open-loop (a schedule).
struct WebhookSender: Sendable {
    let options: ChainBenchOptions
    /// `time_ms` of every vacate: 400 s after the goals' timers started.
    let vacatedAtMs: Int64
    let state: RunState

    /// Starts `options.connections` sender threads.
    func start(at start: UInt64) {
        for number in 0..<options.connections {
            let thread = Thread { run(start: start) }
            thread.name = "bench-sender-\(number)"
            thread.start()
        }
    }

    private func run(start: UInt64) {
        let connection = HTTPConnection(host: options.gatewayHost, port: options.gatewayPort)
        let perWebhook = options.eventsPerWebhook
        while !state.isFinished {
            let first = state.nextGoal.add(perWebhook, ordering: .relaxed).oldValue
            guard first < state.goals else { return }
            let goals = first..<min(first + perWebhook, state.goals)
            let sentAt: UInt64
            switch options.pace {
            case .closedLoop:
                state.permitLock.withLock { _ in
                    for _ in goals { state.permits?.wait() }
                }
                sentAt = monotonicNanoseconds()
            case .openLoop(let rate):
                let scheduled = start + UInt64(Double(first) / rate * 1e9)
                let now = monotonicNanoseconds()
                if scheduled > now { usleep(useconds_t((scheduled - now) / 1000)) }
                sentAt = scheduled
            }
            if state.isFinished { return }
            state.sent(goals, at: sentAt)
            do {
                let body = webhook(goals)
                let (status, answer) = try connection.post(path: "/notify/pusher", headers: headers(for: body), body: body)
                let text = String(decoding: answer, as: UTF8.self)
                guard status == 200, text.contains(#""accepted":\#(goals.count)"#) else {
                    state.fail("the gateway answered \(status) \(text) to the webhook of goals \(goals)")
                    return
                }
            } catch {
                state.fail("\(error)")
                return
            }
        }
    }

    /// One Pusher webhook vacating `goals`' channels.
    func webhook(_ goals: Range<Int>) -> [UInt8] {
        let events = goals.map { #"{"name":"channel_vacated","channel":"presence-enc-goal@\#(options.prefix)-\#($0)","user_id":"v\#($0)"}"# }
        return Array(#"{"time_ms":\#(vacatedAtMs),"events":[\#(events.joined(separator: ","))]}"#.utf8)
    }

    private func headers(for body: [UInt8]) -> [(String, String)] {
        guard let key = options.appKey, let secret = options.appSecret else { return [] }
        return [("X-Pusher-Key", key), ("X-Pusher-Signature", WebhookSignature(appKey: key, appSecret: secret).signature(for: body))]
    }
}
