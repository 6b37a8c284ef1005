import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GoalDomain
import PusherWebhook
import ServiceRuntime

struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Send a correctly signed Pusher webhook for a goal's channel to the gateway."
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case occupy, vacate, join, leave

        var eventName: String {
            switch self {
            case .occupy: "channel_occupied"
            case .vacate: "channel_vacated"
            case .join: "member_added"
            case .leave: "member_removed"
            }
        }
    }

    @Argument(help: "occupy, vacate, join or leave.") var kind: Kind
    @Argument(help: "Goal id.") var goal: String
    @Option(help: "Event time, Unix seconds (default: now).") var at: Int64?
    @Option(help: "user_id of the event.") var user: String = "viewer"
    @Option(help: "Gateway base URL (default: http://<http.host>:<http.port>).") var url: String?
    @Flag(help: "Print a JSON object: event, channel, time_ms, status, response (the gateway's answer as text).") var json = false

    /// What `goalctl webhook --json` prints.
    struct Outcome: Encodable {
        let event: String
        let channel: String
        let timeMs: Int64
        let status: Int
        let response: String

        enum CodingKeys: String, CodingKey {
            case event, channel, timeMs = "time_ms", status, response
        }
    }

    func run() async throws {
        let environment = try await Environment.load()
        let settings = environment.settings
        let port = try settings.int("http.port", default: 8080)
        let base = url ?? "http://\(settings.string("http.host", default: "127.0.0.1")):\(port)"
        let timeMs = at.map { $0 * 1000 } ?? Int64(Clock.unixMilliseconds())
        let event = #"{"name":"\#(kind.eventName)","channel":"\#(GoalChannel.channel(of: goal))","user_id":"\#(user)"}"#
        let body = Array(#"{"time_ms":\#(timeMs),"events":[\#(event)]}"#.utf8)
        guard let endpoint = URL(string: base + "/notify/pusher") else { throw ValidationError("invalid --url \(base)") }
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let key = settings.optionalString("pusher.app.key"), let secret = settings.optionalString("pusher.app.secret") {
            request.setValue(key, forHTTPHeaderField: "X-Pusher-Key")
            request.setValue(WebhookSignature(appKey: key, appSecret: secret).signature(for: body), forHTTPHeaderField: "X-Pusher-Signature")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let answer = String(decoding: data, as: UTF8.self)
        if json {
            try JSONOutput.print(Outcome(event: kind.eventName, channel: GoalChannel.channel(of: goal), timeMs: timeMs, status: status, response: answer))
        } else {
            print("\(kind.eventName) \(GoalChannel.channel(of: goal)) at \(timeMs / 1000) → HTTP \(status) \(answer)")
        }
        if !(200..<300).contains(status) { throw ExitCode(1) }
    }
}
