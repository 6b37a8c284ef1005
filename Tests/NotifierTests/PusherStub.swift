import Crypto
import Foundation
import Hummingbird
import Logging
import RedisTestSupport
import Synchronization

/// What the stub answers to one request.
struct PlannedAnswer: Sendable {
    var status: Int
    var body: String = "{}"
    /// How long the stub waits before answering (longer than the notifier's timeout: a timeout).
    var delay: Duration = .zero
}

/// One request the stub received.
struct ReceivedRequest: Sendable {
    /// The request path.
    let path: String
    /// The query parameters, percent-decoded.
    let query: [String: String]
    /// The raw body.
    let body: [UInt8]
    /// Why the signature check failed; `nil` when the request is signed correctly.
    let authProblem: String?
    /// The status the stub answered.
    let status: Int
    /// When it arrived.
    let at: ContinuousClock.Instant

    /// The body's `name`, `channels` and `data` (which must be a string), or `nil` when it is not that shape.
    var event: (name: String, channels: [String], data: String)? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let name = object["name"] as? String, let channels = object["channels"] as? [String],
              let data = object["data"] as? String, object.count == 3
        else { return nil }
        return (name, channels, data)
    }
}

/// A local stand-in for Pusher's HTTP API: checks every request's signature the way Pusher does, records
/// it, and answers from a plan (200 `{}` once the plan is used up).
final class PusherStub: Sendable {
    let appID = "4242"
    let appKey = "stub-key"
    let appSecret = "stub-secret-7f3a"
    let port: Int

    private struct State {
        var plan: [PlannedAnswer] = []
        var channelPlans: [String: [PlannedAnswer]] = [:]
        var received: [ReceivedRequest] = []
        var running = false
        /// Why the server stopped before it ran (its port was taken meanwhile).
        var startFailure: String?
    }
    private let state = Mutex(State())

    private init(port: Int) {
        self.port = port
    }

    /// `http://127.0.0.1:<port>`.
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Queues answers for the next requests, in order; with `channel`, only for requests to that channel.
    func plan(_ answers: [PlannedAnswer], channel: String? = nil) {
        state.withLock { state in
            if let channel { state.channelPlans[channel, default: []] += answers } else { state.plan += answers }
        }
    }

    /// Every request so far, in arrival order.
    var received: [ReceivedRequest] { state.withLock { $0.received } }

    private func answer(path: String, rawQuery: String, body: [UInt8]) -> PlannedAnswer {
        let query = PusherAuthCheck.parseQuery(rawQuery)
        let problem = PusherAuthCheck.problem(
            method: "POST", path: path, rawQuery: rawQuery, body: body,
            appKey: appKey, appSecret: appSecret, now: Int64(Date().timeIntervalSince1970)
        )
        let channel = ReceivedRequest(path: path, query: query, body: body, authProblem: nil, status: 0, at: .now).event?.channels.first
        return state.withLock { state in
            var answer = PlannedAnswer(status: 200)
            if let problem {
                answer = PlannedAnswer(status: 401, body: #"{"error":"\#(problem)"}"#)
            } else if let channel, let planned = state.channelPlans[channel], !planned.isEmpty {
                answer = state.channelPlans[channel]!.removeFirst()
            } else if !state.plan.isEmpty {
                answer = state.plan.removeFirst()
            }
            if path != "/apps/\(appID)/events" { answer = PlannedAnswer(status: 404, body: "unknown app") }
            state.received.append(ReceivedRequest(path: path, query: query, body: body, authProblem: problem, status: answer.status, at: .now))
            return answer
        }
    }

    /// Runs a stub on a free loopback port while `body` runs. A port found free can be taken by a parallel
    /// test before the stub binds it: the stub then starts again on another.
    static func with(_ body: (PusherStub) async throws -> Void) async throws {
        var failures: [String] = []
        for _ in 0..<5 {
            let stub = PusherStub(port: try FreePort.find())
            if try await stub.serve(body) { return }
            failures.append(stub.state.withLock { $0.startFailure } ?? "unknown")
        }
        throw TestTimeout(description: "the Pusher stub could not start: \(failures.joined(separator: "; "))")
    }

    /// Serves while `body` runs; `false` (and `body` not run) when the server could not start.
    private func serve(_ body: (PusherStub) async throws -> Void) async throws -> Bool {
        let stub = self
        let router = Router()
        router.post("/apps/:app/events") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let answer = stub.answer(path: request.uri.path, rawQuery: request.uri.query ?? "", body: Array(buffer.readableBytesView))
            if answer.delay > .zero { try await Task.sleep(for: answer.delay) }
            return Response(
                status: HTTPResponse.Status(code: answer.status),
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: answer.body))
            )
        }
        var quiet = Logger(label: "pusher-stub")
        quiet.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: stub.port)),
            onServerRunning: { _ in stub.state.withLock { $0.running = true } },
            logger: quiet
        )
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                do {
                    try await app.runService(gracefulShutdownSignals: [])
                } catch {
                    stub.state.withLock { $0.startFailure = "\(error)" }
                }
            }
            do {
                try await eventually("the Pusher stub to listen", within: .seconds(10)) {
                    stub.state.withLock { $0.running || $0.startFailure != nil }
                }
                guard stub.state.withLock({ $0.running }) else {
                    tasks.cancelAll()
                    return false
                }
                try await body(stub)
            } catch {
                tasks.cancelAll()
                try? await tasks.waitForAll()
                throw error
            }
            tasks.cancelAll()
            try? await tasks.waitForAll()
            return true
        }
    }
}
